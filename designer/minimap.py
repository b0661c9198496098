"""An overview of the whole network in the canvas corner; click or drag to jump.

It paints plain rectangles from the node items' positions (no scene render),
so it costs the same for ten nodes as for a thousand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
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
        view.graph_scene.graph_changed.connect(self.update)
        self.place()

    def place(self) -> None:
        parent = self.view.rect()
        self.move(parent.width() - SIZE[0] - MARGIN, parent.height() - SIZE[1] - MARGIN)

    def _world(self) -> QRectF:
        nodes = self.view.graph_scene.nodes.values()
        rect = QRectF()
        for item in nodes:
            rect = rect.united(QRectF(item.pos().x(), item.pos().y(), NODE_WIDTH, NODE_HEIGHT))
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        return rect.united(visible).adjusted(-40, -40, 40, 40) if nodes else visible

    def _mapping(self) -> tuple[QRectF, float, QPointF]:
        world = self._world()
        inner = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        scale = min(inner.width() / max(world.width(), 1), inner.height() / max(world.height(), 1))
        offset = QPointF(
            inner.left() + (inner.width() - world.width() * scale) / 2 - world.left() * scale,
            inner.top() + (inner.height() - world.height() * scale) / 2 - world.top() * scale,
        )
        return world, scale, offset

    def paintEvent(self, event: QPaintEvent) -> None:
        t = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        background = t.colour("node_body")
        background.setAlpha(225)
        painter.setPen(QPen(t.colour("node_border"), 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        _world, scale, offset = self._mapping()
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
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        frame = QRectF(
            visible.left() * scale + offset.x(),
            visible.top() * scale + offset.y(),
            visible.width() * scale,
            visible.height() * scale,
        )
        accent = t.colour("accent")
        fill = QColor(accent)
        fill.setAlpha(30)
        painter.setBrush(fill)
        painter.setPen(QPen(accent, 1.2))
        painter.drawRect(frame.intersected(QRectF(self.rect())))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._jump(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event.position())

    def _jump(self, pos: QPointF) -> None:
        _world, scale, offset = self._mapping()
        self.view.centerOn((pos.x() - offset.x()) / scale, (pos.y() - offset.y()) / scale)
        self.update()
