"""A live picture of what a classifier has learned: its decision regions over the data.

Give it the data (`set_data(x, y)`) and a `predict(points) -> class ids` (or
scores, one column per class), then call `refresh()` whenever the model has
changed (after an epoch, say). For 2-D data it shows every point of a grid
coloured by the class predicted there, with the data on top. For 3-D data it
shows the data projected onto two axes, coloured by class, and the regions in
one slice across the third axis; a slider moves the slice and the points near
it stand out. The widget knows nothing of torch or the trainer: the dashboard
wraps its model in `predict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from app.dashboard.chart_widget import ChartWidget
from designer import theme

Predict = Callable[[np.ndarray], np.ndarray]

CLASS_COLOURS = (
    "#4f9dff",
    "#e0894a",
    "#4caf7d",
    "#e05f7e",
    "#a779e9",
    "#d6b04c",
    "#3bb3c4",
    "#9c8f7a",
    "#c96bd6",
    "#7fbf4d",
)
REGION_ALPHA = 0.38  # how strongly a region is tinted over the background
SLICE_STEPS = 200
NEAR_SLICE = 0.06  # points within this fraction of the third axis's range count as "in" the slice
AXIS_NAMES = ("x₁", "x₂", "x₃")


def class_colour(index: int) -> QColor:
    return QColor(CLASS_COLOURS[index % len(CLASS_COLOURS)])


def class_ids(predicted: np.ndarray) -> np.ndarray:
    """Class ids from whatever `predict` returned: ids as they are, scores by their argmax."""
    predicted = np.asarray(predicted)
    if predicted.ndim == 2:
        return predicted.argmax(axis=1)
    return predicted.reshape(-1).astype(np.int64)


class RegionsView(QWidget):
    """Decision regions of a classifier over 2-D or 3-D data; see the module docstring."""

    def __init__(self, parent: QWidget | None = None, resolution: int = 160) -> None:
        super().__init__(parent)
        self.setObjectName("RegionsView")
        self.resolution = resolution
        self.predict: Predict | None = None
        self.data_x = np.zeros((0, 2), dtype=np.float32)
        self.data_y = np.zeros(0, dtype=np.int64)
        self.slice_axis = 2
        self.slice_value = 0.0
        self.regions: np.ndarray | None = None  # class id per grid cell, rows = second shown axis
        self._bounds = np.array([[0.0, 1.0]] * 3)
        self._build()

    def _build(self) -> None:
        colours = theme.current()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.plot = ChartWidget(background=colours.canvas)
        self.plot.setAspectLocked(False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(colours.grid_major))
            axis.setTextPen(pg.mkPen(colours.text_dim))
            axis.enableAutoSIPrefix(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.points = pg.ScatterPlotItem(size=6, pxMode=True)
        self.plot.addItem(self.image)
        self.plot.addItem(self.points)
        layout.addWidget(self.plot, 1)
        self.slice_row = QWidget()
        row = QHBoxLayout(self.slice_row)
        row.setContentsMargins(6, 0, 6, 4)
        self.axis_choice = QComboBox()
        self.axis_choice.setToolTip("Which axis to slice across; the other two are shown")
        for axis in range(3):
            self.axis_choice.addItem(f"Slice across {AXIS_NAMES[axis]}", axis)
        self.axis_choice.setCurrentIndex(2)
        self.axis_choice.currentIndexChanged.connect(
            lambda i: self.set_slice_axis(int(self.axis_choice.itemData(i)))
        )
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLICE_STEPS)
        self.slider.setValue(SLICE_STEPS // 2)
        self.slider.setToolTip("Move the slice; points near it are drawn solid")
        self.slider.valueChanged.connect(self._slider_moved)
        self.slice_label = QLabel()
        self.slice_label.setMinimumWidth(90)
        row.addWidget(self.axis_choice)
        row.addWidget(self.slider, 1)
        row.addWidget(self.slice_label)
        layout.addWidget(self.slice_row)
        self.slice_row.hide()

    # ------------------------------------------------------------------ API
    @property
    def dimensions(self) -> int:
        return int(self.data_x.shape[1]) if self.data_x.ndim == 2 else 0

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        """The data set: `x` of shape (N, 2) or (N, 3), `y` the N class ids."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] not in (2, 3):
            raise ValueError(f"decision regions need 2-D or 3-D points, got shape {x.shape}")
        self.data_x = x
        self.data_y = np.asarray(y).reshape(-1).astype(np.int64)
        low, high = x.min(axis=0), x.max(axis=0)
        pad = np.maximum((high - low) * 0.08, 1e-3)
        self._bounds = np.stack([low - pad, high + pad], axis=1).astype(np.float64)
        self.slice_row.setVisible(self.dimensions == 3)
        if self.dimensions == 3:
            self._slider_moved(self.slider.value(), refresh=False)
        self.refresh()

    def set_predict(self, predict: Predict | None) -> None:
        """The classifier: points (M, D) float32 -> class ids (M,) or scores (M, classes)."""
        self.predict = predict
        self.refresh()

    def set_slice_axis(self, axis: int) -> None:
        self.slice_axis = axis
        if self.axis_choice.currentIndex() != axis:
            self.axis_choice.setCurrentIndex(axis)
        self._slider_moved(self.slider.value())

    def set_slice(self, value: float) -> None:
        """Put the slice at `value` along the sliced axis (clipped to the data's range)."""
        low, high = self._bounds[self.slice_axis]
        fraction = 0.0 if high <= low else (value - low) / (high - low)
        self.slider.setValue(round(min(max(fraction, 0.0), 1.0) * SLICE_STEPS))

    def shown_axes(self) -> tuple[int, int]:
        if self.dimensions == 3:
            first, second = (a for a in range(3) if a != self.slice_axis)
            return first, second
        return 0, 1

    def refresh(self) -> None:
        """Redraw the regions with the current `predict` (call after the model changed)."""
        self._draw_points()
        if self.predict is None or not len(self.data_x):
            self.regions = None
            self.image.clear()
            return
        grid, rect = self._grid()
        ids = class_ids(self.predict(grid)).reshape(self.resolution, self.resolution)
        self.regions = ids
        self.image.setImage(self._tint(ids), autoLevels=False)
        self.image.setRect(rect)

    # -------------------------------------------------------------- drawing
    def _grid(self) -> tuple[np.ndarray, QRectF]:
        a, b = self.shown_axes()
        (ax0, ax1), (bx0, bx1) = self._bounds[a], self._bounds[b]
        us = np.linspace(ax0, ax1, self.resolution, dtype=np.float32)
        vs = np.linspace(bx0, bx1, self.resolution, dtype=np.float32)
        uu, vv = np.meshgrid(us, vs)  # rows follow the second shown axis
        grid = np.zeros((self.resolution * self.resolution, self.dimensions), dtype=np.float32)
        grid[:, a] = uu.ravel()
        grid[:, b] = vv.ravel()
        if self.dimensions == 3:
            grid[:, self.slice_axis] = self.slice_value
        cell_u = (ax1 - ax0) / max(self.resolution - 1, 1)
        cell_v = (bx1 - bx0) / max(self.resolution - 1, 1)
        rect = QRectF(ax0 - cell_u / 2, bx0 - cell_v / 2, ax1 - ax0 + cell_u, bx1 - bx0 + cell_v)
        return grid, rect

    def _tint(self, ids: np.ndarray) -> np.ndarray:
        """An RGBA picture: each cell the background tinted with its class's colour."""
        background = np.array(_rgb(QColor(theme.current().canvas)), dtype=np.float32)
        table = np.array([_rgb(class_colour(i)) for i in range(len(CLASS_COLOURS))], np.float32)
        tinted = background * (1 - REGION_ALPHA) + table * REGION_ALPHA
        rgb = tinted[np.mod(ids, len(CLASS_COLOURS))]
        alpha = np.full((*ids.shape, 1), 255, dtype=np.float32)
        return np.concatenate([rgb, alpha], axis=-1).astype(np.uint8)

    def _draw_points(self) -> None:
        if not len(self.data_x):
            self.points.clear()
            return
        a, b = self.shown_axes()
        near = self._near_slice()
        outline = pg.mkPen(theme.current().canvas, width=1)
        faint = pg.mkPen(None)
        brushes, pens, sizes = [], [], []
        for label, solid in zip(self.data_y, near):
            colour = class_colour(int(label))
            colour.setAlpha(255 if solid else 40)
            brushes.append(pg.mkBrush(colour))
            pens.append(outline if solid else faint)
            sizes.append(7 if solid else 4)
        self.points.setData(
            x=self.data_x[:, a], y=self.data_x[:, b], brush=brushes, pen=pens, size=sizes
        )
        self.plot.setLabel("bottom", AXIS_NAMES[a])
        self.plot.setLabel("left", AXIS_NAMES[b])
        (ax0, ax1), (bx0, bx1) = self._bounds[a], self._bounds[b]
        self.plot.setRange(xRange=(ax0, ax1), yRange=(bx0, bx1), padding=0)

    def _near_slice(self) -> np.ndarray:
        if self.dimensions != 3:
            return np.ones(len(self.data_x), dtype=bool)
        low, high = self._bounds[self.slice_axis]
        band = (high - low) * NEAR_SLICE
        return np.abs(self.data_x[:, self.slice_axis] - self.slice_value) <= band

    def near_slice_count(self) -> int:
        """How many data points are drawn solid (all of them for 2-D data)."""
        return int(self._near_slice().sum())

    def _slider_moved(self, step: int, refresh: bool = True) -> None:
        low, high = self._bounds[self.slice_axis]
        self.slice_value = float(low + (high - low) * step / SLICE_STEPS)
        shown = round(self.slice_value, 2) + 0.0  # never "-0.00"
        self.slice_label.setText(f"{AXIS_NAMES[self.slice_axis]} = {shown:.2f}")
        if refresh:
            self.refresh()


def _rgb(colour: QColor) -> tuple[int, int, int]:
    return colour.red(), colour.green(), colour.blue()
