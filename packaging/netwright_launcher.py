"""Entry script frozen by PyInstaller: the same `netwright` command as the console script."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # DataLoader workers in a frozen app
    sys.exit(main())
