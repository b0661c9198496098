"""Autosave and crash recovery: edits survive a crash and are offered back at the next start."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QMessageBox

from app import recovery
from app.main_window import MainWindow
from engine.project import load_project, save_project
from engine.resources import example

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def saved_project(tmp_path):
    """The digits CNN saved as the user's own file."""
    project = load_project(example("digits-cnn").path)
    path = tmp_path / "mine.netwright.json"
    save_project(project, path)
    return path


@pytest.fixture
def open_window(qtbot, settings):
    """Make main windows (autosaving quickly) and close every one still alive at the end."""
    made: list[MainWindow] = []

    def make(path=None):
        window = MainWindow(load_project(path) if path else None, settings)
        window.recovery.timer.setInterval(50)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        if recovery.shiboken6.isValid(window):
            window.document.mark_saved()
            window.close()
            window.deleteLater()


def crash(window: MainWindow) -> None:
    """Drop the window the way a crash does: no close event, nothing cleaned up."""
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def autosaved(window: MainWindow, qtbot) -> dict:
    qtbot.waitUntil(lambda: window.recovery.sidecar.exists(), timeout=5000)
    return json.loads(window.recovery.sidecar.read_text())


def test_an_edit_is_autosaved_to_the_recovery_folder_not_the_users_file(
    open_window, saved_project, qtbot, private_app_folders
):
    before = saved_project.read_bytes()
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    assert window.recovery.timer.isActive()  # waits for a pause, does not write on every edit
    note = autosaved(window, qtbot)
    assert window.recovery.project_file.parent == private_app_folders[0]
    assert note["original"] == str(saved_project.resolve())
    assert note["name"] == "digits-cnn"
    copy = load_project(window.recovery.project_file)
    assert copy.graph.node("conv1").params["out_channels"] == 12
    assert saved_project.read_bytes() == before


def test_after_a_crash_the_next_start_offers_the_edits_back(
    open_window, saved_project, qtbot, monkeypatch
):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    autosaved(window, qtbot)
    old_copy = window.recovery.project_file
    crash(window)
    assert old_copy.exists()

    offered = []

    def ask(entry, parent):
        offered.append(entry.describe())
        return recovery.RESTORE

    fresh = open_window()
    restored = recovery.offer_recovery(fresh, ask=ask)
    assert restored == [fresh]
    assert len(offered) == 1
    assert "digits-cnn" in offered[0] and str(saved_project.resolve()) in offered[0]
    assert "Autosaved: " in offered[0]
    document = fresh.document
    assert document.graph.node("conv1").params["out_channels"] == 12
    assert document.modified and fresh.windowTitle().startswith("digits-cnn*")
    assert document.project.path == saved_project.resolve()
    assert not old_copy.exists()  # taken over by the new window's own copy
    assert fresh.recovery.project_file.exists()
    assert recovery.recovery_entries() == []  # nothing left to offer


def test_restored_work_saves_to_its_original_file(open_window, saved_project, qtbot):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 7)
    autosaved(window, qtbot)
    crash(window)
    fresh = open_window()
    recovery.offer_recovery(fresh, ask=lambda entry, parent: recovery.RESTORE)
    assert fresh.save()  # no dialog: the original path came back with the project
    assert load_project(saved_project).graph.node("conv1").params["out_channels"] == 7
    assert not fresh.recovery.project_file.exists()


def test_a_clean_save_removes_the_recovery_copy(open_window, saved_project, qtbot):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    autosaved(window, qtbot)
    assert window.save()
    assert not window.recovery.project_file.exists()
    assert not window.recovery.sidecar.exists()


def test_undoing_back_to_the_saved_state_removes_the_copy(open_window, saved_project, qtbot):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    autosaved(window, qtbot)
    window.document.undo()
    assert not window.recovery.project_file.exists()


def test_a_clean_close_removes_the_copy_even_when_changes_are_discarded(
    open_window, saved_project, qtbot, monkeypatch
):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    autosaved(window, qtbot)
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
    )
    assert window.close()
    assert not window.recovery.project_file.exists()
    assert recovery.recovery_entries() == []


def test_a_window_still_open_is_not_offered_as_lost(open_window, saved_project, qtbot):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    autosaved(window, qtbot)
    assert recovery.recovery_entries() == []


def test_discard_deletes_the_copy_and_later_keeps_it(open_window, saved_project, qtbot):
    for _ in range(2):
        window = open_window(saved_project)
        window.document.set_param("conv1", "out_channels", 12)
        autosaved(window, qtbot)
        crash(window)
    entries = recovery.recovery_entries()
    assert len(entries) == 2
    answers = [recovery.LATER, recovery.DISCARD]
    fresh = open_window()
    assert recovery.offer_recovery(fresh, ask=lambda e, p: answers.pop(0)) == []
    left = recovery.recovery_entries()
    assert [e.id for e in left] == [entries[0].id]
    assert not fresh.document.modified


def test_training_start_autosaves_at_once(open_window, saved_project):
    window = open_window(saved_project)
    window.recovery.timer.setInterval(60_000)  # only the training start can write it now
    window.document.set_param("conv1", "out_channels", 12)
    window.set_read_only(True)  # what the training controller does as a run starts
    try:
        assert window.recovery.project_file.exists()
        assert (
            load_project(window.recovery.project_file).graph.node("conv1").params["out_channels"]
            == 12
        )
    finally:
        window.set_read_only(False)


def test_an_unsaved_new_project_is_recovered_without_a_file(open_window, qtbot):
    window = open_window()
    window.document.add_node("ReLU")
    note = autosaved(window, qtbot)
    assert note["original"] is None
    crash(window)
    fresh = open_window()
    recovery.offer_recovery(fresh, ask=lambda e, p: recovery.RESTORE)
    assert fresh.document.project.path is None
    assert fresh.document.modified
    assert any(n.type == "ReLU" for n in fresh.document.graph)


def test_an_unreadable_recovery_copy_is_reported_not_fatal(
    open_window, private_app_folders, monkeypatch
):
    folder = private_app_folders[0]
    folder.mkdir(parents=True)
    (folder / "deadbeef0000.netwright.json").write_text("{broken")
    warnings = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, title, text: warnings.append(text))
    )
    fresh = open_window()
    assert recovery.offer_recovery(fresh, ask=lambda e, p: recovery.RESTORE) == []
    assert "not valid JSON" in warnings[0]
    assert not fresh.document.modified


def test_the_offer_dialog_names_the_project_file_and_time(
    open_window, saved_project, qtbot, monkeypatch
):
    window = open_window(saved_project)
    window.document.set_param("conv1", "out_channels", 12)
    autosaved(window, qtbot)
    crash(window)
    seen = {}

    def fake_exec(box):
        seen["text"] = box.text() + "\n" + box.informativeText()
        seen["buttons"] = [b.text() for b in box.buttons()]
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    entry = recovery.recovery_entries()[0]
    assert recovery.ask_about(entry, None) == recovery.LATER
    assert "'digits-cnn'" in seen["text"] and str(saved_project.resolve()) in seen["text"]
    assert entry.when() in seen["text"]
    assert sorted(seen["buttons"]) == ["Decide Later", "Discard", "Restore"]
