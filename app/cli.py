"""The `netwright` entry point: the designer window, or a headless sub-command.

Only `gui` (and no command at all) imports Qt; every other command goes to the
engine's command line untouched, so it runs on a server with no display.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] == "gui" or (args[0].endswith(".json") and len(args) >= 1):
        from app.gui import main as gui_main

        return gui_main(args[1:] if args and args[0] == "gui" else args)
    from engine.cli import main as engine_main

    return engine_main(args)


if __name__ == "__main__":
    sys.exit(main())
