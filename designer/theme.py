"""Colours, fonts and the Qt style sheets of the dark and light themes.

Canvas items paint themselves with QPainter, so they read their colours from the
current `Theme` here; widgets are styled by the `.qss` files in
``resources/themes``. Switching theme swaps both and repaints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtGui import QColor, QFont, QIcon
from PySide6.QtWidgets import QApplication

from engine.resources import RESOURCES

THEMES_DIR = RESOURCES / "themes"
THEME_NAMES = ("dark", "light")
DEFAULT_THEME = "dark"

# One hue per palette category, chosen to stay readable on both canvases.
CATEGORY_COLOURS = {
    "Input / Output": "#4caf7d",
    "Dense": "#5b8def",
    "Convolution": "#e0894a",
    "Pooling": "#d6b04c",
    "Normalization": "#a779e9",
    "Activation": "#e05f7e",
    "Regularization": "#8f9bb3",
    "Recurrent": "#3bb3c4",
    "Attention": "#c96bd6",
    "Sequence": "#47b8a0",
    "Merge": "#7fbf4d",
    "Math": "#5fb7e5",
    "Tensor": "#c4a35a",
    "Reshape": "#9c8f7a",
    "Blocks": "#7986cb",
}
UNKNOWN_CATEGORY_COLOUR = "#888888"


@dataclass(frozen=True)
class Theme:
    """The colours canvas items paint with."""

    name: str
    canvas: str
    grid_minor: str
    grid_major: str
    node_body: str
    node_header: str
    node_border: str
    text: str
    text_dim: str
    accent: str
    error: str
    warning: str
    wire: str
    wire_label_bg: str
    wire_label_text: str
    port: str
    port_border: str
    ok: str
    banner_bg: str

    def colour(self, attribute: str) -> QColor:
        return QColor(getattr(self, attribute))


DARK = Theme(
    name="dark",
    canvas="#1b1d22",
    grid_minor="#23262c",
    grid_major="#2c3037",
    node_body="#2a2d34",
    node_header="#30343c",
    node_border="#3d424b",
    text="#e6e8ec",
    text_dim="#9aa1ad",
    accent="#4f9dff",
    error="#ff5c5c",
    warning="#f0b43c",
    wire="#8a93a3",
    wire_label_bg="#262930",
    wire_label_text="#c9ced8",
    port="#c9ced8",
    port_border="#1b1d22",
    ok="#5fd08a",
    banner_bg="#7a2f2f",
)

LIGHT = Theme(
    name="light",
    canvas="#f4f5f7",
    grid_minor="#e9ebef",
    grid_major="#dcdfe5",
    node_body="#ffffff",
    node_header="#f7f8fa",
    node_border="#c9ced6",
    text="#1f2329",
    text_dim="#5f6670",
    accent="#2f7bf5",
    error="#d93636",
    warning="#c98a0b",
    wire="#7d8592",
    wire_label_bg="#ffffff",
    wire_label_text="#3a4048",
    port="#59616d",
    port_border="#ffffff",
    ok="#2e9e5b",
    banner_bg="#f7d5d5",
)

_current: list[Theme] = [DARK]


def current() -> Theme:
    """The theme canvas items paint with right now."""
    return _current[0]


def theme_named(name: str) -> Theme:
    return LIGHT if name == "light" else DARK


def apply_theme(name: str, app: QApplication | None = None) -> Theme:
    """Make `name` the current theme and give the application its style sheet."""
    theme = theme_named(name)
    _current[0] = theme
    app = app or QApplication.instance()  # type: ignore[assignment]
    sheet = style_sheet(theme.name)
    # setting it restyles every widget the application has, even to the same sheet: skip that
    if app is not None and app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
    return theme


@lru_cache(maxsize=4)
def style_sheet(name: str) -> str:
    path = THEMES_DIR / f"{name}.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, UNKNOWN_CATEGORY_COLOUR))


@lru_cache(maxsize=512)
def layer_icon(name: str, colour: str) -> QIcon:
    """A qtawesome icon (vector font glyph: crisp at any scale), with a safe fallback."""
    import qtawesome

    try:
        return qtawesome.icon(name, color=colour)
    except Exception:  # an icon name this qtawesome does not know
        return qtawesome.icon("mdi6.shape-outline", color=colour)


@lru_cache(maxsize=512)
def icon_glyph(name: str) -> tuple[str, str]:
    """(font family, character) of a qtawesome icon, for painting it as text.

    Canvas items draw icons as glyphs: vector, crisp at any zoom and DPI, and
    served from Qt's glyph cache, where QIcon.paint would go through Python
    for every node on every repaint.
    """
    import qtawesome

    try:
        char = qtawesome.charmap(name)
        prefix = name.split(".", 1)[0]
        family = qtawesome.font(prefix, 12).family()
    except Exception:  # an icon name this qtawesome does not know
        return icon_glyph("mdi6.shape-outline") if name != "mdi6.shape-outline" else ("", "?")
    return family, char


@lru_cache(maxsize=64)
def glyph_font(family: str, pixel_size: int) -> QFont:
    font = QFont(family)
    font.setPixelSize(pixel_size)
    return font


def ui_font(point_size: float, bold: bool = False) -> QFont:
    font = QFont(QApplication.font())
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def mono_font(point_size: float) -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(point_size)
    return font
