"""Errors never kill the app: unexpected exceptions are logged and shown, and work goes on.

`install_error_handling` replaces `sys.excepthook` and `threading.excepthook`
(exceptions from slots, timers and worker threads all end there): the
traceback goes to a rotating log file (``AppLocalDataLocation/netwright.log``,
or ``$NETWRIGHT_LOG_DIR``) and a non-blocking message says what happened and
where the details are. Help > Show Log shows that file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from app.main_window import MainWindow

LOG_NAME = "netwright.log"
FOLDER_VARIABLE = "NETWRIGHT_LOG_DIR"
MAX_LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
SHOWN_LOG_CHARS = 200_000

log = logging.getLogger("netwright")


def log_folder() -> Path:
    chosen = os.environ.get(FOLDER_VARIABLE)
    if chosen:
        return Path(chosen)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".netwright")


def log_path() -> Path:
    """The log file in use (or that would be used)."""
    for handler in log.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return Path(handler.baseFilename)
    return log_folder() / LOG_NAME


def start_log_file(folder: Path | None = None) -> Path:
    """Send the app's log (warnings and up) to a rotating file; returns its path."""
    path = (Path(folder) if folder is not None else log_folder()) / LOG_NAME
    for handler in list(log.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            if Path(handler.baseFilename) == path:
                return path
            log.removeHandler(handler)
            handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as error:  # an unwritable home must not stop the app from starting
        print(f"netwright: cannot write the log {path}: {error}", file=sys.stderr)
        return path
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


class ErrorReporter(QObject):
    """Receives exceptions from any thread; shows them on the GUI thread, without blocking."""

    reported = Signal(str)  # the one-line summary; queued to the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 0
        self.box: QMessageBox | None = None
        self.previous_hooks = (sys.excepthook, threading.excepthook)
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------- hooks
    def excepthook(
        self,
        kind: type[BaseException],
        error: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous_hooks[0](kind, error, tb)
            return
        self.report(kind, error, tb, threading.current_thread().name)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, name)

    def report(
        self,
        kind: type[BaseException],
        error: BaseException,
        tb: TracebackType | None,
        where: str,
    ) -> None:
        """Log the whole traceback, then ask the GUI thread to show a short message."""
        text = "".join(traceback.format_exception(kind, error, tb))
        log.error("unexpected error in %s:\n%s", where, text.rstrip())
        summary = f"{kind.__name__}: {error}" if str(error) else kind.__name__
        if shiboken_alive(self):
            self.reported.emit(summary)

    # ----------------------------------------------------------- message
    def _show(self, summary: str) -> None:
        self.count += 1
        text = (
            "Something went wrong inside Netwright; your work is still open and you can go on.\n\n"
            f"{summary}"
        )
        if self.count > 1:
            text += f"\n\n({self.count} errors so far in this session)"
        details = f"The details are in the log: {log_path()} (Help > Show Log)."
        if self.box is None or not shiboken_alive(self.box):
            self.box = QMessageBox(QMessageBox.Icon.Warning, "Unexpected error", text)
            self.box.setWindowModality(Qt.WindowModality.NonModal)
            self.box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.box.setInformativeText(details)
            self.box.setStandardButtons(QMessageBox.StandardButton.Ok)
        else:
            self.box.setText(text)
        self.box.show()  # never exec(): the app keeps running underneath

    def uninstall(self) -> None:
        if sys.excepthook == self.excepthook:
            sys.excepthook = self.previous_hooks[0]
        if threading.excepthook == self.thread_excepthook:
            threading.excepthook = self.previous_hooks[1]


def shiboken_alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def install_error_handling(folder: Path | None = None) -> ErrorReporter:
    """Log to the rotating file and route every uncaught exception to an ErrorReporter."""
    start_log_file(folder)
    reporter = ErrorReporter(QApplication.instance())
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    return reporter


# ------------------------------------------------------------- Show Log
class LogDialog(QDialog):
    """The end of the log file, read-only, with a way to open its folder."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Netwright log")
        self.resize(820, 480)
        layout = QVBoxLayout(self)
        where = QLabel(f"Log file: {path}")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(read_log_tail(path))
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        folder = buttons.addButton("Open Folder", QDialogButtonBox.ButtonRole.ActionRole)
        folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
        )
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)


def read_log_tail(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - SHOWN_LOG_CHARS))
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return "Nothing has been logged yet."
    except OSError as error:
        return f"The log cannot be read: {error}"


def install_log_action(window: MainWindow) -> QAction:
    """Help > Show Log."""
    action = QAction("Show &Log", window)
    action.setStatusTip("Show the log file, where unexpected errors are recorded")

    def show() -> None:
        dialog = LogDialog(log_path(), window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    action.triggered.connect(lambda _checked=False: show())
    window.menus["help"].addAction(action)
    return window.add_action("show_log", action)
