"""`python -m engine ARGS`: the headless command line, without the `netwright` script.

The training launcher starts torchrun's ranks this way (`torchrun -m engine train ...`),
so it works from any environment where the engine imports, installed or not.
"""

from __future__ import annotations

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
