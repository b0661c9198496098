"""A bar per class: how many samples of each the data holds (the Data panel's chart)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.dashboard import style
from app.dashboard.chart_widget import ChartWidget

HEIGHT = 110
LONGEST_NAME = 8  # longer class names show as their number


class ClassCounts(ChartWidget):
    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setBackground(style.plot_background())
        self.setFixedHeight(HEIGHT)
        self.plot = self.getPlotItem()
        style.style_plot(self.plot)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=style.TRAIN)
        self.plot.addItem(self.bars)

    def show_counts(self, counts: np.ndarray, names: list[str]) -> None:
        self.bars.setOpts(x=np.arange(len(counts)), height=counts)
        ticks = [
            (i, names[i] if i < len(names) and len(names[i]) <= LONGEST_NAME else str(i))
            for i in range(len(counts))
        ]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setXRange(-0.6, len(counts) - 0.4, padding=0)
        self.plot.setYRange(0, float(counts.max()) * 1.1 if len(counts) else 1)
