"""Where a project's runs are recorded: beside the project, or in the user's data folder.

``NAME.runs/`` sits beside ``NAME.netwright.json`` so that the history travels
with the project (copy the folder, and its runs come along). A bundled example
must never be written, and a project not saved yet (the window's copy of an
example) has no folder of its own: their runs go to the user's data folder,
``<data>/runs/NAME.runs/``, the same place from the window and from the command
line whatever the current folder is, so `netwright runs` on an example shows
the runs the window made of it. The data folder is Qt's AppDataLocation for
Netwright (the recovery copies live there too), worked out here without Qt;
``$NETWRIGHT_DATA_DIR`` replaces it (tests, a shared lab folder).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from engine.project import project_stem
from engine.resources import RESOURCES

RUNS_SUFFIX = ".runs"
DATA_VARIABLE = "NETWRIGHT_DATA_DIR"


def data_folder() -> Path:
    """Netwright's folder for the user's data (``~/.local/share/Netwright/Netwright`` on
    Linux), or ``$NETWRIGHT_DATA_DIR``."""
    chosen = os.environ.get(DATA_VARIABLE)
    if chosen:
        return Path(chosen)
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "Netwright" / "Netwright"


def runs_folder(project_path: Path | None, name: str) -> Path:
    """The history folder of the project at `project_path` (None: not saved yet) called
    `name`."""
    if project_path is not None and not in_program(project_path):
        parent = project_path.resolve().parent
        if os.access(parent, os.W_OK):
            return parent / (project_stem(project_path) + RUNS_SUFFIX)
    stem = project_stem(project_path) if project_path is not None else name
    return data_folder() / "runs" / (safe_name(stem) + RUNS_SUFFIX)


def in_program(path: Path) -> bool:
    """Whether `path` is one of the program's own files (a bundled example)."""
    return RESOURCES in path.resolve().parents


def safe_name(name: str) -> str:
    """A project name as a folder name: letters, digits, ``-``, ``_`` and ``.``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "untitled"
    return cleaned[:80]
