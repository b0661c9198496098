"""In-app help: the getting-started panel, Help > Keyboard Shortcuts, About, layer help."""

from __future__ import annotations

from html import escape

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox
from windows import shown_window

from app import welcome
from app.shortcuts import ShortcutsDialog, clean, mnemonic
from app.welcome import GettingStarted, greet_on_start
from designer.layer_help import accepted, layer_tooltip, param_note
from engine.layers import CATALOGUE, layer_type
from engine.project import load_project
from engine.resources import example

CONTRACT_KEYS = (
    "Tab",
    "Ctrl+Z",
    "Ctrl+Shift+Z",
    "Ctrl+Y",
    "Ctrl+C",
    "Ctrl+X",
    "Ctrl+V",
    "Ctrl+D",
    "Del",
    "Ctrl+A",
    "Ctrl+N",
    "Ctrl+O",
    "Ctrl+S",
    "Ctrl+Shift+S",
    "Ctrl+L",
    "Ctrl+0",
    "Ctrl+Q",
)


@pytest.fixture(scope="module")
def shared_window(qapp, tmp_path_factory):
    """One window for these tests (building one takes seconds); each test starts it afresh."""
    folder = tmp_path_factory.mktemp("help")
    with shown_window(load_project(example("perceptron").path), folder) as made:
        yield made


@pytest.fixture
def window(shared_window):
    """The window on a fresh copy of the perceptron, as on a first start."""
    shared_window.settings.remove(welcome.SETTINGS_KEY)
    shared_window.document.load(load_project(example("perceptron").path))
    yield shared_window
    for panel in shared_window.findChildren(GettingStarted):
        panel.close()
        panel.deleteLater()
    shared_window.document.mark_saved()


@pytest.fixture
def settings(window):
    return window.settings


def test_the_getting_started_panel_greets_a_first_start_only(window, settings):
    panel = greet_on_start(window)
    assert panel is not None and panel.isVisible()
    panel.example_button.click()  # "Start from digits-cnn": the user has got going
    assert "conv1" in window.document.graph
    assert window.document.project.path is None  # a copy of the example
    assert greet_on_start(window) is None  # the next start goes straight to work
    assert welcome.was_shown(QSettings(settings.fileName(), QSettings.Format.IniFormat))


def test_closing_the_panel_with_escape_counts_as_having_seen_it(window):
    panel = greet_on_start(window)
    panel.reject()  # Escape, or the title bar's close box
    assert greet_on_start(window) is None


def test_help_getting_started_reopens_it_after_it_was_dismissed(window, settings):
    settings.setValue(welcome.SETTINGS_KEY, True)
    window.action("getting_started").trigger()
    shown = [p for p in window.findChildren(GettingStarted) if p.isVisible()]
    assert len(shown) == 1


def test_the_panel_can_open_the_gallery(window, monkeypatch):
    opened = []
    monkeypatch.setattr("app.gallery.open_example_gallery", lambda w: opened.append(w))
    panel = greet_on_start(window)
    panel.gallery_button.click()
    assert opened == [window]


def test_keyboard_shortcuts_list_every_contract_key(window):
    dialog = ShortcutsDialog(window)
    listed = {key for row in dialog.rows for key in row.keys}
    for key in CONTRACT_KEYS:
        assert key in listed, key
    if getattr(window, "training", None) is not None:  # the training toolbar is installed
        assert {"F5", "Shift+F5"} <= listed
    dialog.close()


def test_the_shortcuts_list_is_read_from_the_windows_actions(window):
    extra = QAction("&Frobnicate", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    file_menu = window.menuBar().actions()[0].menu()
    file_menu.addAction(extra)
    dialog = ShortcutsDialog(window)
    row = next(r for r in dialog.rows if r.name == "Frobnicate")
    assert row.keys == ("Ctrl+Alt+F",) and row.group == "File"
    dialog.close()
    file_menu.removeAction(extra)
    extra.setParent(None)


def test_searching_the_shortcuts_by_name_key_or_menu(window):
    dialog = ShortcutsDialog(window)
    dialog.search.setText("save")
    assert {r.name for r in dialog.visible_rows()} >= {"Save", "Save As…"}
    assert "Undo" not in {r.name for r in dialog.visible_rows()}
    dialog.search.setText("ctrl+shift+z")
    assert [r.name for r in dialog.visible_rows()] == ["Redo"]
    dialog.search.setText("Ctrl+S")
    assert [r.name for r in dialog.visible_rows()] == ["Save"]
    dialog.search.setText("ctrl+shift+")
    assert {"Save As…", "Redo"} <= {r.name for r in dialog.visible_rows()}
    dialog.search.setText("")
    assert len(dialog.visible_rows()) == len(dialog.rows)
    dialog.close()


def test_commands_without_keys_show_their_menu_path(window):
    dialog = ShortcutsDialog(window)
    left = next(r for r in dialog.rows if r.name == "Align › Left Edges")
    assert left.keys == () and left.menu_path == "Alt+E, G, L"
    dialog.close()


def test_about_names_the_program_and_its_version(window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.action("about").trigger()
    assert "Netwright" in shown[0] and "Qt" in shown[0]


def test_menu_texts_are_read_without_their_mnemonics():
    assert clean("Save &As…") == "Save As…"
    assert clean("Drag && Drop") == "Drag & Drop"
    assert mnemonic("Save &As…") == "A"
    assert mnemonic("Layers") == ""


def test_every_layer_tooltip_says_what_it_does_and_lists_its_parameters():
    for layer in CATALOGUE.values():
        tip = layer_tooltip(layer)
        assert layer.name in tip and escape(layer.help, quote=False) in tip
        assert "Takes" in tip or "Data enters" in tip
        for param in layer.params:
            assert f"<b>{param.name}</b>" in tip, (layer.name, param.name)


def test_parameter_help_says_which_values_are_accepted():
    conv = layer_type("Conv2d")
    out = conv.param("out_channels")
    assert accepted(out) == "whole number, at least 1"
    assert "at least 1" in param_note(out) and "default" in param_note(out)
    dtype = layer_type("Input").param("dtype")
    assert accepted(dtype) == "one of float32, int64"


def test_the_palette_and_inspector_show_the_layer_help(window):
    item = next(i for i in window.layer_palette.layer_items() if i.text(0) == "Linear")
    assert "out_features" in item.toolTip(0) and "whole number" in item.toolTip(0)
    window.scene.select_nodes(["linear"])
    texts = [w.text() for w in window.inspector.findChildren(type(window.lock_label))]
    assert any(t.startswith("Takes one input") for t in texts)
    assert any("Input  " in t and "Output  " in t for t in texts)
