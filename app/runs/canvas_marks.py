"""Marks on the canvas: which layers a compared run added or changed, coloured around each node.

A mark is a child item of the node (like the activation swatches), so it
moves with it and the node's own cached picture is untouched: a coloured
outline behind the node and a short tag above it ("changed: out_channels 32 →
64"). Removed layers are not on the canvas; the comparison lists them. Marks
go when the graph is edited, another project opens, or the user clears them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem
from shiboken6 import isValid

from designer import theme
from designer.node_item import NODE_HEIGHT, NODE_WIDTH

if TYPE_CHECKING:
    from designer.scene import GraphScene
    from engine.experiments.compare import LayerChange

MARGIN = 5.0


def change_colour(change: str) -> str:
    t = theme.current()
    return {"added": t.ok, "changed": t.warning, "removed": t.error}.get(change, t.accent)


class CanvasMarks:
    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.items: dict[str, QGraphicsPathItem] = {}

    def show(self, changes: list[LayerChange], network: str = "network") -> int:
        """Mark every added or changed layer of `network` that is on the canvas; returns how
        many were marked."""
        self.clear()
        for change in changes:
            node = self.scene.nodes.get(change.node)
            if change.network != network or change.change == "removed" or node is None:
                continue
            self.items[change.node] = _mark(node, change)
        return len(self.items)

    def marked(self) -> dict[str, str]:
        """Node id -> the colour its mark is drawn in (for tests and the legend)."""
        return {n: item.pen().color().name() for n, item in self.items.items() if isValid(item)}

    def clear(self) -> None:
        for item in self.items.values():
            if isValid(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self.items.clear()


def _mark(node: QGraphicsItem, change: LayerChange) -> QGraphicsPathItem:
    colour = QColor(change_colour(change.change))
    outline = QGraphicsPathItem(node)
    path = QPainterPath()
    path.addRoundedRect(
        QRectF(-MARGIN, -MARGIN, NODE_WIDTH + 2 * MARGIN, NODE_HEIGHT + 2 * MARGIN), 11, 11
    )
    outline.setPath(path)
    outline.setPen(QPen(colour, 3.0))
    fill = QColor(colour)
    fill.setAlpha(40)
    outline.setBrush(QBrush(fill))
    outline.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
    outline.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    tag = QGraphicsSimpleTextItem(_tag(change), outline)
    tag.setFont(theme.ui_font(7.5, bold=True))
    tag.setBrush(colour)
    tag.setPos(0.0, -MARGIN - 16.0)
    return outline


def _tag(change: LayerChange) -> str:
    if change.change != "changed" or not change.details:
        return change.change
    text = "changed: " + ", ".join(change.details)
    return text if len(text) <= 44 else text[:41] + "…"
