"""Chart lines that Qt draws in C++, off the Python thread lock (the GIL).

A pyqtgraph curve paints in Python: every frame of a live chart holds the GIL
while its path is rasterised, and the training thread in the same process
waits. These lines are Qt's own `QGraphicsPathItem`s placed in a pyqtgraph
view box: Python only builds a path when the data change (numpy, a fraction
of a millisecond for the short live tail), and Qt paints it without the GIL.
A growing line is two items: its settled points, peak-downsampled to a few
thousand when they settle, and the newest few, rebuilt each frame.

The items are not cached as pictures: a cosmetic pen's width counts in data
units in a path item's bounding box, which on a chart of small values (a
learning rate) is a box hundreds of thousands of pixels tall, and Qt's cached
picture of it comes out with holes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

TAIL_POINTS = 64  # rebuilt each frame; the points before them are built once, as they settle
SETTLED_BUCKETS = 1024  # peak-downsampled to at most twice this many points (a chart's width)
MAX_DOTS = 2 * TAIL_POINTS  # beyond this many points a line has no dots (and a settled part)


def peak_downsample(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """At most 2 x `buckets` points keeping each bucket's lowest and highest value, so spikes
    survive (what pyqtgraph's 'peak' mode draws); NaNs (gaps) only where a whole bucket is."""
    size = len(x) // buckets
    if size < 2:
        return x, y
    whole = size * (len(x) // size)
    chunks = y[:whole].reshape(-1, size)
    low, high = np.fmin.reduce(chunks, axis=1), np.fmax.reduce(chunks, axis=1)
    xs = np.repeat(x[:whole:size], 2)
    ys = np.column_stack([low, high]).ravel()
    return np.concatenate([xs, x[whole:]]), np.concatenate([ys, y[whole:]])


def _shown(y: np.ndarray, log: bool) -> np.ndarray:
    if not log:
        return y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, np.log10(y), np.nan)


def line_path(x: np.ndarray, y: np.ndarray, log: bool = False) -> QPainterPath:
    """A path through the finite points, broken at NaNs (and at values <= 0 on a log axis)."""
    if len(x) < 2:
        return QPainterPath()
    return pg.arrayToQPath(x, _shown(y, log), connect="finite")


def dots_path(x: np.ndarray, y: np.ndarray, log: bool = False) -> QPainterPath:
    """A dot at each finite point: a vanishingly short segment, which a wide pen with round
    caps draws as a round dot of the pen's width however the view is scaled."""
    y = _shown(y, log)
    keep = np.isfinite(x) & np.isfinite(y)
    path = QPainterPath()
    for px, py in zip(x[keep].tolist(), y[keep].tolist()):
        path.moveTo(px, py)
        path.lineTo(px + 1e-9 * (1.0 + abs(px)), py)
    return path


def dot_pen(colour: object, size: float) -> QPen:
    pen = pg.mkPen(colour, width=size)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def _path_item(pen: QPen, z: float) -> QGraphicsPathItem:
    item = QGraphicsPathItem()
    item.setPen(pen)
    item.setZValue(z)
    return item


class _Part:
    """A stretch of a line: its path item, and a dots item when the line has dots."""

    def __init__(self, pen: QPen, dots: QPen | None, z: float) -> None:
        self.line = _path_item(pen, z)
        self.dots = _path_item(dots, z + 0.1) if dots is not None else None

    @property
    def items(self) -> list[QGraphicsPathItem]:
        return [self.line] if self.dots is None else [self.line, self.dots]

    def show(self, x: np.ndarray, y: np.ndarray, log: bool, dots: bool) -> None:
        self.line.setPath(line_path(x, y, log))
        if self.dots is not None:
            self.dots.setPath(dots_path(x, y, log) if dots else QPainterPath())


class LiveLine:
    """A line that grows while training: its settled points built once, the tail each frame.
    New points only ever extend a line (smoothing is causal), so the settled picture stays
    right until `restart`. `dots` (a pen from `dot_pen`) marks each point while there are few."""

    def __init__(
        self, box: pg.ViewBox, pen: QPen, z: float = 0.0, dots: QPen | None = None
    ) -> None:
        self.settled = _Part(pen, None, z)
        self.tail = _Part(pen, dots, z)
        for item in self.items:
            box.addItem(item, ignoreBounds=True)
        self.split = 0  # points before this index are in the settled picture
        self.log = False

    @property
    def items(self) -> list[QGraphicsPathItem]:
        return self.settled.items + self.tail.items

    def restart(self) -> None:
        """The points are about to change, not only grow (a new run, smoothing, log scale)."""
        self.split = 0
        self.settled.show(np.empty(0), np.empty(0), log=False, dots=False)

    def set(self, x: np.ndarray, y: np.ndarray) -> None:
        if len(x) < self.split:
            self.restart()
        if len(x) - self.split > 2 * TAIL_POINTS:
            self.split = len(x) - TAIL_POINTS
            end = self.split + 1  # the tail starts on the settled part's last point: no gap
            shown = peak_downsample(x[:end], y[:end], SETTLED_BUCKETS)
            self.settled.show(*shown, self.log, dots=False)
        self.tail.show(x[self.split :], y[self.split :], self.log, dots=len(x) <= MAX_DOTS)

    def setVisible(self, visible: bool) -> None:
        for item in self.items:
            item.setVisible(visible)

    def remove(self, box: pg.ViewBox) -> None:
        for item in self.items:
            box.removeItem(item)


class StillLine:
    """A line that no longer changes (an earlier run)."""

    def __init__(self, box: pg.ViewBox, pen: QPen, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = peak_downsample(x, y, SETTLED_BUCKETS)
        self.item = _path_item(pen, -10.0)
        box.addItem(self.item, ignoreBounds=True)
        self.set_log(False)

    def set_log(self, log: bool) -> None:
        self.item.setPath(line_path(self.x, self.y, log))

    def isVisible(self) -> bool:
        return self.item.isVisible()

    def setVisible(self, visible: bool) -> None:
        self.item.setVisible(visible)

    def remove(self, box: pg.ViewBox) -> None:
        box.removeItem(self.item)
