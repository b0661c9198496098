"""One layer's points, flat or in 3-D, drawn into a picture that Qt paints without Python.

The points arrive already projected (the training thread did the heavy part).
Drawing them is one `drawPoints` call per colour and depth band into a QImage,
done only when the points, the turn or the size change; the widget is a QLabel
showing that picture, so repainting (a tab switch, a window over it) runs no
Python at all and never holds the GIL the training thread needs.

In 3-D the cloud is turned by the page's shared rotation: dragging on any view
turns every view the same way, so layers can be compared from one angle.
Nearer points are drawn later, larger and brighter (four depth bands).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph.functions as fn
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.regions_view import CLASS_COLOURS
from designer import theme

DEPTH_BANDS = 4
TITLE_HEIGHT = 34
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


def mixed(colour: QColor, background: QColor, share: float) -> QColor:
    """`colour` faded toward `background` by `1 - share` (far points in 3-D)."""
    return QColor(
        round(colour.red() * share + background.red() * (1 - share)),
        round(colour.green() * share + background.green() * (1 - share)),
        round(colour.blue() * share + background.blue() * (1 - share)),
    )


class ScatterView(QLabel):
    """One layer's batch as points; see the module docstring. `turned` (dx, dy in pixels) asks
    the page to turn every view; `opened` (a double click) asks it to show this layer alone."""

    turned = Signal(float, float)
    opened = Signal()

    def __init__(self, parent: QWidget | None = None, minimum: int = 150) -> None:
        super().__init__(parent)
        self.setObjectName("InsideScatter")
        self.setMinimumSize(QSize(minimum, minimum + TITLE_HEIGHT // 2))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.title = ""
        self.subtitle = ""
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

    # --------------------------------------------------------- drawing
    def render_now(self) -> None:
        """Draw the picture for the current points, turn and size (only if something changed)."""
        if not self.dirty or self.width() < 8 or self.height() < 8:
            return
        self.dirty = False
        self.renders += 1
        ratio = self.devicePixelRatioF()
        image = QImage(
            round(self.width() * ratio),
            round(self.height() * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        colours = theme.current()
        background = QColor(colours.canvas)
        image.fill(background)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._captions(painter, colours)
            self._cloud(painter, background, colours)
        finally:
            painter.end()
        self.setPixmap(QPixmap.fromImage(image))

    def _captions(self, painter: QPainter, colours: theme.Theme) -> None:
        painter.setPen(QColor(colours.text))
        painter.setFont(theme.ui_font(9, bold=True))
        width = self.width() - 12
        painter.drawText(QRectF(8, 3, width, 16), Qt.AlignmentFlag.AlignLeft, self.title)
        painter.setPen(QColor(colours.text_dim))
        painter.setFont(theme.ui_font(7.5))
        painter.drawText(QRectF(8, 18, width, 14), Qt.AlignmentFlag.AlignLeft, self.subtitle)

    def _frame(self) -> tuple[float, float, float]:
        """Centre and radius, in pixels, of the plot below the captions."""
        top = TITLE_HEIGHT
        height = self.height() - top - 6
        radius = max(min(self.width() - 12, height) / 2.0, 4.0) / 1.25
        return self.width() / 2.0, top + height / 2.0, radius

    def _cloud(self, painter: QPainter, background: QColor, colours: theme.Theme) -> None:
        cx, cy, radius = self._frame()
        faint = QColor(colours.grid_major)
        if self.three_d:
            shown = self.points3 @ self.turn.T
            self._axes3(painter, cx, cy, radius, faint, colours)
        else:
            shown = np.column_stack([self.points2, np.zeros(len(self.points2))])
            painter.setPen(QPen(faint, 1))
            reach = radius * 1.15
            painter.drawLine(QPointF(cx - reach, cy), QPointF(cx + reach, cy))
            painter.drawLine(QPointF(cx, cy - reach), QPointF(cx, cy + reach))
            painter.setPen(QColor(colours.text_dim))
            painter.setFont(theme.ui_font(7))
            painter.drawText(QPointF(cx + reach - 16, cy - 4), self.axis_names[0])
            painter.drawText(QPointF(cx + 4, cy - reach + 8), self.axis_names[1])
        if not len(shown):
            return
        groups = self.groups if len(self.groups) == len(shown) else np.zeros(len(shown), np.int64)
        pixels = np.column_stack([cx + shown[:, 0] * radius, cy - shown[:, 1] * radius])
        size = float(np.clip(radius / 22.0, 3.0, 7.0))
        bands = self._bands(shown[:, 2]) if self.three_d else np.zeros(len(shown), np.int64)
        for band in range(int(bands.max()) + 1):
            near = (band + 1) / (bands.max() + 1)  # 1 for the nearest band
            share = 0.45 + 0.55 * near if self.three_d else 1.0
            width = size * (0.75 + 0.4 * near) if self.three_d else size
            for group in np.unique(groups[bands == band]):
                chosen = pixels[(bands == band) & (groups == group)]
                colour = self.colours[int(group) % len(self.colours)]
                pen = QPen(mixed(colour, background, share), width)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                painter.setPen(pen)
                painter.drawPoints(polygon(chosen))

    @staticmethod
    def _bands(depth: np.ndarray) -> np.ndarray:
        """Depth band of each point, 0 the farthest (equal shares of the points)."""
        if len(depth) < DEPTH_BANDS:
            return np.zeros(len(depth), np.int64)
        edges = np.quantile(depth, np.linspace(0, 1, DEPTH_BANDS + 1)[1:-1])
        return np.searchsorted(edges, depth).astype(np.int64)

    def _axes3(
        self,
        painter: QPainter,
        cx: float,
        cy: float,
        radius: float,
        faint: QColor,
        colours: theme.Theme,
    ) -> None:
        """The three axes through the centre, turned with the cloud, so its turn reads."""
        ends = np.eye(3) * 1.15 @ self.turn.T
        painter.setFont(theme.ui_font(7))
        for axis, (x, y, _z) in enumerate(ends):
            painter.setPen(QPen(faint, 1))
            tip = QPointF(cx + x * radius, cy - y * radius)
            painter.drawLine(QPointF(cx - x * radius, cy + y * radius), tip)
            painter.setPen(QColor(colours.text_dim))
            painter.drawText(tip + QPointF(3, -3), self.axis_names[axis])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.dirty = True
        self.render_now()

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


def polygon(points: np.ndarray) -> QPolygonF:
    """A QPolygonF filled from an (N, 2) array without a Python loop."""
    made: QPolygonF = fn.create_qpolygonf(len(points))
    fn.ndarray_from_qpolygonf(made)[:] = points
    return made
