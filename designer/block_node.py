"""A block node on the canvas: a taller layer card that shows what the block holds.

Beside the name it shows the definition's name, the shapes in and out, the
parameters and MACs of the layers inside (the engine's per-use totals), and a
small picture of the inside: the definition's layers as category-coloured
chips with their wires. The picture's geometry is computed once when the item
is made (the scene remakes block nodes when a definition may have changed:
on leaving a block), and the item is device-cached like every node, so
painting it costs nothing per frame. Two offset outlines behind the card say
"a stack of layers" without a drop shadow.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from designer import theme
from designer.node_item import HEADER_HEIGHT, NODE_WIDTH, RADIUS, NodeItem
from engine.analysis import Diagnostic, NodeInfo
from engine.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT, boundary_ids, definition_of, layer_for
from engine.costs import LayerCost
from engine.graph import Graph, Node
from engine.layers._shape import fmt

BLOCK_HEIGHT = 150.0
PICTURE = QRectF(12.0, HEADER_HEIGHT + 26.0, NODE_WIDTH - 24.0, 60.0)


def make_item(node: Node, blocks: Mapping[str, Graph]) -> NodeItem:
    """The canvas item for `node`: a block node's card, or a layer's."""
    found = definition_of(node, blocks) if node.type == BLOCK else None
    if found is None:
        return NodeItem(node, layer_for(node, blocks))
    return BlockNodeItem(node, found[0], found[1])


def count_macs(macs: int) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if macs >= size:
            return f"{macs / size:.1f}{unit} MACs"
    return f"{macs} MACs"


class BlockNodeItem(NodeItem):
    """A use of a block definition: name, definition, shapes, totals, picture of the inside."""

    height = BLOCK_HEIGHT

    def __init__(self, node: Node, block: str, definition: Graph) -> None:
        super().__init__(node, layer_for(node, definition.blocks))
        self.block = block
        self.type_name = block  # the header's right side names the definition
        self.layer_count = sum(n.type not in (BLOCK_INPUT, BLOCK_OUTPUT) for n in definition)
        self.input_ids = boundary_ids(definition, BLOCK_INPUT)
        self.macs = 0
        self.in_text = ""
        self.chips, self.wires = picture(definition, PICTURE)
        self.setToolTip(self._help())

    def _help(self) -> str:
        layers = getattr(self, "layer_count", 0)
        return (
            f"<b>{self.node_id}</b> — block <b>{self.type_name}</b>, {layers} layers<br>"
            "Double-click (or Enter) to open the block; right-click for Make Unique, Ungroup."
        )

    def set_state(
        self, info: NodeInfo | None, diagnostics: list[Diagnostic], cost: LayerCost | None = None
    ) -> None:
        """The layer card's state, plus the MACs and the input shapes of the use."""
        macs = info.macs if info is not None else 0
        ins = ""
        if info is not None and info.inner is not None:
            found = [info.inner.nodes.get(n) for n in self.input_ids]
            ins = " · ".join(fmt(i.shape) for i in found if i is not None and i.shape is not None)
        if (macs, ins) != (self.macs, self.in_text):
            self.macs, self.in_text = macs, ins
            self.update()
        super().set_state(info, diagnostics, cost)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())  # type: ignore[attr-defined]
        if lod >= 0.2:
            self._paint_stack(painter)
        super().paint(painter, option, widget)

    def _paint_stack(self, painter: QPainter) -> None:
        """Two cards peeking out behind this one: a block holds several layers."""
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(t.colour("node_border"), 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(t.colour("node_header"))
        for step in (8.0, 4.0):
            painter.drawRoundedRect(QRectF(step, step, NODE_WIDTH, self.height), RADIUS, RADIUS)

    def _paint_details(self, painter: QPainter, t: theme.Theme) -> None:
        small = theme.ui_font(8.2)
        mono = theme.mono_font(8.2)
        left, right = self.text_insets()
        width = NODE_WIDTH - left - right
        painter.setFont(mono)
        painter.setPen(t.colour("text" if self.shape_text else "text_dim"))
        flow = f"{self.in_text or '?'} → {self.shape_text or '?'}"
        flow = QFontMetricsF(mono).elidedText(flow, Qt.TextElideMode.ElideMiddle, width)
        painter.drawText(
            QRectF(left, HEADER_HEIGHT + 4, width, 18), Qt.AlignmentFlag.AlignVCenter, flow
        )
        self._paint_picture(painter, t)
        line_y = PICTURE.bottom() + 6
        pen = QPen(t.colour("node_border"))
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(QPointF(left, line_y), QPointF(NODE_WIDTH - right, line_y))
        footer = QRectF(left, line_y + 2, width, self.height - line_y - 4)
        painter.setFont(small)
        painter.setPen(t.colour("text_dim"))
        painter.drawText(
            footer,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            count_macs(self.macs),
        )
        painter.setPen(t.colour("text" if self.count else "text_dim"))
        painter.drawText(
            footer,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            _params(self.count),
        )

    def _paint_picture(self, painter: QPainter, t: theme.Theme) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        well = QColor(t.colour("canvas"))
        painter.setBrush(well)
        painter.drawRoundedRect(PICTURE, 4, 4)
        wire = QPen(t.colour("text_dim"), 1.0)
        wire.setCosmetic(True)
        painter.setPen(wire)
        painter.drawLines(self.wires)
        painter.setPen(Qt.PenStyle.NoPen)
        for rect, colour in self.chips:
            painter.setBrush(colour)
            painter.drawRoundedRect(rect, 1.5, 1.5)


def _params(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M params"
    if count >= 1000:
        return f"{count / 1000:.1f}k params"
    return f"{count} params"


def picture(definition: Graph, room: QRectF) -> tuple[list[tuple[QRectF, QColor]], list[QLineF]]:
    """The definition drawn small inside `room`: a chip per layer at its place, and its wires
    (boundary nodes as small dots at the edges, as the ports they become)."""
    nodes = list(definition)
    if not nodes:
        return [], []
    pad = 6.0
    xs = [n.position[0] for n in nodes]
    ys = [n.position[1] for n in nodes]
    columns = len(set(xs))
    w = min(22.0, (room.width() - 2 * pad) / (columns * 1.5))
    h = 8.0
    span_x = max(max(xs) - min(xs), 1.0)
    span_y = max(max(ys) - min(ys), 1.0)
    # one scale for both axes (the definition's shape kept), chips a readable size
    scale = min((room.width() - 2 * pad - w) / span_x, (room.height() - 2 * pad - h) / span_y)
    ox = room.left() + (room.width() - span_x * scale - w) / 2 - min(xs) * scale
    oy = room.top() + (room.height() - span_y * scale - h) / 2 - min(ys) * scale
    if max(ys) == min(ys):
        oy = room.center().y() - h / 2 - min(ys) * scale
    rects: dict[str, QRectF] = {}
    chips = []
    for node in nodes:
        x, y = ox + node.position[0] * scale, oy + node.position[1] * scale
        boundary = node.type in (BLOCK_INPUT, BLOCK_OUTPUT)
        rect = QRectF(x + w / 2 - 2.5, y + h / 2 - 2.5, 5, 5) if boundary else QRectF(x, y, w, h)
        rects[node.id] = rect
        layer = layer_for(node, definition.blocks)
        colour = theme.category_colour(layer.category if layer else "?")
        chips.append((rect, colour))
    wires = [
        QLineF(
            QPointF(rects[e.source.node].right(), rects[e.source.node].center().y()),
            QPointF(rects[e.target.node].left(), rects[e.target.node].center().y()),
        )
        for e in definition.edges
        if e.source.node in rects and e.target.node in rects
    ]
    return chips, wires
