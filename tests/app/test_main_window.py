"""The main window: title, files, recent list, problems, locking, the gui command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app import gui
from app.main_window import MainWindow
from engine.project import load_project
from engine.resources import example


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    made = MainWindow(load_project(example("digits-cnn").path), settings)
    made.show()
    yield made
    made.document.mark_saved()  # nothing to ask about when the test closes it
    made.close()
    made.deleteLater()


@pytest.fixture
def no_dialogs(monkeypatch):
    """Record message boxes instead of blocking on them."""
    shown: list[str] = []

    def record(kind):
        def show(_parent, title, text, *args, **kwargs):
            shown.append(f"{kind}: {title}: {text}")
            return answers.pop(0) if answers else QMessageBox.StandardButton.Ok

        return show

    answers: list[QMessageBox.StandardButton] = []
    for kind in ("warning", "information", "question", "critical"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(record(kind)))
    return shown, answers


def test_the_title_names_the_project_and_marks_unsaved_changes(window):
    assert window.windowTitle() == "digits-cnn — Netwright"
    window.document.add_node("ReLU")
    assert window.windowTitle() == "digits-cnn* — Netwright"
    window.document.undo()
    assert window.windowTitle() == "digits-cnn — Netwright"


def test_the_edit_menu_names_what_undo_will_undo(window):
    window.document.set_param("conv1", "out_channels", 8)
    assert window.action("undo").text() == "&Undo Set conv1.out_channels to 8"
    assert window.action("undo").isEnabled()


def test_the_contract_shortcuts_are_bound(window):
    keys = {name: [s.toString() for s in a.shortcuts()] for name, a in window.named_actions.items()}
    assert keys["undo"] == ["Ctrl+Z"]
    assert keys["redo"] == ["Ctrl+Shift+Z", "Ctrl+Y"]
    for name, key in (
        ("copy", "Ctrl+C"),
        ("cut", "Ctrl+X"),
        ("paste", "Ctrl+V"),
        ("duplicate", "Ctrl+D"),
        ("select_all", "Ctrl+A"),
        ("layout", "Ctrl+L"),
        ("fit", "Ctrl+0"),
        ("quit", "Ctrl+Q"),
        ("new", "Ctrl+N"),
        ("open", "Ctrl+O"),
        ("save", "Ctrl+S"),
        ("save_as", "Ctrl+Shift+S"),
    ):
        assert key in keys[name], name
    assert "Del" in keys["delete"]


def test_save_as_then_open_round_trips_through_the_gui(window, tmp_path, monkeypatch):
    target = tmp_path / "mine.netwright.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.document.set_param("conv1", "out_channels", 12)
    assert window.save_as()
    assert window.windowTitle() == "mine — Netwright"
    saved = json.loads(target.read_text())
    conv = next(n for n in saved["graph"]["nodes"] if n["id"] == "conv1")
    assert conv["params"]["out_channels"] == 12
    window.document.set_param("conv1", "out_channels", 4)
    assert window.save()  # to the same file, no dialog
    window.document.load(load_project(example("perceptron").path))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    window.open_dialog()
    assert window.document.graph.node("conv1").params["out_channels"] == 4
    assert window.recent_files()[0] == str(target.resolve())


def test_opening_a_broken_file_says_why_and_keeps_the_project(window, tmp_path, no_dialogs):
    shown, _answers = no_dialogs
    broken = tmp_path / "broken.netwright.json"
    broken.write_text("{not json")
    assert not window.open_project(broken)
    assert "not valid JSON" in shown[0]
    assert "conv1" in window.document.graph


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_it_open(window, no_dialogs):
    shown, answers = no_dialogs
    window.document.add_node("ReLU")
    answers.append(QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert "Unsaved changes" in shown[0]
    answers.append(QMessageBox.StandardButton.Discard)
    assert window.close()


def test_new_project_asks_first_and_starts_empty(window, no_dialogs):
    _shown, answers = no_dialogs
    window.document.add_node("ReLU")
    answers.append(QMessageBox.StandardButton.Discard)
    window.new_project()
    assert len(window.document.graph) == 0
    assert window.windowTitle() == "untitled — Netwright"


def test_dropping_a_project_file_on_the_window_opens_it(window, no_dialogs):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(example("perceptron").path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert window.document.project.name == "perceptron"


def test_problems_list_every_diagnostic_and_clicking_selects_the_layer(window):
    window.document.set_param("input", "shape", [64])
    window.document.project.training["epochs"] = 0
    window.document.analyse_now()
    shown = window.problems.diagnostics_shown()
    assert any("expects" in text for text in shown)
    assert any("epochs" in text for text in shown)
    row = next(
        window.problems.topLevelItem(i)
        for i in range(window.problems.topLevelItemCount())
        if window.problems.topLevelItem(i).text(1) == "conv1"
    )
    window.problems.itemClicked.emit(row, 0)
    assert window.scene.selected_node_ids() == ["conv1"]
    assert window.inspector.item.node_id == "conv1"


def test_read_only_blocks_edits_and_shows_the_lock(window):
    window.set_read_only(True)
    assert window.lock_label.isVisibleTo(window)
    assert not window.action("delete").isEnabled()
    window.scene.select_nodes(["conv1"])
    window.editor.delete_selected()
    assert "conv1" in window.document.graph
    window.set_read_only(False)
    assert not window.lock_label.isVisibleTo(window)


def test_theme_choice_is_remembered(window, settings):
    window.set_theme("light")
    assert settings.value("theme") == "light"
    window.set_theme("dark")


def test_gui_screenshot_writes_a_png(qtbot, tmp_path, capsys):
    out = tmp_path / "shot.png"
    path = str(example("digits-cnn").path)
    assert gui.main([path, "--screenshot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        f"saved {out}" in capsys.readouterr().out
    )  # training screenshots: tests/app/test_training.py


def test_gui_refuses_an_unreadable_project_with_exit_2(tmp_path, capsys):
    assert gui.main([str(tmp_path / "missing.netwright.json"), "--screenshot", "x.png"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_gui_without_a_project_opens_the_default_example_as_an_unsaved_copy():
    project = gui.open_project(None)
    assert project.name == "digits-cnn" and project.path is None
    assert Path(example("digits-cnn").path).exists()
