"""Per-layer weight and gradient norms over time, and dead ReLU units, from the probe looks.

Gradient norms that fall by orders of magnitude from the last layer to the
first are vanishing gradients; ones that climb steeply are exploding ones.
Both charts default to a log scale so either shows as a gap between lines.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.dashboard import style
from app.dashboard.chart_widget import ChartWidget
from app.dashboard.live_curves import LiveCurves
from app.training.buffer import Probe


class WeightsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WeightsView")
        self.gradients = LiveCurves("Gradient norm per layer", "‖∇W‖", log_y=True, max_fps=5)
        self.weights = LiveCurves("Weight norm per layer", "‖W‖", log_y=True, max_fps=5)
        self.dead_values: dict[str, float] = {}
        self._dead_dirty = False
        dead_widget = ChartWidget(enableMenu=False)
        dead_widget.setBackground(style.plot_background())
        style.make_opaque(dead_widget)
        self.dead_plot = dead_widget.getPlotItem()
        style.style_plot(self.dead_plot)
        self.dead_plot.setTitle(
            "Dead ReLU units (never active on the probe)", color=style.axis_colour(), size="9pt"
        )
        self.dead_plot.setYRange(0, 1)
        self.dead_plot.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=style.SERIES[3])
        self.dead_plot.addItem(self.bars)
        charts = QHBoxLayout()
        charts.addWidget(self.gradients, 1)
        charts.addWidget(self.weights, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(charts, 3)
        layout.addWidget(dead_widget, 2)
        self._colours: dict[str, str] = {}

    def begin_run(self) -> None:
        self.gradients.begin_run()
        self.weights.begin_run()
        self.dead_values.clear()
        self._dead_dirty = True

    def _colour(self, node_id: str) -> str:
        if node_id not in self._colours:
            self._colours[node_id] = style.SERIES[len(self._colours) % len(style.SERIES)]
        return self._colours[node_id]

    def add(self, probe: Probe) -> None:
        for chart, values in (
            (self.gradients, probe.grad_norms),
            (self.weights, probe.weight_norms),
        ):
            for node_id, value in values.items():
                chart.define(node_id, self._colour(node_id), width=1.6)
                chart.extend(node_id, [probe.epoch], [value])
        if probe.dead:
            self.dead_values.update(probe.dead)
            self._dead_dirty = True

    def refresh(self, force: bool = False) -> None:
        if not self.isVisible():
            return
        self.gradients.refresh(force)
        self.weights.refresh(force)
        if self._dead_dirty:
            self._dead_dirty = False
            names = list(self.dead_values)
            self.bars.setOpts(x=np.arange(len(names)), height=[self.dead_values[n] for n in names])
            axis = self.dead_plot.getAxis("bottom")
            axis.setTicks([list(enumerate(names))])
            self.dead_plot.setXRange(-0.6, max(len(names) - 0.4, 0.6), padding=0)
