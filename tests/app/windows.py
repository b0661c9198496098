"""Main windows for tests: private settings, shown, and closed without a question at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSettings

from app.main_window import MainWindow
from engine.project import Project


@contextmanager
def shown_window(project: Project | None, folder: Path) -> Iterator[MainWindow]:
    """A MainWindow on `project` whose settings live in `folder`. At the end any run is stopped
    and the document marked saved first: an unsaved window asks before closing, and a modal
    question nobody answers would hang the test."""
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(project, settings)
    made.show()
    try:
        yield made
    finally:
        made.training.shutdown()
        made.document.mark_saved()
        made.close()
        made.deleteLater()
