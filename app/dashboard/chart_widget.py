"""ChartWidget: a pyqtgraph PlotWidget that paints without holding Python's GIL.

pyqtgraph's views override `paintEvent` in Python only to call
`scene().prepareForPaint()` first. That override makes the whole repaint (all
of Qt's C++ rasterising) run inside a Python call, holding the GIL, so a
training thread in the same process stalls for every frame the charts draw.
Here the C++ `paintEvent` is put back (PySide then calls it with the GIL
released, taking the GIL only for items painted in Python) and
`prepareForPaint` runs from an event filter, before each paint event.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPixmapCache
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView

CACHED_PICTURES_KB = 128 * 1024  # Qt's default 10 MB holds too few charts' pictures

pg.setConfigOptions(antialias=True, imageAxisOrder="row-major", background=None)


class _PrepareBeforePaint(QObject):
    """Brings the view boxes' deferred range and transform changes up to date before a paint."""

    def __init__(self, view: pg.GraphicsView) -> None:
        super().__init__(view)
        self.view = view

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            scene = self.view.scene()
            if scene is not None:
                scene.prepareForPaint()
        return False


class ChartWidget(pg.PlotWidget):
    """A PlotWidget for live charts (same API)."""

    paintEvent = QGraphicsView.paintEvent  # the C++ one: no Python frame around the repaint

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._prepare = _PrepareBeforePaint(self)
        self.viewport().installEventFilter(self._prepare)


def draw_once(item: QGraphicsItem) -> None:
    """Keep `item` and its children as pictures, redrawn only when they change or the view
    moves, rather than painted (in Python, holding the GIL) on every frame."""
    QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), CACHED_PICTURES_KB))
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    for child in item.childItems():
        draw_once(child)
