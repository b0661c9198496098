"""A wire: a cubic curve from an output port to an input port, with its shape.

The label (``32x8x8``) is the output shape of the source node as the engine's
analysis inferred it. Pressing near either end lifts that end so it can be
plugged elsewhere (or dropped on empty canvas to delete the wire).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer import theme
from designer.port_item import PortItem, graph_scene
from engine.graph import Edge

END_GRAB = 22.0  # how close to an end a press lifts that end


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic, the shape node editors use for wires."""
    dx = max(abs(end.x() - start.x()) * 0.5, 40.0)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class EdgeItem(QGraphicsItem):
    def __init__(self, edge: Edge, source: PortItem, target: PortItem) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.label = ""
        self.broken = False  # the target layer has an error
        self.hovered = False
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._label_rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(-1)
        self.update_path()

    @property
    def path(self) -> QPainterPath:
        """The wire's curve in scene coordinates."""
        return self._path

    def update_path(self) -> None:
        self.prepareGeometryChange()
        self._path = wire_path(self.source.scenePos(), self.target.scenePos())
        self._layout_label()

    def set_label(self, text: str, broken: bool) -> None:
        if (text, broken) == (self.label, self.broken):
            return
        self.prepareGeometryChange()
        self.label, self.broken = text, broken
        self._layout_label()
        self.setToolTip(
            f"{self.edge.source.node} → {self.edge.target.node}"
            + (f": {text} per sample" if text else "")
            + "<br>Drag an end to re-plug it; select and press Delete to remove it."
        )
        self.update()

    def _layout_label(self) -> None:
        if self.label:
            metrics = QFontMetricsF(theme.mono_font(7.6))
            width = metrics.horizontalAdvance(self.label) + 12
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - width / 2, mid.y() - 8.5, width, 17)
        else:
            self._label_rect = QRectF()
        self._bounds = self._path.boundingRect().adjusted(-6, -6, 6, 6).united(self._label_rect)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self._path)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        t = theme.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod >= 0.2)
        if self.isSelected():
            colour, width = t.colour("accent"), 3.0
        elif self.broken:
            colour, width = t.colour("error"), 2.0
        else:
            colour, width = t.colour("wire"), 2.0
        if self.hovered and not self.isSelected():
            colour = colour.lighter(130)
        pen = QPen(colour, width)
        pen.setCosmetic(True)
        if not self.label:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and lod >= 0.5:
            self._paint_label(painter, t, colour)

    def _paint_label(self, painter: QPainter, t: theme.Theme, colour: object) -> None:
        border = QPen(colour, 1.0)  # type: ignore[call-overload]
        border.setCosmetic(True)
        painter.setPen(border)
        painter.setBrush(t.colour("wire_label_bg"))
        painter.drawRoundedRect(self._label_rect, 8.5, 8.5)
        painter.setPen(t.colour("wire_label_text"))
        painter.setFont(theme.mono_font(7.6))
        painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)

    # -------------------------------------------------------------- events
    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = False
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Near an end: lift that end to re-plug it. Elsewhere: plain selection."""
        scene = graph_scene(self)
        pos = event.scenePos()
        if event.button() == Qt.MouseButton.LeftButton and scene is not None:
            near_target = _distance(pos, self.target.scenePos()) <= END_GRAB
            near_source = _distance(pos, self.source.scenePos()) <= END_GRAB
            if (near_target or near_source) and scene.lift_wire_end(self, near_target, pos):
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = graph_scene(self)
        if scene is not None and scene.wire_drag is not None:
            scene.wire_drag.move(event.scenePos())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = graph_scene(self)
        if scene is not None and scene.wire_drag is not None:
            scene.finish_wire(event.scenePos())
            return
        super().mouseReleaseEvent(event)


def _distance(a: QPointF, b: QPointF) -> float:
    return ((a.x() - b.x()) ** 2 + (a.y() - b.y()) ** 2) ** 0.5
