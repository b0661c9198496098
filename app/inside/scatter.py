"""One layer's points, flat or in 3-D, drawn by numpy into a picture that Qt paints by itself.

The points arrive already projected (the training thread did the heavy part).
Drawing them is numpy work: each point a small disc of its class's colour
with a half-tone rim (cheap antialiasing), written into an RGB array that is
handed to Qt once and painted from a QLabel without Python. Every call into Qt lets the training thread take the GIL, and getting
it back can take a switch interval (5 ms), so a view that asked Qt to draw
each colour and depth band (40 calls) could hold the window up for a tenth of
a second while training ran; this asks twice per drawing.

In 3-D the cloud is turned by the page's shared rotation: dragging on any view
turns every view the same way, so layers can be compared from one angle.
Nearer points are drawn later, larger and brighter (four depth bands).
"""

from __future__ import annotations

import functools

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.regions_view import CLASS_COLOURS
from designer import theme

DEPTH_BANDS = 4
RIM = 0.4  # how much of a point's colour its one-pixel rim takes (a cheap antialiasing)
AXIS_NAMES3 = ("PC1", "PC2", "PC3")
BAND_COLOURS = ("#3f6fd8", "#3bb3c4", "#7fbf4d", "#d6b04c", "#e0894a", "#e05f7e")


def rotation(yaw: float, pitch: float) -> np.ndarray:
    """The turn for a drag: `yaw` about the vertical axis, then `pitch` about the horizontal."""
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    turn_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    turn_x = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    return turn_x @ turn_y


START_TURN = rotation(-0.6, 0.45)  # a view from slightly above and to the side


def group_colours(count: int, by_class: bool) -> list[QColor]:
    table = CLASS_COLOURS if by_class else BAND_COLOURS
    return [QColor(table[i % len(table)]) for i in range(max(count, 1))]


def _rgb(colour: QColor) -> np.ndarray:
    return np.array([colour.red(), colour.green(), colour.blue()], np.float32)


@functools.lru_cache(maxsize=64)
def disc(radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row and column offsets of a disc's pixels: its core, then its one-pixel rim."""
    reach = int(np.ceil(radius + 1))
    span = np.arange(-reach, reach + 1)
    rows, columns = np.meshgrid(span, span, indexing="ij")
    distance = np.sqrt(rows**2 + columns**2)
    core = distance <= radius
    rim = (distance > radius) & (distance <= radius + 0.75)
    return rows[core], columns[core], rows[rim], columns[rim]


def depth_bands(depth: np.ndarray) -> np.ndarray:
    """Depth band of each point, 0 the farthest (equal shares of the points)."""
    ranks = np.empty(len(depth), np.int64)
    ranks[np.argsort(depth, kind="stable")] = np.arange(len(depth))
    return ranks * DEPTH_BANDS // max(len(depth), 1)


def draw_line(canvas: np.ndarray, start: np.ndarray, end: np.ndarray, colour: np.ndarray) -> None:
    """A one-pixel line (at the drawing's scale) from `start` to `end`, (column, row) each."""
    steps = int(max(abs(end - start).max(), 1))
    t = np.linspace(0.0, 1.0, steps + 1)[:, None]
    points = np.rint(start + (end - start) * t).astype(np.int64)
    height, width = canvas.shape[:2]
    keep = (
        (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)
    )
    canvas[points[keep, 1], points[keep, 0]] = colour


def base_canvas(
    size: tuple[int, int], three_d: bool, turn: np.ndarray, background: QColor, faint: QColor
) -> np.ndarray:
    """The background and the axes (turned with the cloud in 3-D), for `size`."""
    width, height = size
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = _rgb(background).astype(np.uint8)
    centre = np.array([width / 2.0, height / 2.0])
    radius = max(min(width, height) / 2.0 / 1.22, 4.0)
    line = _rgb(faint).astype(np.uint8)
    if three_d:
        for end in np.eye(3) * 1.15 @ turn.T:
            tip = np.array([end[0], -end[1]]) * radius
            draw_line(canvas, centre - tip, centre + tip, line)
    else:
        for tip in (np.array([1.15, 0.0]) * radius, np.array([0.0, 1.15]) * radius):
            draw_line(canvas, centre - tip, centre + tip, line)
    return canvas


def raster(
    points: np.ndarray,
    groups: np.ndarray,
    colours: list[QColor],
    base: np.ndarray,
    three_d: bool,
    turn: np.ndarray,
    background: QColor,
) -> np.ndarray:
    """The picture (height, width, 3) of `points` ((N, 3), or (N, 2) flat) over `base`."""
    canvas = base.copy()
    height, width = canvas.shape[:2]
    if not len(points):
        return canvas
    centre = np.array([width / 2.0, height / 2.0])
    radius = max(min(width, height) / 2.0 / 1.22, 4.0)
    if three_d:
        shown = points @ turn.T
    else:
        shown = np.column_stack([points[:, :2], np.zeros(len(points))])
    back = _rgb(background)
    table = np.stack([_rgb(c) for c in colours])
    groups = groups if len(groups) == len(shown) else np.zeros(len(shown), np.int64)
    colour_of = table[np.mod(groups, len(table))]
    columns = np.rint(centre[0] + shown[:, 0] * radius).astype(np.int64)
    rows = np.rint(centre[1] - shown[:, 1] * radius).astype(np.int64)
    dot = float(np.clip(radius / 40.0, 2.0, 4.5))
    bands = depth_bands(shown[:, 2]) if three_d else np.zeros(len(shown), np.int64)
    top = int(bands.max())
    for band in range(top + 1):
        near = (band + 1) / (top + 1)
        share = 0.4 + 0.6 * near if three_d else 1.0
        chosen = np.nonzero(bands == band)[0]
        size = dot * ((0.7 + 0.45 * near) if three_d else 1.0)
        core_r, core_c, rim_r, rim_c = disc(round(size * 4) / 4)
        colour = colour_of[chosen] * share + back * (1 - share)
        for offsets_r, offsets_c, paint in (
            (rim_r, rim_c, colour * RIM + back * (1 - RIM)),
            (core_r, core_c, colour),
        ):
            r = np.clip(rows[chosen, None] + offsets_r, 0, height - 1)
            c = np.clip(columns[chosen, None] + offsets_c, 0, width - 1)
            canvas[r, c] = paint.astype(np.uint8)[:, None, :]
    return canvas


class ScatterView(QWidget):
    """One layer's batch as points; see the module docstring. `turned` (dx, dy in pixels) asks
    the page to turn every view; `opened` (a double click) asks it to show this layer alone."""

    turned = Signal(float, float)
    opened = Signal()
    resized = Signal()  # the picture must be drawn again at the new size

    def __init__(self, parent: QWidget | None = None, minimum: int = 150) -> None:
        super().__init__(parent)
        self.setObjectName("InsideScatter")
        self.setMinimumSize(QSize(minimum, minimum + 20))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(0)
        self.caption = QLabel("")  # the layer's name (plain text: cheap to set)
        self.caption.setObjectName("InsideCaption")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setStyleSheet("font-weight: 600;")
        self.facts = QLabel("")  # its kind, units and variance share, dimmer
        self.facts.setObjectName("InspectorDim")
        self.facts.setTextFormat(Qt.TextFormat.PlainText)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        layout.addWidget(self.caption)
        layout.addWidget(self.facts)
        layout.addWidget(self.picture, 1)
        self.title = ""
        self.subtitle = ""
        self._captions = ("", "")
        self.points2 = np.zeros((0, 2), np.float32)
        self.points3 = np.zeros((0, 3), np.float32)
        self.groups = np.zeros(0, np.int64)
        self.colours = group_colours(1, True)
        self.three_d = True
        self.axis_names: tuple[str, ...] = AXIS_NAMES3
        self.turn = START_TURN
        self.dirty = True
        self.renders = 0
        self._drag: QPointF | None = None
        self._base_key: tuple[object, ...] | None = None
        self._base = np.zeros((1, 1, 3), np.uint8)

    # ------------------------------------------------------------ data
    def set_points(
        self,
        points2: np.ndarray,
        points3: np.ndarray,
        title: str,
        subtitle: str,
        axes: tuple[str, ...] = AXIS_NAMES3,
    ) -> None:
        self.points2, self.points3 = points2, points3
        self.title, self.subtitle = title, subtitle
        self.axis_names = axes
        self.dirty = True

    def set_groups(self, groups: np.ndarray, colours: list[QColor]) -> None:
        self.groups = np.asarray(groups, np.int64)
        self.colours = colours
        self.dirty = True

    def set_view(self, three_d: bool, turn: np.ndarray) -> None:
        if three_d != self.three_d or not np.array_equal(turn, self.turn):
            self.three_d, self.turn = three_d, turn
            self.dirty = True

    def pixmap(self) -> QPixmap:
        return self.picture.pixmap()

    # --------------------------------------------------------- drawing
    def render_now(self) -> None:
        """Draw the picture for the current points, turn and size (only if something changed)."""
        width, height = self.picture.width(), self.picture.height()
        if not self.dirty or width < 8 or height < 8:
            return
        self.dirty = False
        self.renders += 1
        colours = theme.current()
        captions = (self.title, self._facts())
        if captions != self._captions:  # the facts change with the variance share only
            if captions[0] != self._captions[0]:
                self.caption.setText(captions[0])
            self.facts.setText(captions[1])
            self._captions = captions
        points = self.points3 if self.three_d else self.points2
        size = (width, height)
        background = QColor(colours.canvas)
        key = (size, self.three_d, self.turn.tobytes(), colours.name)
        if self._base_key != key:  # the axes change only with the turn, the size, the theme
            self._base_key = key
            faint = QColor(colours.node_border)
            self._base = base_canvas(size, self.three_d, self.turn, background, faint)
        rgb = raster(
            points, self.groups, self.colours, self._base, self.three_d, self.turn, background
        )
        image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self.picture.setPixmap(QPixmap.fromImage(image))  # a copy: the array may go

    def _facts(self) -> str:
        wide = self.width() > 320  # the strip's small views keep to the layer's facts
        axes = " · axes " + ", ".join(self.axis_names[: 3 if self.three_d else 2])
        return self.subtitle + (axes if wide else "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.dirty = True
        self.resized.emit()

    # ---------------------------------------------------------- turning
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.three_d:
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            step = event.position() - self._drag
            self._drag = event.position()
            self.turned.emit(step.x(), step.y())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.opened.emit()
        super().mouseDoubleClickEvent(event)
