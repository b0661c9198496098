"""A layer on the canvas: title, icon, category colour, summary, shape, state.

Painted directly with QPainter (no child text items, no shadows) so a thousand
of them stay cheap; zoomed out, it paints less and less (level of detail).
Everything it shows comes from the graph node and the engine's analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer import theme
from designer.port_item import PortItem
from engine.analysis import Diagnostic, NodeInfo
from engine.blocks import reference
from engine.costs import LayerCost, size_text
from engine.graph import Node
from engine.layers import LayerType, layer_type
from engine.layers._shape import fmt

if TYPE_CHECKING:
    from designer.edge_item import EdgeItem

NODE_WIDTH = 184.0
HEADER_HEIGHT = 30.0
NODE_HEIGHT = 88.0
RADIUS = 7.0
LOD_TEXT = 0.45  # below this zoom, no text
LOD_BLOCK = 0.2  # below this zoom, a plain coloured block (designer.overview paints it)


def format_value(value: Any) -> str:
    linked = reference(value)
    if linked is not None:  # a block parameter: each use sets it (the shapes show this one's)
        return f"‹{linked}›"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    if value is None:
        return "auto"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def summary_text(node: Node, layer: LayerType | None = None) -> str:
    """The key parameters, compactly: ``32 ch · k 3``. Defaults beyond the first are skipped.
    `layer`: the node's declaration when the catalogue does not have it (a block node's)."""
    layer = layer or layer_type(node.type)
    if layer is None:
        return f"unknown type {node.type}"
    values = layer.resolved(node.params)
    parts = []
    for i, name in enumerate(layer.summary):
        param = layer.param(name)
        value = values.get(name)
        if i > 0 and param is not None and value == param.default and value in (None, 0, 1, False):
            continue  # a trivial default (stride 1, no padding) says nothing
        badge = param.badge if param is not None and param.badge else name + " {}"
        parts.append(badge.format(format_value(value)).strip())
    if not parts:
        return layer.help.split(". ")[0].split(": ")[0]
    return " · ".join(parts)


def count_text(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M params"
    if count >= 10_000:
        return f"{count / 1000:.0f}k params"
    if count >= 1000:
        return f"{count / 1000:.1f}k params"
    return f"{count} params"


class NodeItem(QGraphicsItem):
    """The picture of one graph node. It never edits the graph itself."""

    height = NODE_HEIGHT  # a block node is taller: it shows a picture of its inside

    def __init__(self, node: Node, layer: LayerType | None = None) -> None:
        """`layer`: the node's declaration when the catalogue does not have it (a block node's
        ports come from its definition; the scene resolves it with engine.blocks)."""
        super().__init__()
        self.node_id = node.id
        self.type_name = node.type
        layer = self.layer = layer or layer_type(node.type)
        self.category = layer.category if layer else "?"
        self.icon_name = layer.icon if layer else "mdi6.help-circle-outline"
        self.edges: set[EdgeItem] = set()
        self.summary = summary_text(node, layer)
        self.shape_text = ""
        self.count = 0
        self.memory_text = ""  # its output's memory for the training batch: "512 KB"
        self.measured_text = ""  # its measured time per batch (Analyze > Profile): "2.95 ms"
        self.measured_share = 0.0  # of the slowest layer's time, 0 to 1: the bar's length
        self.severity: str | None = None
        self._state_key: tuple[Any, ...] = ()
        self._seen: tuple[Any, ...] = ()
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(True)
        # Rendered once per zoom level at device resolution (crisp), then blitted while
        # panning or repainting neighbours; re-rendered when it changes or the zoom does.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.picture_held = False  # see hold_picture
        self._bounds = QRectF(-16.0, -12.0, NODE_WIDTH + 32.0, self.height + 24.0)
        self.setPos(QPointF(*node.position))
        self.inputs = self._make_ports(layer.inputs if layer else (), False)
        outputs = layer.outputs_for(layer.resolved(node.params)) if layer else ()
        self.outputs = self._make_ports(outputs, True)
        self.setToolTip(self._help())

    def text_insets(self) -> tuple[float, float]:
        """Left and right margins of the body text: wider where ports are labelled (an
        attention layer's `in` and `padding`, a Split's pieces), so labels never cover it."""
        left = max((p.label_width() for p in self.inputs.values()), default=0.0)
        right = max((p.label_width() for p in self.outputs.values()), default=0.0)
        return max(12.0, left + 4), max(12.0, right + 4)

    def _make_ports(self, ports: Any, is_output: bool) -> dict[str, PortItem]:
        made = {}
        count = len(ports)
        for i, port in enumerate(ports):
            y = HEADER_HEIGHT + (self.height - HEADER_HEIGHT) * (i + 1) / (count + 1)
            x = NODE_WIDTH if is_output else 0.0
            item = PortItem(self, port.name, is_output, port.multiple, show_label=count > 1)
            item.setPos(x, y)
            made[port.name] = item
        return made

    def refresh_outputs(self, node: Node) -> bool:
        """Remake the output ports when the parameters change them (a Split's pieces);
        True when they changed, so the scene re-attaches the wires."""
        layer = self.layer
        if layer is None or not layer.multi_output:
            return False
        ports = layer.outputs_for(layer.resolved(node.params))
        if [p.name for p in ports] == list(self.outputs):
            return False
        for item in self.outputs.values():
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.outputs = self._make_ports(ports, True)
        self.update()
        return True

    def port(self, name: str, is_output: bool) -> PortItem | None:
        return (self.outputs if is_output else self.inputs).get(name)

    def _help(self) -> str:
        layer = self.layer
        return f"<b>{self.node_id}</b> — {self.type_name}<br>{layer.help if layer else ''}"

    # ------------------------------------------------------------- updates
    def set_summary(self, node: Node) -> None:
        text = summary_text(node, self.layer)
        if text != self.summary:
            self.summary = text
            self.update()

    def set_node_id(self, node_id: str) -> None:
        self.node_id = node_id
        self.setToolTip(self._help())
        self.update()

    def set_state(
        self, info: NodeInfo | None, diagnostics: list[Diagnostic], cost: LayerCost | None = None
    ) -> None:
        """Show what the analysis found; repaint only when something visible changed."""
        memory = cost.output_batch_bytes if cost is not None else None
        batch = cost.batch_size if cost is not None else None
        seen = (info.shapes, info.params) if info is not None else None, diagnostics, memory, batch
        if seen == self._seen:
            return  # most nodes are untouched by an edit: skip the formatting too
        self._seen = seen
        shape = "" if info is None else " · ".join(fmt(s) for s in info.shapes.values())
        count = 0 if info is None else info.params
        severity = None
        if any(d.severity == "error" for d in diagnostics):
            severity = "error"
        elif diagnostics:
            severity = "warning"
        messages = tuple(str(d) for d in diagnostics)
        memory_text = size_text(memory) if memory and info is not None and info.shapes else ""
        key = (shape, count, severity, messages, memory_text, batch)
        if key == self._state_key:
            return
        self._state_key = key
        self.shape_text, self.count, self.severity = shape, count, severity
        self.memory_text = memory_text
        tip = self._help()
        if memory_text:
            tip += (
                f"<br>Output for a batch of {batch}: {memory_text} (the inspector has all figures)"
            )
        if messages:
            lines = "".join(f"<br>• {_escape(m)}" for m in messages)
            tip = f"{tip}<hr>{lines[4:]}"
        self.setToolTip(tip)
        self.update()

    def set_measured(self, text: str, share: float) -> None:
        """Show the layer's measured time (empty text: none) and its bar, `share` of the
        slowest layer's time."""
        if (text, share) != (self.measured_text, self.measured_share):
            self.measured_text, self.measured_share = text, share
            self.update()

    def hold_picture(self, held: bool) -> None:
        """While a zoom gesture lasts, keep one picture in item coordinates that Qt scales (no
        repaint per zoom step); False: render at the screen's resolution again (crisp)."""
        if held == self.picture_held:
            return
        self.picture_held = held
        self.setCacheMode(
            QGraphicsItem.CacheMode.ItemCoordinateCache
            if held
            else QGraphicsItem.CacheMode.DeviceCoordinateCache
        )

    # ------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        return self._bounds  # asked hundreds of times a frame: made once

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, self.height), RADIUS, RADIUS)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        scene = self.scene()
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and scene is not None:
            return scene.snapped(value) if hasattr(scene, "snapped") else value
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
            if getattr(scene, "far", False):  # dragged while zoomed far out
                scene.overview.invalidate()  # type: ignore[union-attr,attr-defined]
        return super().itemChange(change, value)

    # ------------------------------------------------------------ painting
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        t = theme.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        colour = theme.category_colour(self.category)
        body = QRectF(0, 0, NODE_WIDTH, self.height)
        if lod < LOD_BLOCK:
            painter.fillRect(body, self._outline_colour(t) if self._flagged() else colour)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_body(painter, body, colour, t)
        if lod >= LOD_TEXT:
            self._paint_text(painter, colour, t)
        else:
            self._paint_far_title(painter, lod, t)
        self._paint_outline(painter, body, t)
        if lod >= LOD_TEXT:
            for port in (*self.inputs.values(), *self.outputs.values()):
                port.draw(painter, lod)

    def _paint_far_title(self, painter: QPainter, lod: float, t: theme.Theme) -> None:
        """Zoomed out: only the name, drawn larger so it stays readable on screen."""
        font = theme.ui_font(min(max(8.0 / lod, 9.5), 40.0), bold=True)
        painter.setFont(font)
        painter.setPen(t.colour("text"))
        room = QRectF(8, HEADER_HEIGHT * 0.5, NODE_WIDTH - 16, self.height - HEADER_HEIGHT * 0.5)
        text = QFontMetricsF(font).elidedText(
            self.node_id, Qt.TextElideMode.ElideRight, room.width()
        )
        painter.drawText(room, Qt.AlignmentFlag.AlignCenter, text)

    def _flagged(self) -> bool:
        return self.severity is not None or self.isSelected()

    def flag_colour(self, t: theme.Theme) -> QColor:
        """The outline's colour of a selected or flagged node."""
        return self._outline_colour(t)

    def _outline_colour(self, t: theme.Theme) -> QColor:
        if self.isSelected():
            return t.colour("accent")
        return t.colour("error" if self.severity == "error" else "warning")

    def _paint_body(self, painter: QPainter, body: QRectF, colour: QColor, t: theme.Theme) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.colour("node_body"))
        painter.drawRoundedRect(body, RADIUS, RADIUS)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT))
        tint = QColor(colour)
        tint.setAlpha(70 if t.name == "dark" else 45)
        painter.setBrush(t.colour("node_header"))
        painter.drawPath(header.intersected(clip))
        painter.setBrush(tint)
        painter.drawPath(header.intersected(clip))
        painter.setBrush(colour)
        stripe = QPainterPath()
        stripe.addRoundedRect(QRectF(0, 0, NODE_WIDTH, RADIUS * 2), RADIUS, RADIUS)
        top = QPainterPath()
        top.addRect(QRectF(0, 0, NODE_WIDTH, 3.0))
        painter.drawPath(stripe.intersected(top))

    def _paint_text(self, painter: QPainter, colour: QColor, t: theme.Theme) -> None:
        family, glyph = theme.icon_glyph(self.icon_name)
        painter.setFont(theme.glyph_font(family, 17))
        painter.setPen(colour.lighter(125) if t.name == "dark" else colour.darker(115))
        painter.drawText(QRectF(8, 3, 20, HEADER_HEIGHT - 3), Qt.AlignmentFlag.AlignCenter, glyph)
        title_font = theme.ui_font(9.5, bold=True)
        small = theme.ui_font(7.8)
        painter.setFont(small)
        right = NODE_WIDTH - 10 - (16 if self.severity else 0)
        (title, title_room), (kind, type_room) = self.header_texts(title_font, small, right - 34)
        painter.setPen(t.colour("text_dim"))
        painter.drawText(
            QRectF(right - type_room, 3, type_room, HEADER_HEIGHT - 3),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            kind,
        )
        painter.setFont(title_font)
        painter.setPen(t.colour("text"))
        painter.drawText(
            QRectF(32, 3, title_room, HEADER_HEIGHT - 3), Qt.AlignmentFlag.AlignVCenter, title
        )
        if self.severity:
            self._paint_badge(painter, t)
        self._paint_details(painter, t)

    def header_texts(
        self, title_font: QFont, type_font: QFont, room: float
    ) -> tuple[tuple[str, float], tuple[str, float]]:
        """The name and the layer type as they fit the header, each with its width: the
        name first (a TransformerEncoderLayer's type gives way), the type keeping 40%."""
        title_metrics, type_metrics = QFontMetricsF(title_font), QFontMetricsF(type_font)
        name_width = title_metrics.horizontalAdvance(self.node_id)
        type_width = type_metrics.horizontalAdvance(self.type_name) + 4
        type_room = min(type_width, max(room - name_width - 6, room * 0.4))
        title_room = room - type_room - 6
        return (
            (
                title_metrics.elidedText(self.node_id, Qt.TextElideMode.ElideRight, title_room),
                title_room,
            ),
            (
                type_metrics.elidedText(self.type_name, Qt.TextElideMode.ElideRight, type_room),
                type_room,
            ),
        )

    def _paint_badge(self, painter: QPainter, t: theme.Theme) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.colour("error" if self.severity == "error" else "warning"))
        centre = QPointF(NODE_WIDTH - 15, HEADER_HEIGHT / 2 + 1.5)
        painter.drawEllipse(centre, 7, 7)
        painter.setPen(QColor("#ffffff" if self.severity == "error" else "#1b1d22"))
        painter.setFont(theme.ui_font(8, bold=True))
        painter.drawText(
            QRectF(centre.x() - 7, centre.y() - 7, 14, 14), Qt.AlignmentFlag.AlignCenter, "!"
        )

    def _paint_details(self, painter: QPainter, t: theme.Theme) -> None:
        """The summary with the output's memory for the batch (and the measured time, when
        profiled) at its right; under the line, the output shape and the parameter count."""
        small = theme.ui_font(8.2)
        left, right_inset = self.text_insets()
        width = NODE_WIDTH - left - right_inset
        painter.setFont(small)
        metrics = QFontMetricsF(small)
        row = QRectF(left, HEADER_HEIGHT + 6, width, 18)
        right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        used = 0.0
        if self.measured_text:
            painter.setPen(t.colour("text"))
            painter.drawText(row, right, self.measured_text)
            used = metrics.horizontalAdvance(self.measured_text) + 8
        if self.memory_text:
            painter.setPen(t.colour("text_dim"))
            painter.drawText(row.adjusted(0, 0, -used, 0), right, self.memory_text)
            used += metrics.horizontalAdvance(self.memory_text) + 8
        painter.setPen(t.colour("text_dim"))
        summary = metrics.elidedText(self.summary, Qt.TextElideMode.ElideRight, width - used)
        painter.drawText(row, Qt.AlignmentFlag.AlignVCenter, summary)
        line_y = HEADER_HEIGHT + 30
        pen = QPen(t.colour("node_border"))
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(QPointF(left, line_y), QPointF(NODE_WIDTH - right_inset, line_y))
        if self.measured_text:
            self._paint_bar(painter, t)
        painter.setFont(theme.mono_font(8.2))
        if self.shape_text:
            painter.setPen(t.colour("text"))
            shape = "→ " + self.shape_text
        else:
            painter.setPen(t.colour("error" if self.severity == "error" else "text_dim"))
            shape = "→ ?"
        footer = QRectF(left, line_y + 3, width, self.height - line_y - 6)
        painter.drawText(footer, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shape)
        painter.setFont(small)
        painter.setPen(t.colour("text" if self.count else "text_dim"))
        painter.drawText(footer, right, count_text(self.count))

    def _paint_bar(self, painter: QPainter, t: theme.Theme) -> None:
        """Along the node's foot, as long as this layer's measured time against the slowest
        layer's; the slowest half in the warning colour."""
        track = QRectF(12, NODE_HEIGHT - 6, NODE_WIDTH - 24, 3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.colour("node_border"))
        painter.drawRoundedRect(track, 1.5, 1.5)
        painter.setBrush(t.colour("warning" if self.measured_share >= 0.5 else "accent"))
        bar = QRectF(track.x(), track.y(), max(2.0, track.width() * self.measured_share), 3)
        painter.drawRoundedRect(bar, 1.5, 1.5)

    def _paint_outline(self, painter: QPainter, body: QRectF, t: theme.Theme) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.severity or self.isSelected():
            pen = QPen(self._outline_colour(t), 2.0)
        else:
            pen = QPen(t.colour("node_border"), 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRoundedRect(body, RADIUS, RADIUS)
        if self.isSelected() and self.severity:
            ring = QPen(t.colour("error" if self.severity == "error" else "warning"), 1.5)
            ring.setCosmetic(True)
            painter.setPen(ring)
            painter.drawRoundedRect(body.adjusted(-4, -4, 4, 4), RADIUS + 3, RADIUS + 3)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
