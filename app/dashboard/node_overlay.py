"""On the canvas itself: under each layer, a live swatch of its activations while training.

A small child item of each node (so the node's own cached picture is left
alone): the layer's current activation histogram as bars, a trace of its
mean |activation| over time, and the dead-unit share for ReLUs. The dashboard
pushes the newest probe look a few times a second; Python builds a few small
paths per node then, and Qt paints them in C++.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem
from shiboken6 import isValid

from app.dashboard import style
from app.training.buffer import Probe
from app.training.probe import MAX_LAYERS
from designer import theme
from designer.node_item import NODE_HEIGHT, NODE_WIDTH
from engine.layer_paths import SEP, shown

OVERLAY_HEIGHT = 26.0
TRACE_LENGTH = 48


class ActivationSwatch(QGraphicsPathItem):
    """The swatch under one node: a rounded box with the histogram's bars, the trace and the
    dead-unit note as child items. All are Qt's own C++ items, so repainting the canvas while
    training never runs Python (which would hold the GIL the training thread needs)."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.trace: deque[float] = deque(maxlen=TRACE_LENGTH)
        self.live = True
        self.setPos(0.0, NODE_HEIGHT + 5.0)
        self.setZValue(-1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        box = QPainterPath()
        box.addRoundedRect(QRectF(0, 0, NODE_WIDTH, OVERLAY_HEIGHT), 5, 5)
        self.setPath(box)
        self.bars = QGraphicsPathItem(self)
        self.bars.setPen(Qt.PenStyle.NoPen)
        self.line = QGraphicsPathItem(self)
        self.line.setBrush(Qt.BrushStyle.NoBrush)
        self.dead = QGraphicsSimpleTextItem(self)
        self.dead.setFont(theme.ui_font(6.8, bold=True))
        self.setVisible(False)  # until the first look
        self._colour()

    def _colour(self) -> None:
        t = theme.current()
        self.setPen(QPen(t.colour("node_border"), 1.0))
        self.setBrush(t.colour("node_body"))
        self.bars.setBrush(QColor(style.TRAIN if self.live else t.text_dim))
        self.line.setPen(QPen(QColor(style.VALIDATION if self.live else t.text_dim), 1.4))

    def show_look(self, bars: np.ndarray, mean: float | None, dead: float | None) -> None:
        if mean is not None:
            self.trace.append(mean)
        self.bars.setPath(_bars_path(bars))
        self.line.setPath(_trace_path(self.trace))
        self._show_dead(dead)
        self.setVisible(True)

    def _show_dead(self, dead: float | None) -> None:
        if dead is None or dead <= 0.005:
            self.dead.setText("")
            return
        t = theme.current()
        self.dead.setText(f"{dead:.0%} dead")
        self.dead.setBrush(t.colour("warning" if dead > 0.25 else "text_dim"))
        self.dead.setPos(NODE_WIDTH - 6 - self.dead.boundingRect().width(), 1)

    def set_live(self, live: bool) -> None:
        self.live = live
        self._colour()


def _bars_path(bars: np.ndarray) -> QPainterPath:
    """The histogram as bars across the left half of the swatch."""
    path = QPainterPath()
    width = (NODE_WIDTH * 0.5 - 10) / max(len(bars), 1)
    for i, value in enumerate(bars.tolist()):
        height = value * (OVERLAY_HEIGHT - 8)
        path.addRect(QRectF(6 + i * width, OVERLAY_HEIGHT - 4 - height, width - 1, height))
    return path


def _trace_path(trace: deque[float]) -> QPainterPath:
    """Mean |activation| over the last looks, scaled to the right half of the swatch."""
    path = QPainterPath()
    if len(trace) < 2:
        return path
    half = NODE_WIDTH * 0.5
    room = QRectF(half + 4, 4, half - 10, OVERLAY_HEIGHT - 8)
    values = np.asarray(trace, float)
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 1.0
    step = room.width() / (TRACE_LENGTH - 1)
    xs = room.left() + np.arange(len(values)) * step
    ys = room.bottom() - (values - low) / span * room.height()
    path.moveTo(QPointF(xs[0], ys[0]))
    for x, y in zip(xs[1:].tolist(), ys[1:].tolist()):
        path.lineTo(x, y)
    return path


class CanvasActivations:
    """Puts a swatch under every node of a scene that a probe look covers. Inside a block
    (the breadcrumbs' trail) the swatches are those of the use entered: the trail's block
    node ids are the start of the inner layers' keys (``block1.conv1``). The latest look is
    kept, so entering or leaving a block after (or while) training shows it at once; each
    layer's trace lives here, not on its swatch, so it survives the canvas rebuilding."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self.swatches: dict[str, ActivationSwatch] = {}  # by key (path), as in the probe
        self.traces: dict[str, deque[float]] = {}
        self.last: Probe | None = None
        self.live = True
        document = getattr(scene, "document", None)
        if document is not None:  # after the scene's own rebuild (connected first)
            document.trail_changed.connect(self._trail_changed)

    def prefix(self) -> str | None:
        """What the keys of the layers shown start with ("" in the network, "block1." inside
        block1), or None inside a definition no use on the way leads to."""
        document = getattr(self.scene, "document", None)
        trail = getattr(document, "trail", ())
        if any(level.node is None for level in trail):
            return None
        return "".join(f"{level.node}{SEP}" for level in trail)

    def shown_keys(self, probe: Probe) -> dict[str, str]:
        """The probe's keys of the layers on the canvas now, each with its node id there."""
        prefix = self.prefix()
        if prefix is None:
            return {}
        found = {}
        for key in probe.swatches:
            if key.startswith(prefix) and SEP not in key[len(prefix) :]:
                found[key] = key[len(prefix) :]
        return found

    def show_probe(self, probe: Probe, again: bool = False) -> None:
        self.last = probe
        for key, node_id in self.shown_keys(probe).items():
            item = self.scene.nodes.get(node_id)
            if item is None:
                continue
            swatch = self.swatches.get(key)
            if swatch is None or not isValid(swatch) or swatch.parentItem() is not item:
                swatch = ActivationSwatch(item)
                swatch.trace = self.traces.setdefault(key, deque(maxlen=TRACE_LENGTH))
                swatch.set_live(self.live)
                self.swatches[key] = swatch
            counts = probe.histograms.get(key)
            low, high = probe.ranges.get(key, (0.0, 1.0))
            mean = None
            if counts is not None and not again:
                centres = np.linspace(low, high, len(counts) + 1)
                centres = (centres[:-1] + centres[1:]) / 2
                mean = float(np.sum(np.abs(centres) * counts))
            swatch.show_look(probe.swatches[key], mean, probe.dead.get(key))

    def _trail_changed(self) -> None:
        """Another level is shown (the scene rebuilt it): its swatches from the latest look."""
        self.swatches = {k: s for k, s in self.swatches.items() if isValid(s)}
        if self.last is None:
            return
        self.show_probe(self.last, again=True)
        prefix = self.prefix()
        if prefix and self.last.left_out and not self.shown_keys(self.last):
            document = self.scene.document
            document.message.emit(
                f"No live view inside {shown(prefix.rstrip(SEP))}: a look covers at most "
                f"{MAX_LAYERS} layers, those inside blocks shallowest first, and "
                f"{self.last.left_out} were left out"
            )

    def set_live(self, live: bool) -> None:
        self.live = live
        for swatch in self.swatches.values():
            if isValid(swatch):  # a node deleted or a project reopened takes its swatch along
                swatch.set_live(live)

    def clear(self) -> None:
        for swatch in self.swatches.values():
            if isValid(swatch) and swatch.scene() is not None:
                swatch.scene().removeItem(swatch)
        self.swatches.clear()
        self.traces.clear()
        self.last = None
        self.live = True

    def count(self) -> int:
        return sum(1 for swatch in self.swatches.values() if isValid(swatch))
