"""On the canvas itself: under each layer, a live swatch of its activations while training.

A small child item of each node (so the node's own cached picture is left
alone): the layer's current activation histogram as bars, a trace of its
mean |activation| over time, and the dead-unit share for ReLUs. The dashboard
pushes the newest probe look a few times a second; painting is a few dozen
rectangles per node.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget
from shiboken6 import isValid

from app.dashboard import style
from app.training.buffer import Probe
from designer import theme
from designer.node_item import NODE_HEIGHT, NODE_WIDTH

OVERLAY_HEIGHT = 26.0
TRACE_LENGTH = 48


class ActivationSwatch(QGraphicsItem):
    """The swatch under one node."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.bars: np.ndarray | None = None
        self.trace: deque[float] = deque(maxlen=TRACE_LENGTH)
        self.dead: float | None = None
        self.live = True
        self.setPos(0.0, NODE_HEIGHT + 5.0)
        self.setZValue(-1)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, NODE_WIDTH, OVERLAY_HEIGHT)

    def show_look(self, bars: np.ndarray, mean: float | None, dead: float | None) -> None:
        self.bars = bars
        if mean is not None:
            self.trace.append(mean)
        self.dead = dead
        self.update()

    def set_live(self, live: bool) -> None:
        self.live = live
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.bars is None:
            return
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box = self.boundingRect()
        painter.setPen(QPen(t.colour("node_border"), 1.0))
        painter.setBrush(t.colour("node_body"))
        painter.drawRoundedRect(box, 5, 5)
        accent = QColor(style.TRAIN if self.live else t.text_dim)
        half = NODE_WIDTH * 0.5
        count = len(self.bars)
        width = (half - 10) / count
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        for i, value in enumerate(self.bars):
            height = float(value) * (OVERLAY_HEIGHT - 8)
            painter.drawRect(QRectF(6 + i * width, OVERLAY_HEIGHT - 4 - height, width - 1, height))
        if len(self.trace) > 1:
            self._paint_trace(painter, QRectF(half + 4, 4, half - 10, OVERLAY_HEIGHT - 8))
        if self.dead is not None and self.dead > 0.005:
            painter.setFont(theme.ui_font(6.8, bold=True))
            painter.setPen(t.colour("warning" if self.dead > 0.25 else "text_dim"))
            painter.drawText(
                box.adjusted(0, 1, -6, 0),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                f"{self.dead:.0%} dead",
            )

    def _paint_trace(self, painter: QPainter, room: QRectF) -> None:
        values = np.asarray(self.trace, float)
        low, high = float(values.min()), float(values.max())
        span = high - low if high > low else 1.0
        path = QPainterPath()
        step = room.width() / (TRACE_LENGTH - 1)
        for i, value in enumerate(values):
            point = QPointF(
                room.left() + i * step, room.bottom() - (value - low) / span * room.height()
            )
            if i == 0:
                path.moveTo(point)
            else:
                path.lineTo(point)
        pen = QPen(QColor(style.VALIDATION if self.live else theme.current().text_dim), 1.4)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)


class CanvasActivations:
    """Puts a swatch under every node of a scene that a probe look covers."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.swatches: dict[str, ActivationSwatch] = {}

    def show_probe(self, probe: Probe) -> None:
        for node_id, bars in probe.swatches.items():
            item = self.scene.nodes.get(node_id)
            if item is None:
                continue
            swatch = self.swatches.get(node_id)
            if swatch is None or not isValid(swatch) or swatch.parentItem() is not item:
                swatch = ActivationSwatch(item)
                self.swatches[node_id] = swatch
            counts = probe.histograms.get(node_id)
            low, high = probe.ranges.get(node_id, (0.0, 1.0))
            mean = None
            if counts is not None:
                centres = np.linspace(low, high, len(counts) + 1)
                centres = (centres[:-1] + centres[1:]) / 2
                mean = float(np.sum(np.abs(centres) * counts))
            swatch.show_look(bars, mean, probe.dead.get(node_id))

    def set_live(self, live: bool) -> None:
        for swatch in self.swatches.values():
            if isValid(swatch):  # a node deleted or a project reopened takes its swatch along
                swatch.set_live(live)

    def clear(self) -> None:
        for swatch in self.swatches.values():
            if isValid(swatch) and swatch.scene() is not None:
                swatch.scene().removeItem(swatch)
        self.swatches.clear()

    def count(self) -> int:
        return len(self.swatches)
