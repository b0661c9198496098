"""Autosave and crash recovery: a few seconds of edits is the most a crash can cost.

Each open window keeps a recovery copy of its project in the recovery folder
(``AppDataLocation/recovery``, or ``$NETWRIGHT_RECOVERY_DIR``): a project file
named by a random id, and a small JSON sidecar saying which file it belongs to,
the project's name, when it was written and which process wrote it. The copy is
written atomically a few seconds after the last edit (a single-shot timer that
every edit restarts) and when training starts, never over the user's own file.
It disappears when the project is saved or the window closes cleanly; what is
left at the next start belonged to a process that died, and is offered back.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.atomic import atomic_write_text
from engine.project import SUFFIX, Project, ProjectError, load_project

log = logging.getLogger("netwright.recovery")

AUTOSAVE_DELAY_MS = 3000
SIDECAR_SUFFIX = ".recovery.json"
FOLDER_VARIABLE = "NETWRIGHT_RECOVERY_DIR"

# Recovery objects alive in this process, by id: their files are not orphans.
_LIVE: dict[str, weakref.ref[Recovery]] = {}
# Windows opened to restore a second recovered project: kept alive here.
if TYPE_CHECKING:
    from app.main_window import MainWindow

_RESTORED_WINDOWS: list[MainWindow] = []


def recovery_folder() -> Path:
    """Where recovery copies live: ``$NETWRIGHT_RECOVERY_DIR`` or the app's data folder."""
    chosen = os.environ.get(FOLDER_VARIABLE)
    if chosen:
        return Path(chosen)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".netwright") / "recovery"


@dataclass(frozen=True)
class RecoveryEntry:
    """One recovery copy on disk, as the restore offer shows it."""

    project_file: Path
    sidecar: Path
    name: str
    original: Path | None
    saved_at: float
    pid: int | None

    @property
    def id(self) -> str:
        return self.project_file.name[: -len(SUFFIX)]

    def when(self) -> str:
        return datetime.fromtimestamp(self.saved_at).strftime("%Y-%m-%d %H:%M:%S")

    def describe(self) -> str:
        where = str(self.original) if self.original else "never saved (no file yet)"
        return f"Project: {self.name}\nFile: {where}\nAutosaved: {self.when()}"

    def load(self) -> Project:
        """The recovered project, pointing at its original file (ProjectError if unreadable)."""
        project = load_project(self.project_file)
        project.path = self.original
        return project

    def delete(self) -> None:
        for path in (self.project_file, self.sidecar):
            path.unlink(missing_ok=True)


class Recovery(QObject):
    """Keeps one window's recovery copy current; `autosave_now` for the training controller."""

    def __init__(self, window: MainWindow, folder: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.folder = Path(folder) if folder is not None else recovery_folder()
        self.id = uuid.uuid4().hex[:12]
        self.project_file = self.folder / f"{self.id}{SUFFIX}"
        self.sidecar = self.folder / f"{self.id}{SIDECAR_SUFFIX}"
        self.closed = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_DELAY_MS)
        self.timer.timeout.connect(self.autosave_now)
        self.document.undo_stack.indexChanged.connect(self.schedule)
        self.document.undo_stack.cleanChanged.connect(self._clean_changed)
        self.document.project_replaced.connect(self._project_replaced)
        # training locks the graph as it starts: the moment before a long run is worth a copy
        self.document.read_only_changed.connect(lambda locked: locked and self.autosave_now())
        # torn down without a clean close (the undo stack's teardown says "clean"): keep the copy
        self.document.destroyed.connect(self._abandon)
        _LIVE[self.id] = weakref.ref(self)

    def schedule(self, *_: object) -> None:
        """Something changed: autosave once the user has paused for a few seconds."""
        if not self.closed:
            self.timer.start()

    def autosave_now(self) -> bool:
        """Write the recovery copy now if there are unsaved changes; True when written."""
        self.timer.stop()
        if self.closed or not self.document.modified:
            return False
        project = self.document.project
        original = project.path.resolve() if project.path is not None else None
        if original is not None and original == self.project_file.resolve():
            return False  # never over the user's own file
        try:
            text = json.dumps(project.to_json(), indent=1, ensure_ascii=False, allow_nan=False)
            atomic_write_text(self.project_file, text + "\n")
            sidecar = {
                "original": str(original) if original else None,
                "name": project.name,
                "saved_at": time.time(),
                "pid": os.getpid(),
            }
            atomic_write_text(self.sidecar, json.dumps(sidecar, indent=1) + "\n")
        except (OSError, ValueError) as error:  # a full disk must not interrupt editing
            log.warning("autosave to %s failed: %s", self.project_file, error)
            return False
        return True

    def discard(self) -> None:
        """The user's own file is current (or was deliberately left): drop the copy."""
        self.timer.stop()
        for path in (self.project_file, self.sidecar):
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                log.warning("cannot remove %s: %s", path, error)

    def window_closed(self) -> None:
        """The clean-close path: nothing to recover from this window any more."""
        self.closed = True
        self.discard()
        _LIVE.pop(self.id, None)

    def _abandon(self, *_: object) -> None:
        self.closed = True
        self.timer.stop()

    def _clean_changed(self, clean: bool) -> None:
        if clean and not self.closed:
            self.discard()

    def _project_replaced(self) -> None:
        if not self.closed and not self.document.modified:
            self.discard()

    def is_alive(self) -> bool:
        return not self.closed and shiboken6.isValid(self)


def recovery_entries(folder: Path | None = None) -> list[RecoveryEntry]:
    """Every recovery copy whose window is gone (its process died), newest first."""
    folder = Path(folder) if folder is not None else recovery_folder()
    if not folder.is_dir():
        return []
    entries = []
    for project_file in folder.glob(f"*{SUFFIX}"):
        entry = _entry(project_file)
        if entry is not None and not _still_open(entry):
            entries.append(entry)
    return sorted(entries, key=lambda e: e.saved_at, reverse=True)


def _entry(project_file: Path) -> RecoveryEntry | None:
    sidecar = project_file.with_name(project_file.name[: -len(SUFFIX)] + SIDECAR_SUFFIX)
    info: dict[str, Any] = {}
    try:
        loaded = json.loads(sidecar.read_text(encoding="utf-8"))
        info = loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        pass  # a copy without a readable note is still worth offering
    try:
        saved_at = float(info.get("saved_at") or project_file.stat().st_mtime)
    except (OSError, TypeError, ValueError):
        return None
    original = info.get("original")
    pid = info.get("pid")
    return RecoveryEntry(
        project_file=project_file,
        sidecar=sidecar,
        name=str(info.get("name") or "untitled"),
        original=Path(original) if isinstance(original, str) and original else None,
        saved_at=saved_at,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
    )


def _still_open(entry: RecoveryEntry) -> bool:
    """True while the window that writes `entry` is alive (in this or another process)."""
    if entry.pid == os.getpid():
        ref = _LIVE.get(entry.id)
        owner = ref() if ref is not None else None
        return owner is not None and owner.is_alive()
    return entry.pid is not None and _netwright_running(entry.pid)


def _netwright_running(pid: int) -> bool:
    """Whether process `pid` runs and (where we can tell) is a Python/Netwright process."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
        return bool(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        words = cmdline.read_bytes().lower()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return b"python" in words or b"netwright" in words


# ------------------------------------------------------------- the offer
RESTORE, DISCARD, LATER = "restore", "discard", "later"


def ask_about(entry: RecoveryEntry, parent: QWidget | None) -> str:
    """Ask what to do with one recovered project: RESTORE, DISCARD or LATER."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover unsaved work")
    box.setText(
        f"Netwright did not close properly last time. Unsaved changes to "
        f"'{entry.name}' were autosaved."
    )
    box.setInformativeText(
        entry.describe() + "\n\nRestore opens them as unsaved changes; Save then writes "
        "them to the file."
    )
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Decide Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.exec()
    clicked = box.clickedButton()
    return RESTORE if clicked is restore else DISCARD if clicked is discard else LATER


def offer_recovery(
    window: MainWindow,
    folder: Path | None = None,
    ask: Callable[[RecoveryEntry, QWidget | None], str] | None = None,
) -> list[MainWindow]:
    """At start: offer every orphaned recovery copy; returns the windows that got one back.

    The first restored project goes into `window` when it holds no unsaved work;
    any further one opens in a window of its own.
    """
    ask = ask or ask_about
    restored: list[MainWindow] = []
    for entry in recovery_entries(folder):
        choice = ask(entry, window)
        if choice == DISCARD:
            entry.delete()
            continue
        if choice != RESTORE:
            continue
        try:
            project = entry.load()
        except ProjectError as error:
            QMessageBox.warning(
                window, "Cannot restore", f"The recovery copy cannot be read: {error}"
            )
            continue
        target = window
        if restored or window.document.modified:
            target = type(window)(None, window.settings)
            _RESTORED_WINDOWS.append(target)
            target.show()
        restore_into(target, project)
        entry.delete()
        restored.append(target)
    return restored


def restore_into(window: MainWindow, project: Project) -> None:
    """Open a recovered project as unsaved changes to its original file."""
    document = window.document
    document.load(project)
    document.undo_stack.resetClean()  # modified: the recovered edits are not in the file yet
    window.update_title()
    window.view.zoom_to_fit()
    window.recovery.autosave_now()  # under this window's id, before the old copy is deleted
    window.statusBar().showMessage(f"Restored unsaved changes to '{project.name}'", 8000)
