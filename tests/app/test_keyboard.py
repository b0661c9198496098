"""Everything reachable from the keyboard: the contract's keys, menus with mnemonics."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu
from windows import shown_window

from app.main_window import MainWindow
from app.shortcuts import mnemonic
from engine.project import load_project
from engine.resources import example

CONTRACT = {
    "Ctrl+Z": "undo",
    "Ctrl+Shift+Z": "redo",
    "Ctrl+Y": "redo",
    "Ctrl+C": "copy",
    "Ctrl+X": "cut",
    "Ctrl+V": "paste",
    "Ctrl+D": "duplicate",
    "Del": "delete",
    "Ctrl+A": "select all",
    "Ctrl+N": "new",
    "Ctrl+O": "open",
    "Ctrl+S": "save",
    "Ctrl+Shift+S": "save as",
    "Ctrl+L": "auto-layout",
    "Ctrl+0": "zoom to fit",
    "Ctrl+Q": "quit",
}


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One window for these tests: they read its actions and menus (building one takes seconds)."""
    folder = tmp_path_factory.mktemp("keyboard")
    with shown_window(load_project(example("digits-cnn").path), folder) as made:
        yield made


def bound_keys(window: MainWindow) -> Counter[str]:
    keys: Counter[str] = Counter()
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            keys[sequence.toString(QKeySequence.SequenceFormat.PortableText)] += 1
    return keys


def menus(window: MainWindow) -> list[tuple[str, QMenu]]:
    found = []

    def walk(menu: QMenu, path: str) -> None:
        found.append((path, menu))
        for action in menu.actions():
            if isinstance(action.menu(), QMenu):
                walk(action.menu(), f"{path} › {action.text()}")

    for top in window.menuBar().actions():
        if isinstance(top.menu(), QMenu):
            walk(top.menu(), top.text())
    return found


def test_every_contract_key_is_bound_to_an_action(window):
    keys = bound_keys(window)
    for key, what in CONTRACT.items():
        assert keys[key] >= 1, f"{key} ({what}) is not bound"
    if getattr(window, "training", None) is not None:  # the training toolbar is installed
        assert keys["F5"] >= 1 and keys["Shift+F5"] >= 1


def test_no_two_actions_share_a_key(window):
    """An ambiguous shortcut does nothing at all in Qt, so each key has one action."""
    shared = [key for key, count in bound_keys(window).items() if count > 1]
    assert shared == []


def test_every_menu_opens_with_alt_and_a_letter_of_its_own(window):
    letters = [mnemonic(a.text()) for a in window.menuBar().actions()]
    assert all(letters), [a.text() for a in window.menuBar().actions()]
    assert len(set(letters)) == len(letters), letters


def test_no_menu_has_two_entries_on_the_same_letter(window):
    """Two entries sharing a letter make Alt+letter cycle instead of choosing."""
    for path, menu in menus(window):
        letters = [mnemonic(a.text()) for a in menu.actions() if not a.isSeparator()]
        taken = [letter for letter in letters if letter]
        duplicates = sorted({letter for letter in taken if taken.count(letter) > 1})
        assert duplicates == [], f"{path}: {duplicates}"


def test_the_quick_add_key_is_the_canvas_tab(window, qtbot):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.view.quick_add.isVisible()
    window.view.quick_add.hide()


def test_the_palette_works_from_the_keyboard(window, qtbot):
    palette = window.layer_palette
    before = len(window.document.graph)
    palette.search.setFocus()
    qtbot.keyClicks(palette.search, "gru")
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)  # Enter adds the first match
    assert len(window.document.graph) == before + 1
    assert any(n.type == "GRU" for n in window.document.graph)
    palette.search.clear()
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)  # Down goes into the list
    assert palette.tree.currentItem().text(0) == "Input"
    qtbot.keyClick(palette.tree, Qt.Key.Key_Down)
    qtbot.keyClick(palette.tree, Qt.Key.Key_Return)  # Enter adds the highlighted layer
    assert len(window.document.graph) == before + 2
    assert next_tab_stop(palette.search) is palette.tree  # Tab: from the search box to the list


def next_tab_stop(widget):
    """The widget Tab moves to from `widget`: the next in the focus chain that takes Tab focus."""
    candidate = widget.nextInFocusChain()
    while candidate is not widget:
        tab_focus = bool(candidate.focusPolicy() & Qt.FocusPolicy.TabFocus)
        if tab_focus and candidate.isVisibleTo(widget.window()) and candidate.isEnabled():
            return candidate
        candidate = candidate.nextInFocusChain()
    return None
