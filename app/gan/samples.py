"""The generator's samples, live: a crisp image grid, or a scatter over the real 2-D data.

Samples arrive in the networks' space (scaled data, -1..1 for a Tanh
generator); images are shown over the real data's value range, so a grid
from the fixed latent vectors is comparable from one moment to the next.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.dashboard import style
from app.dashboard.chart_widget import ChartWidget
from designer import theme

GAP = 1  # pixels between images in a grid at 1x
GRID_GAP = 2  # screen pixels between images in the live grid, whatever the enlargement
GAP_GREY = 40
REAL_POINTS = 3000  # the real data drawn under a 2-D scatter (a fixed random subset)


def as_images(samples: np.ndarray) -> np.ndarray | None:
    """(N, H, W) or (N, H, W, 3) from samples shaped as images or as square vectors; None when
    the samples do not look like pictures."""
    x = samples
    if x.ndim == 4 and x.shape[1] in (1, 3):
        x = x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)
    elif x.ndim == 4 and x.shape[-1] in (1, 3):
        x = x[..., 0] if x.shape[-1] == 1 else x
    elif x.ndim == 2 and x.shape[1] >= 16 and math.isqrt(x.shape[1]) ** 2 == x.shape[1]:
        side = math.isqrt(x.shape[1])
        x = x.reshape(len(x), side, side)
    elif x.ndim == 2:
        x = x[:, None, :]  # one row of values per sample: a strip
    if x.ndim not in (3, 4):
        return None
    return x


def tiles(images: np.ndarray, low: float, high: float) -> np.ndarray:
    """The images as RGB uint8 tiles (N, H, W, 3), over the value range low..high."""
    span = high - low if high > low else 1.0
    pixels = np.clip((np.nan_to_num(images, nan=low) - low) / span, 0.0, 1.0)
    pixels = (pixels * 255.0 + 0.5).astype(np.uint8)
    if pixels.ndim == 3:
        pixels = np.repeat(pixels[..., None], 3, axis=3)
    return pixels


def grid_shape(count: int) -> tuple[int, int]:
    """(rows, columns) of a near-square grid for `count` images."""
    columns = max(1, math.ceil(math.sqrt(count)))
    return max(1, math.ceil(count / columns)), columns


def image_grid(pixels: np.ndarray, zoom: int, gap: int = GAP) -> np.ndarray:
    """One picture (uint8, (H, W, 3)) of RGB tiles enlarged `zoom` times with hard pixel edges,
    `gap` pixels apart."""
    rows, columns = grid_shape(len(pixels))
    height, width = pixels.shape[1] * zoom, pixels.shape[2] * zoom
    canvas = np.full(
        (rows * (height + gap) + gap, columns * (width + gap) + gap, 3), GAP_GREY, np.uint8
    )
    big = np.repeat(np.repeat(pixels, zoom, axis=1), zoom, axis=2)
    for index in range(len(pixels)):
        r, c = divmod(index, columns)
        top, left = gap + r * (height + gap), gap + c * (width + gap)
        canvas[top : top + height, left : left + width] = big[index]
    return canvas


def best_zoom(count: int, height: int, width: int, room_w: int, room_h: int, gap: int) -> int:
    """The largest whole enlargement at which the grid fits the room (at least 1)."""
    rows, columns = grid_shape(count)
    across = (room_w - gap * (columns + 1)) // max(1, columns * width)
    down = (room_h - gap * (rows + 1)) // max(1, rows * height)
    return max(1, min(across, down))


class SampleGrid(QWidget):
    """Generated images in a grid, each pixel a crisp square as large as the space allows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("GanSampleGrid")
        self.pixels: np.ndarray | None = None  # (N, H, W, 3) uint8 tiles
        self.image: QImage | None = None  # the grid as last painted
        self._painted: tuple[int, int] | None = None  # (version, zoom) of `image`
        self.version = 0
        self.count = 0
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.pixels, self.image, self.count = None, None, 0
        self.update()

    def set_samples(self, samples: np.ndarray, low: float, high: float) -> bool:
        """Show `samples`; False when they are not pictures."""
        images = as_images(samples)
        if images is None or not len(images):
            return False
        self.pixels = tiles(images, low, high)
        self.count = len(images)
        self.version += 1
        self.image = self._render()
        self.update()
        return True

    def zoom(self) -> int:
        if self.pixels is None:
            return 1
        room = self.rect().adjusted(4, 4, -4, -4)
        _n, height, width = self.pixels.shape[:3]
        return best_zoom(self.count, height, width, room.width(), room.height(), GRID_GAP)

    def _render(self) -> QImage | None:
        if self.pixels is None:
            return None
        zoom = self.zoom()
        if self.image is not None and self._painted == (self.version, zoom):
            return self.image
        grid = np.ascontiguousarray(image_grid(self.pixels, zoom, GRID_GAP))
        height, width = grid.shape[:2]
        self._painted = (self.version, zoom)
        return QImage(grid.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.current().canvas))
        self.image = self._render()
        if self.image is None:
            painter.setPen(QColor(theme.current().text_dim))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "Generated samples appear here while the GAN trains",
            )
            return
        x = (self.width() - self.image.width()) // 2
        y = (self.height() - self.image.height()) // 2
        painter.drawImage(max(0, x), max(0, y), self.image)


class SampleScatter(ChartWidget):
    """Generated 2-D points (the accent colour) over the real data (grey)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("GanSampleScatter")
        self.setBackground(style.plot_background())
        plot = self.getPlotItem()
        style.style_plot(plot)
        plot.setAspectLocked(True)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        self.real = pg.ScatterPlotItem(
            size=3, pen=None, brush=pg.mkBrush(style.colour(theme.current().text_dim, 150))
        )
        self.generated = pg.ScatterPlotItem(
            size=4, pen=None, brush=pg.mkBrush(style.colour(style.SERIES[3], 150))
        )
        plot.addItem(self.real)
        plot.addItem(self.generated)
        self.count = 0

    def clear_points(self) -> None:
        self.real.setData([], [])
        self.generated.setData([], [])
        self.count = 0

    def set_real(self, points: np.ndarray) -> None:
        if len(points) > REAL_POINTS:
            chosen = np.random.default_rng(0).choice(len(points), REAL_POINTS, replace=False)
            points = points[chosen]
        points = np.asarray(points, np.float64)
        self.real.setData(points[:, 0], points[:, 1])
        low = [float(v) for v in points.min(axis=0)]  # Python floats: pyqtgraph compares them
        high = [float(v) for v in points.max(axis=0)]  # with float64 limits (no float32 casts)
        margin = 0.15 * (max(high[0] - low[0], high[1] - low[1]) or 1.0)
        self.getPlotItem().setRange(
            xRange=(low[0] - margin, high[0] + margin),
            yRange=(low[1] - margin, high[1] + margin),
            padding=0,
        )

    def set_generated(self, points: np.ndarray) -> None:
        points = np.asarray(points, np.float64)
        finite = points[np.isfinite(points).all(axis=1)]
        self.generated.setData(finite[:, 0], finite[:, 1])
        self.count = len(finite)
