"""The Help menu: Getting Started, Keyboard Shortcuts and About.

Installed into the main window by one call, so the window itself stays about
editing; each entry opens its own dialog from app.welcome / app.shortcuts.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from app.shortcuts import ShortcutsDialog
from app.welcome import show_getting_started

if TYPE_CHECKING:
    from app.main_window import MainWindow


def install_help(window: MainWindow, menu: QMenu) -> None:
    """Fill the Help menu and register its actions with the window, by id."""
    entries: tuple[tuple[str, str, Callable[[], object], list[str]], ...] = (
        ("getting_started", "&Getting Started", lambda: show_getting_started(window), []),
        ("keys", "&Keyboard Shortcuts", lambda: show_shortcuts(window), ["F1", "Ctrl+/"]),
        ("about", "&About Netwright", lambda: show_about(window), []),
    )
    for name, text, slot, keys in entries:
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _checked=False, run=slot: run())
        window.add_action(name, action)
        if name == "about":
            menu.addSeparator()
        menu.addAction(action)


def show_shortcuts(window: MainWindow) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def about_text() -> str:
    try:
        version = metadata.version("netwright")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return (
        f"<h3>Netwright {version}</h3>"
        "<p>Draw a neural network, see every shape, train it, export it to ONNX "
        "and PyTorch.</p>"
        "<p>Layers are declarations: the palette, the inspector's help, shape checks, "
        "the compiler and the exporters are all generated from them.</p>"
        f"<p style='color:gray'>Python {platform.python_version()} · Qt {qVersion()} · "
        f"PySide6 {pyside_version}<br>MIT licence</p>"
    )


def show_about(window: MainWindow) -> None:
    QMessageBox.about(window, "About Netwright", about_text())
