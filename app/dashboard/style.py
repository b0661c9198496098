"""Colours and chart set-up shared by every chart of the dashboard, from the editor's theme.

Importing this loads no pyqtgraph (the window paints before any chart exists);
the functions that style a chart load it when they run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

from designer import theme

if TYPE_CHECKING:
    import pyqtgraph as pg

# Series colours, readable on both themes; the first two are train and validation.
SERIES = ("#4f9dff", "#f0a03c", "#5fd08a", "#e05f7e", "#a779e9", "#3bb3c4", "#d6b04c", "#8f9bb3")
TRAIN, VALIDATION, RATE = SERIES[0], SERIES[1], SERIES[4]


def plot_background() -> str:
    return theme.current().canvas


def axis_colour() -> str:
    return theme.current().text_dim


def text_colour() -> str:
    return theme.current().text


def colour(value: str, alpha: int = 255) -> QColor:
    made = QColor(value)
    made.setAlpha(alpha)
    return made


def _pen(colour_name: str) -> Any:
    import pyqtgraph as pg

    return pg.mkPen(colour_name)


def style_plot(plot: pg.PlotItem) -> None:
    """Axes and grid in the current theme's colours. The background is the view's own
    (`setBackground`, cached by Qt): a view box background would be painted in Python, holding
    the GIL, at every frame."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)  # "epoch (x0.001)" helps nobody
        # The axes draw the grid across the whole plot, so each curve update repaints them:
        # from a cached pixmap, re-rendered only when the range changes.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        axis.setPen(_pen(theme.current().node_border))
        axis.setTextPen(_pen(axis_colour()))
    plot.showGrid(x=True, y=True, alpha=0.12)


def make_opaque(view: pg.GraphicsView) -> None:
    """The chart paints every pixel itself, so Qt need not repaint the widgets beneath it
    (the tab page, the dock, the window) each time a curve moves."""
    view.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
    view.viewport().setAutoFillBackground(False)


def heat_lookup() -> np.ndarray:
    """A perceptual dark-to-bright map (like 'inferno') as a 256x4 lookup table."""
    stops = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    rgb = np.array(
        [[12, 10, 30], [80, 18, 110], [185, 55, 85], [245, 140, 40], [250, 245, 160]], float
    )
    t = np.linspace(0, 1, 256)
    table = np.stack([np.interp(t, stops, rgb[:, i]) for i in range(3)], axis=1)
    return np.concatenate([table, np.full((256, 1), 255.0)], axis=1).astype(np.uint8)
