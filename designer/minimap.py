"""An overview of the whole network in the canvas corner; click or drag to jump.

It paints plain rectangles from the node items' positions (no scene render),
so it costs the same for ten nodes as for a thousand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from designer import theme
from designer.node_item import NODE_HEIGHT, NODE_WIDTH

if TYPE_CHECKING:
    from designer.view import GraphView

SIZE = (220, 140)
MARGIN = 12


class Minimap(QWidget):
    def __init__(self, view: GraphView) -> None:
        super().__init__(view)
        self.view = view
        self.setFixedSize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move around the network")
        self._picture: tuple[QPixmap, float, QPointF] | None = None
        view.graph_scene.graph_changed.connect(self.invalidate)
        self._errors: set[str] = set()
        view.document.analysed.connect(self._analysed)
        self.place()

    def place(self) -> None:
        parent = self.view.rect()
        self.move(parent.width() - SIZE[0] - MARGIN, parent.height() - SIZE[1] - MARGIN)

    def invalidate(self) -> None:
        """The network changed: redraw the cached picture of its nodes on the next paint."""
        self._picture = None
        self.update()

    def _analysed(self, _analysis: object) -> None:
        errors = {n for n, item in self.view.graph_scene.nodes.items() if item.severity == "error"}
        if errors != self._errors:
            self._errors = errors
            self.invalidate()

    def _world(self) -> QRectF:
        nodes = self.view.graph_scene.nodes.values()
        if not nodes:
            return self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        rect = QRectF()
        for item in nodes:
            rect = rect.united(QRectF(item.pos().x(), item.pos().y(), NODE_WIDTH, NODE_HEIGHT))
        return rect.adjusted(-60, -60, 60, 60)

    def _mapping(self) -> tuple[float, QPointF]:
        world = self._world()
        inner = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        scale = min(inner.width() / max(world.width(), 1), inner.height() / max(world.height(), 1))
        offset = QPointF(
            inner.left() + (inner.width() - world.width() * scale) / 2 - world.left() * scale,
            inner.top() + (inner.height() - world.height() * scale) / 2 - world.top() * scale,
        )
        return scale, offset

    def _paint_nodes(self) -> tuple[QPixmap, float, QPointF]:
        """The node rectangles, drawn once per change of the network, not per frame."""
        t = theme.current()
        ratio = self.devicePixelRatioF()
        picture = QPixmap(self.size() * ratio)
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent)
        scale, offset = self._mapping()
        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        background = t.colour("node_body")
        background.setAlpha(230)
        painter.setPen(QPen(t.colour("node_border"), 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        for item in self.view.graph_scene.nodes.values():
            colour = (
                t.colour("error")
                if item.severity == "error"
                else theme.category_colour(item.category)
            )
            painter.setBrush(colour)
            painter.drawRect(
                QRectF(
                    item.pos().x() * scale + offset.x(),
                    item.pos().y() * scale + offset.y(),
                    max(NODE_WIDTH * scale, 2),
                    max(NODE_HEIGHT * scale, 2),
                )
            )
        painter.end()
        return picture, scale, offset

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._picture is None:
            self._picture = self._paint_nodes()
        picture, scale, offset = self._picture
        painter = QPainter(self)
        painter.drawPixmap(0, 0, picture)
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        frame = QRectF(
            visible.left() * scale + offset.x(),
            visible.top() * scale + offset.y(),
            visible.width() * scale,
            visible.height() * scale,
        ).intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        accent = theme.current().colour("accent")
        fill = QColor(accent)
        fill.setAlpha(30)
        painter.setBrush(fill)
        painter.setPen(QPen(accent, 1.2))
        painter.drawRect(frame)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._jump(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position())

    def _jump(self, pos: QPointF) -> None:
        scale, offset = self._mapping()
        self.view.centerOn((pos.x() - offset.x()) / scale, (pos.y() - offset.y()) / scale)
        self.update()
