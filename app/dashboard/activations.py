"""Inside the network: each layer's activation histogram over time and its feature maps.

Fed the probe looks the worker takes (a few per second); pick a layer on the
left. The upper picture is a histogram-over-time (time runs right, the value
axis up, brightness is how many activations fall there): a layer whose
activations spread, collapse to zero or saturate shows it at a glance. The
lower picture is the layer's output on the probe: a grid of a conv layer's
feature maps, or a samples-by-units heatmap for a dense layer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.dashboard import style
from app.dashboard.chart_widget import ChartWidget
from app.dashboard.fast_image import FastImage
from app.dashboard.live_curves import axis_end
from app.training.buffer import Probe

MAX_COLUMNS = 600  # probe looks kept per layer for the histogram image


class ActivationsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ActivationsView")
        self.columns: dict[str, list[np.ndarray]] = {}
        self.times: dict[str, list[float]] = {}
        self.ranges: dict[str, tuple[float, float]] = {}
        self.pictures: dict[str, tuple[str, np.ndarray]] = {}
        self.dead: dict[str, float] = {}
        self.types: dict[str, str] = {}
        self._dirty = False
        self.layers = QListWidget()
        self.layers.setObjectName("LayerList")
        self.layers.setMaximumWidth(180)
        self.layers.currentItemChanged.connect(lambda *_: self._show())
        self.title = QLabel("Activations appear here while training runs")
        self.title.setObjectName("ChartTitle")
        self.stats = QLabel("")
        self.stats.setObjectName("ChartNote")
        self.histogram_widget, self.histogram_plot, self.histogram = self._image_plot(
            "value", "epoch"
        )
        self.picture_widget, self.picture_plot, self.picture = self._image_plot("", "")
        self.picture_plot.getViewBox().invertY(True)
        self.picture_plot.getViewBox().setAspectLocked(True)
        self.picture_plot.hideAxis("left")
        self.picture_plot.hideAxis("bottom")
        self.picture_title = QLabel("")
        self.picture_title.setObjectName("ChartNote")
        pictures = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(QLabel("Histogram over time"))
        left.addWidget(self.histogram_widget, 1)
        right = QVBoxLayout()
        right.addWidget(self.picture_title)
        right.addWidget(self.picture_widget, 1)
        pictures.addLayout(left, 3)
        pictures.addLayout(right, 2)
        body = QVBoxLayout()
        body.addWidget(self.title)
        body.addWidget(self.stats)
        body.addLayout(pictures, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.layers)
        layout.addLayout(body, 1)

    def _image_plot(self, left: str, bottom: str) -> tuple[pg.PlotWidget, pg.PlotItem, FastImage]:
        widget = ChartWidget(enableMenu=False)
        widget.setBackground(style.plot_background())
        style.make_opaque(widget)
        plot = widget.getPlotItem()
        style.style_plot(plot)
        plot.showGrid(x=False, y=False)
        if left:
            plot.setLabel("left", left, color=style.axis_colour())
        if bottom:
            plot.setLabel("bottom", bottom, color=style.axis_colour())
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        return widget, plot, FastImage(plot.getViewBox(), style.heat_lookup())

    # ---------------------------------------------------------------- data
    def begin_run(self, node_types: dict[str, str]) -> None:
        self.columns.clear()
        self.times.clear()
        self.ranges.clear()
        self.pictures.clear()
        self.dead.clear()
        self.types = dict(node_types)
        self.layers.clear()
        self.histogram.clear()
        self.picture.clear()

    def add(self, probe: Probe) -> None:
        for node_id, counts in probe.histograms.items():
            new_layer = node_id not in self.columns
            if new_layer:
                self.columns[node_id], self.times[node_id] = [], []
            self.columns[node_id].append(counts)
            self.times[node_id].append(probe.epoch)
            if len(self.columns[node_id]) > MAX_COLUMNS:  # keep every other old look
                self.columns[node_id] = self.columns[node_id][::2]
                self.times[node_id] = self.times[node_id][::2]
            self.ranges[node_id] = probe.ranges[node_id]
        self.pictures.update(probe.pictures)
        self.dead.update(probe.dead)
        for node_id in probe.histograms:
            if self.layers.count() < len(self.columns) and not self._listed(node_id):
                self._add_layer(node_id)
        self._dirty = True

    def _add_layer(self, node_id: str) -> None:
        item = QListWidgetItem(f"{node_id}  ·  {self.types.get(node_id, '')}")
        item.setData(Qt.ItemDataRole.UserRole, node_id)
        self.layers.addItem(item)
        if self.layers.currentItem() is None or (
            self._has_maps(node_id) and not self._has_maps(self.selected())
        ):
            self.layers.setCurrentItem(item)

    def _listed(self, node_id: str) -> bool:
        return any(
            self.layers.item(i).data(Qt.ItemDataRole.UserRole) == node_id
            for i in range(self.layers.count())
        )

    def _has_maps(self, node_id: str | None) -> bool:
        """Whether the layer's output is feature maps (images): the picture worth showing first."""
        picture = self.pictures.get(node_id or "")
        return picture is not None and picture[0] == "maps"

    def selected(self) -> str | None:
        item = self.layers.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def select(self, node_id: str) -> None:
        for i in range(self.layers.count()):
            if self.layers.item(i).data(Qt.ItemDataRole.UserRole) == node_id:
                self.layers.setCurrentRow(i)

    def refresh(self) -> None:
        if self._dirty and self.isVisible():
            self._show()

    def looks(self, node_id: str) -> int:
        return len(self.columns.get(node_id, []))

    def _show(self) -> None:
        self._dirty = False
        node_id = self.selected()
        if node_id is None or node_id not in self.columns:
            return
        columns, times = self.columns[node_id], self.times[node_id]
        low, high = self.ranges[node_id]
        image = np.log1p(1000.0 * np.stack(columns, axis=1))  # (bins, looks): value up, time right
        start, end = times[0], max(times[-1], times[0] + 1e-3)
        self.histogram.set_image(
            image, (0.0, max(float(image.max()), 1e-6)), QRectF(start, low, end - start, high - low)
        )
        # the time axis grows in steps, so its labels are not redrawn at every look
        self.histogram_plot.setRange(xRange=(start, axis_end(end)), yRange=(low, high), padding=0)
        kind = self.types.get(node_id, "")
        self.title.setText(f"{node_id}  ({kind})")
        note = f"{len(columns)} looks · values {low:.3g} … {high:.3g}"
        if node_id in self.dead:
            note += f" · dead units {self.dead[node_id]:.0%}"
        self.stats.setText(note)
        picture = self.pictures.get(node_id)
        if picture is None:
            self.picture.clear()
            self.picture_title.setText("")
            return
        kind_of_picture, array = picture
        self.picture.set_image(array, (0.0, 1.0))
        self.picture_plot.autoRange(padding=0.02)
        self.picture_title.setText(
            "Feature maps of the first probe sample"
            if kind_of_picture == "maps"
            else "Activations: probe samples (rows) × units (columns)"
        )
