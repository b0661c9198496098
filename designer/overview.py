"""The whole graph as one picture when zoomed far out (below `OVERVIEW_ZOOM`).

At fit, a 1,000-layer graph puts every node and wire on screen; painting each one is a
Python call per item per frame (about 60 ms a frame). Far out, the items paint nothing
(`ItemHasNoContents`: they still take clicks and drags) and this one item replays a
recorded picture of coloured boxes and wires: one Python call a frame, and a blit of its
device cache while panning. The picture is recorded again only after the graph changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer import theme
from designer.node_item import NODE_WIDTH

if TYPE_CHECKING:
    from designer.edge_item import EdgeItem
    from designer.node_item import NodeItem

OVERVIEW_ZOOM = 0.2  # below this zoom the canvas is one picture (the nodes' plain-block level)


class Overview(QGraphicsItem):
    """One item drawing every node as a box in its category's colour and every wire."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self._picture: QPicture | None = None
        self._rect = QRectF()
        self.setZValue(-2)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def show_items(self, nodes: dict[str, NodeItem], edges: list[EdgeItem]) -> None:
        """Draw these from now on (recorded at the next paint)."""
        self.nodes, self.edges = nodes, edges
        self.invalidate()

    def invalidate(self) -> None:
        """The graph changed: record the picture again when next painted."""
        self.prepareGeometryChange()
        self._picture = None
        self.update()

    def boundingRect(self) -> QRectF:
        self._record()
        return self._rect

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.drawPicture(0, 0, self._record())

    def _record(self) -> QPicture:
        if self._picture is not None:
            return self._picture
        t = theme.current()
        picture = QPicture()
        painter = QPainter(picture)
        painter.setRenderHint(
            QPainter.RenderHint.Antialiasing, False
        )  # as wires far out: 4x faster
        rect = QRectF()
        for broken, colour in ((False, t.colour("wire")), (True, t.colour("error"))):
            # straight, in one call per colour: a curve costs 3x as much to draw, and looks alike
            lines = [
                QLineF(e.source.scenePos(), e.target.scenePos())
                for e in self.edges
                if e.broken == broken
            ]
            pen = QPen(colour, 2.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLines(lines)
            for line in lines:
                rect = rect.united(QRectF(line.p1(), line.p2()).normalized())
        boxes: dict[int, tuple[QColor, list[QRectF]]] = {}
        for item in self.nodes.values():
            body = QRectF(item.pos().x(), item.pos().y(), NODE_WIDTH, item.height)
            flagged = item.severity is not None or item.isSelected()
            colour = item.flag_colour(t) if flagged else theme.category_colour(item.category)
            boxes.setdefault(colour.rgba(), (colour, []))[1].append(body)
            rect = rect.united(body)
        painter.setPen(Qt.PenStyle.NoPen)
        for colour, bodies in boxes.values():
            painter.setBrush(colour)
            painter.drawRects(bodies)
        painter.end()
        self._picture, self._rect = picture, rect.adjusted(-4, -4, 4, 4)
        return picture
