"""Each unit of a 2-D network as a small picture of its output over the input plane, layer by layer.

What TensorFlow Playground draws: a column per layer, from the two inputs (a
ramp along each axis) through every hidden activation to the answer; each
tile is one unit's output over the plane, orange where it is high, blue where
it is low, each tile scaled to its own range. The training thread computes the
values (app/inside/look.py); here numpy colours them and each column becomes
one picture in a QLabel, so Qt repaints it without Python.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from designer import theme

TILE = 46  # pixels per unit's picture
GAP = 4
PER_COLUMN = 6  # tiles stacked before a layer takes a second column
LOW, HIGH = "#3f7fe0", "#f09a3c"


def diverging_lookup(background: str) -> np.ndarray:
    """256 x 4: blue through the background to orange."""
    low, middle, high = (
        np.asarray(QColor(c).getRgb(), dtype=np.float64)[:3] for c in (LOW, background, HIGH)
    )
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    rgb = np.where(t < 0, middle + (low - middle) * -t, middle + (high - middle) * t)
    return np.concatenate([rgb, np.full((256, 1), 255.0)], axis=1).astype(np.uint8)


def tiles_picture(
    values: np.ndarray, lookup: np.ndarray, background: str, gap: str | None = None
) -> QImage:
    """(units, n, n) values as tiles in columns of `PER_COLUMN`, each tile scaled to its own
    largest size (zero stays the background's colour, so a dead unit is a blank tile)."""
    units, n, _ = values.shape
    columns = int(np.ceil(units / PER_COLUMN))
    rows = min(units, PER_COLUMN)
    height, width = rows * (n + 2) - 2, columns * (n + 2) - 2
    canvas = np.empty((height, width, 4), np.uint8)
    canvas[:] = np.array(QColor(background).getRgb(), np.uint8)
    edge = np.array(QColor(gap or background).getRgb(), np.uint8)
    for unit in range(units):
        column, row = divmod(unit, PER_COLUMN)
        tile = values[unit][::-1]  # row 0 of the grid is the bottom of the plane
        size = float(np.abs(tile).max()) or 1.0
        index = np.clip((tile / size + 1.0) * 127.5, 0, 255).astype(np.uint8)
        top, left = row * (n + 2), column * (n + 2)
        canvas[max(top - 1, 0) : top + n + 1, max(left - 1, 0) : left + n + 1] = edge
        canvas[top : top + n, left : left + n] = lookup[index]
    image = QImage(canvas.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    return image.copy()


class NeuronColumn(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.title.setObjectName("InsideColumnTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.title)
        layout.addWidget(self.picture, 1)

    def show_values(self, values: np.ndarray, lookup: np.ndarray, background: str) -> None:
        image = tiles_picture(values, lookup, background, theme.current().node_border)
        n = values.shape[1]
        scale = TILE / n
        pixmap = QPixmap.fromImage(image).scaled(
            round(image.width() * scale),
            round(image.height() * scale),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self.picture.setPixmap(pixmap)


class NeuronsView(QScrollArea):
    """The columns of unit pictures; `set_layers` once per run, `show` per look."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NeuronsView")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.holder = QWidget()
        self.row = QHBoxLayout(self.holder)
        self.row.setContentsMargins(6, 6, 6, 6)
        self.row.setSpacing(10)
        self.row.addStretch(1)
        self.setWidget(self.holder)
        self.columns: dict[str, NeuronColumn] = {}
        self.plane: np.ndarray | None = None
        self.pending: dict[str, np.ndarray] = {}
        self.shown = 0

    def set_layers(self, plane: np.ndarray, titles: dict[str, str]) -> None:
        """A new run: an inputs column, then one column per layer (`titles` in forward order)."""
        while self.row.count() > 1:
            item = self.row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.columns = {}
        self.plane = plane
        for node, title in {"__inputs__": "inputs x₁, x₂", **titles}.items():
            column = NeuronColumn(title)
            self.columns[node] = column
            self.row.insertWidget(self.row.count() - 1, column)
        n = 40
        xs = np.linspace(plane[0, 0], plane[0, 1], n)
        ys = np.linspace(plane[1, 0], plane[1, 1], n)
        xx, yy = np.meshgrid(xs, ys)
        self.pending["__inputs__"] = np.stack([xx, yy]).astype(np.float32)

    def add(self, neurons: dict[str, np.ndarray]) -> None:
        self.pending.update(neurons)

    def refresh(self) -> None:
        """Colour what arrived since the last frame (a few hundred small tiles at most)."""
        if not self.pending:
            return
        background = theme.current().canvas
        lookup = diverging_lookup(background)
        for node, values in self.pending.items():
            column = self.columns.get(node)
            if column is not None:
                column.show_values(values, lookup, background)
        self.pending = {}
        self.shown += 1
