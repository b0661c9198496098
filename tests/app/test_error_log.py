"""An unexpected error is logged and shown without blocking, and the app keeps working."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox
from windows import shown_window

from app import error_log
from engine.project import load_project
from engine.resources import example

pytestmark = [pytest.mark.timeout(60), pytest.mark.qt_no_exception_capture]


class Button(QObject):
    clicked = Signal()


@pytest.fixture
def reporter(private_app_folders):
    made = error_log.install_error_handling()
    yield made
    made.uninstall()
    if made.box is not None and error_log.shiboken_alive(made.box):
        made.box.close()


@pytest.fixture
def window(qtbot, tmp_path):
    with shown_window(load_project(example("digits-cnn").path), tmp_path) as made:
        yield made


def test_an_exception_in_a_slot_is_logged_shown_and_survived(reporter, window, qtbot):
    button = Button()

    def broken_slot() -> None:
        raise RuntimeError("the slot fell over")

    button.clicked.connect(broken_slot)
    button.clicked.emit()
    qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible(), timeout=5000)
    box = reporter.box
    assert "RuntimeError: the slot fell over" in box.text()
    assert str(error_log.log_path()) in box.informativeText()
    assert not box.isModal()  # the app keeps working underneath
    logged = error_log.log_path().read_text()
    assert "Traceback" in logged and "broken_slot" in logged and "the slot fell over" in logged
    assert error_log.log_path().parent == error_log.log_folder()

    window.document.add_node("ReLU")  # still editing
    assert window.document.modified


def test_an_exception_in_a_worker_thread_reaches_the_user_too(reporter, qtbot):
    def work() -> None:
        raise ValueError("worker thread failure")

    thread = threading.Thread(target=work, name="export-worker")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: reporter.box is not None and reporter.box.isVisible(), timeout=5000)
    assert "worker thread failure" in reporter.box.text()
    assert "export-worker" in error_log.log_path().read_text()


def test_repeated_errors_update_one_message_instead_of_piling_up(reporter, qtbot):
    button = Button()
    button.clicked.connect(lambda: 1 / 0)
    for _ in range(3):
        button.clicked.emit()
    qtbot.waitUntil(lambda: reporter.count == 3, timeout=5000)
    assert "3 errors so far" in reporter.box.text()
    boxes = [w for w in qtbot_top_level_widgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1


def qtbot_top_level_widgets():
    from PySide6.QtWidgets import QApplication

    return QApplication.topLevelWidgets()


def test_help_show_log_shows_the_log_file(reporter, window, qtbot):
    error_log.log.error("a line worth reading")
    assert window.action("show_log") in window.menus["help"].actions()
    window.action("show_log").trigger()
    dialog = window.findChild(error_log.LogDialog)
    assert dialog.isVisible()
    assert "a line worth reading" in dialog.text.toPlainText()
    dialog.close()


def test_the_log_rotates_instead_of_growing_without_end(private_app_folders):
    path = error_log.start_log_file()
    handler = next(h for h in error_log.log.handlers if hasattr(h, "maxBytes"))
    assert handler.maxBytes == error_log.MAX_LOG_BYTES and handler.backupCount >= 1
    assert path == private_app_folders[1] / "netwright.log"
