"""The getting-started panel: what is on screen and how to get a network trained.

It greets a first start only (however it is closed, the next start goes
straight to work), never over a project named on the command line, and only
after any offer to recover unsaved work (app/startup.py orders them).
Help > Getting Started reopens it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer import theme
from engine.resources import DEFAULT_EXAMPLE, RESOURCES, example

if TYPE_CHECKING:
    from app.main_window import MainWindow

SETTINGS_KEY = "help/getting_started_shown"

STEPS = (
    (
        "mdi6.graph-outline",
        "The canvas",
        "Your network, layer by layer, in the middle. Every wire shows the shape of "
        "the data flowing through it; problems show in red at once.",
    ),
    (
        "mdi6.view-list-outline",
        "The Layers palette",
        "On the left. Drag a layer onto the canvas, or press <b>Tab</b> on the canvas "
        "and type its name. Hover a layer to read what it does.",
    ),
    (
        "mdi6.tune-variant",
        "The Inspector",
        "On the right: the selected layer's shapes in and out, and its parameters, "
        "each with a line on what it means.",
    ),
    (
        "mdi6.view-grid-plus-outline",
        "Build or open an example",
        "<b>File › New from Example</b> (Ctrl+Shift+N) has a dozen networks to start from, "
        "from a single perceptron to a Transformer and a GAN.",
    ),
    (
        "mdi6.play-circle-outline",
        "Train",
        "Press <b>F5</b> and watch the loss fall live; <b>Shift+F5</b> stops. "
        "The graph is locked while it trains.",
    ),
    (
        "mdi6.export-variant",
        "Export",
        "Save the trained network as an ONNX file or as readable PyTorch code from the File menu.",
    ),
)


def was_shown(settings: QSettings) -> bool:
    """Whether a start has greeted the user already (so this one is not the first)."""
    value = settings.value(SETTINGS_KEY, False)
    return value in (True, "true", "1", 1)


class GettingStarted(QDialog):
    """The panel. `open_gallery` and `open_example` are what its two big buttons do."""

    def __init__(
        self,
        settings: QSettings,
        open_gallery: Callable[[], object],
        open_example: Callable[[str], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("GettingStarted")
        self.setWindowTitle("Getting Started")
        self.settings = settings
        self._open_gallery = open_gallery
        self._open_example = open_example
        layout = QVBoxLayout(self)
        layout.setContentsMargins(26, 22, 26, 18)
        layout.setSpacing(14)
        layout.addLayout(self._header())
        layout.addLayout(self._steps())
        layout.addLayout(self._buttons())
        self.setStyleSheet(_style())
        self.setMinimumWidth(640)

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(14)
        logo = QLabel()
        logo.setPixmap(QIcon(str(RESOURCES / "icons" / "netwright.svg")).pixmap(QSize(56, 56)))
        row.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        title = QLabel("Welcome to Netwright")
        title.setObjectName("WelcomeTitle")
        subtitle = QLabel(
            "Draw a neural network, see every shape, train it and export it. "
            "Here is the tour in six lines."
        )
        subtitle.setObjectName("WelcomeSubtitle")
        subtitle.setWordWrap(True)
        text.addWidget(title)
        text.addWidget(subtitle)
        row.addLayout(text, 1)
        return row

    def _steps(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(12)
        accent = theme.current().accent
        for row, (icon, title, body) in enumerate(STEPS):
            picture = QLabel()
            picture.setPixmap(theme.layer_icon(icon, accent).pixmap(QSize(28, 28)))
            grid.addWidget(picture, row, 0, Qt.AlignmentFlag.AlignTop)
            text = QLabel(f"<b>{title}</b><br>{body}")
            text.setObjectName("WelcomeStep")
            text.setWordWrap(True)
            text.setTextFormat(Qt.TextFormat.RichText)
            grid.addWidget(text, row, 1)
        grid.setColumnStretch(1, 1)
        return grid

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.gallery_button = QPushButton("Open the &Examples Gallery…")
        self.example_button = QPushButton(f"Start from &{DEFAULT_EXAMPLE}")
        self.example_button.setDefault(True)
        self.example_button.setEnabled(example(DEFAULT_EXAMPLE) is not None)
        self.dismiss_button = QPushButton("&Close")
        self.dismiss_button.setObjectName("WelcomeDismiss")
        self.gallery_button.clicked.connect(self.choose_gallery)
        self.example_button.clicked.connect(self.choose_default_example)
        self.dismiss_button.clicked.connect(self.dismiss)
        row.addWidget(self.dismiss_button)
        row.addStretch(1)
        row.addWidget(self.gallery_button)
        row.addWidget(self.example_button)
        return row

    # -------------------------------------------------------------- choices
    def dismiss(self) -> None:
        self.accept()

    def choose_gallery(self) -> None:
        self.accept()
        self._open_gallery()

    def choose_default_example(self) -> None:
        self.accept()
        self._open_example(DEFAULT_EXAMPLE)


def _style() -> str:
    c = theme.current()
    return (
        f"QDialog#GettingStarted {{ background: {c.node_body}; }}"
        f"QLabel#WelcomeTitle {{ font-size: 17pt; font-weight: bold; color: {c.text}; }}"
        f"QLabel#WelcomeSubtitle {{ color: {c.text_dim}; font-size: 10pt; }}"
        f"QLabel#WelcomeStep {{ color: {c.text}; font-size: 10pt; }}"
        f"QPushButton {{ padding: 7px 16px; }}"
        f"QPushButton#WelcomeDismiss {{ background: transparent; border: none; color: {c.text_dim}; }}"
        f"QPushButton#WelcomeDismiss:hover {{ color: {c.text}; }}"
    )


def panel_for(window: MainWindow) -> GettingStarted:
    """The panel wired to `window`: the gallery and examples open in it."""
    from app.gallery import open_example_gallery

    def open_example(name: str) -> None:
        found = example(name)
        if found is not None:
            window.open_project(found.path, as_template=True)

    return GettingStarted(
        window.settings, lambda: open_example_gallery(window), open_example, window
    )


def show_getting_started(window: MainWindow) -> GettingStarted:
    """Help > Getting Started: the panel, window-modal, without blocking the caller."""
    panel = panel_for(window)
    panel.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    panel.open()
    return panel


def greet_on_start(window: MainWindow) -> GettingStarted | None:
    """At a first start: the panel (remembered at once, so it greets no later start)."""
    settings = window.settings
    if was_shown(settings):
        return None
    settings.setValue(SETTINGS_KEY, True)
    settings.sync()
    return show_getting_started(window)
