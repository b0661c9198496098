"""A socket on a node: inputs on the left edge, outputs on the right.

Pressing a port starts a wire drag (handled by the scene's `WireDrag`);
while a wire is dragged, the port under the cursor shows whether it would
take it (green) or refuse it (red).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer import theme
from designer.wiring import PortEnd

if TYPE_CHECKING:
    from designer.node_item import NodeItem
    from designer.scene import GraphScene

PORT_RADIUS = 5.5
HIT_RADIUS = 13.0
LABEL_GAP = 10.0  # from a port's centre to its label, inside the node


def label_font() -> QFont:
    return theme.ui_font(7.5)


class PortItem(QGraphicsItem):
    def __init__(
        self,
        node: NodeItem,
        name: str,
        is_output: bool,
        multiple: bool = False,
        show_label: bool = False,
    ) -> None:
        super().__init__(node)
        self.node_item = node
        self.name = name
        self.is_output = is_output
        self.multiple = multiple
        self.show_label = show_label
        self.highlight: str | None = None  # "valid", "invalid" or None
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        kind = "output" if is_output else "input"
        many = " (takes any number of wires)" if multiple else ""
        self.setToolTip(f"{kind} '{name}'{many}: drag to another layer's port to wire them")

    @property
    def end(self) -> PortEnd:
        return PortEnd(self.node_item.node_id, self.name, self.is_output)

    def centre(self) -> QPointF:
        return self.scenePos()

    def set_highlight(self, state: str | None) -> None:
        if state != self.highlight:
            self.highlight = state
            self.node_item.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-HIT_RADIUS, -HIT_RADIUS, 2 * HIT_RADIUS, 2 * HIT_RADIUS)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def label_width(self) -> float:
        """Room the label takes inside the node, beside the port (0 without a label)."""
        if not self.show_label:
            return 0.0
        return QFontMetricsF(label_font()).horizontalAdvance(self.name) + LABEL_GAP

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """Nothing: the node paints its ports, so they share its cached picture."""

    def draw(self, painter: QPainter, lod: float) -> None:
        """Paint this port in the node's coordinates (called from NodeItem.paint)."""
        t = theme.current()
        fill = theme.category_colour(self.node_item.category)
        if self.highlight == "valid":
            fill = t.colour("ok")
        elif self.highlight == "invalid":
            fill = t.colour("error")
        centre = self.pos()
        radius = PORT_RADIUS + (1.5 if self.hovered or self.highlight else 0.0)
        pen = QPen(t.colour("port_border"), 2.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(fill)
        if self.multiple:
            painter.drawRoundedRect(
                QRectF(
                    centre.x() - radius * 0.8, centre.y() - radius * 1.6, radius * 1.6, radius * 3.2
                ),
                radius * 0.8,
                radius * 0.8,
            )
        else:
            painter.drawEllipse(centre, radius, radius)
        if self.highlight:
            ring = QPen(QColor(fill), 1.5)
            ring.setCosmetic(True)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, radius + 4, radius + 4)
        if self.show_label and lod >= 0.6:
            painter.setPen(t.colour("text_dim"))
            painter.setFont(label_font())
            if self.is_output:
                rect = QRectF(centre.x() - 60 - LABEL_GAP, centre.y() - 8, 60, 16)
                align = Qt.AlignmentFlag.AlignRight
            else:
                rect = QRectF(centre.x() + LABEL_GAP, centre.y() - 8, 60, 16)
                align = Qt.AlignmentFlag.AlignLeft
            painter.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter, self.name)

    # -------------------------------------------------------------- events
    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = True
        self.node_item.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = False
        self.node_item.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = graph_scene(self)
        if event.button() != Qt.MouseButton.LeftButton or scene is None:
            event.ignore()
            return
        if scene.start_wire(self, event.scenePos()):
            event.accept()
        else:
            event.ignore()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = graph_scene(self)
        if scene is not None and scene.wire_drag is not None:
            scene.wire_drag.move(event.scenePos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = graph_scene(self)
        if scene is not None and scene.wire_drag is not None:
            scene.finish_wire(event.scenePos())


def graph_scene(item: QGraphicsItem) -> GraphScene | None:
    """The editor's scene holding `item`; None in a plain scene (a gallery thumbnail)."""
    scene = item.scene()
    return cast("GraphScene", scene) if hasattr(scene, "start_wire") else None
