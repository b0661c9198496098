"""A false-colour picture in a pyqtgraph view, painted by Qt in C++ (off the GIL).

pyqtgraph's ImageItem paints in Python, holding the GIL the training thread
needs. Here Python colours the array once when it changes (a lookup-table
index in numpy) and hands Qt a pixmap; `QGraphicsPixmapItem` paints it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem


def coloured(values: np.ndarray, levels: tuple[float, float], lookup: np.ndarray) -> QImage:
    """`values` (rows, columns) mapped through `lookup` (256 x RGBA) between `levels`."""
    low, high = levels
    scale = 255.0 / (high - low) if high > low else 0.0
    index = np.clip((np.nan_to_num(values, nan=low) - low) * scale, 0, 255).astype(np.uint8)
    rgba = np.ascontiguousarray(lookup[index])
    rows, columns = index.shape
    return QImage(rgba.data, columns, rows, 4 * columns, QImage.Format.Format_RGBA8888).copy()


class FastImage:
    """Row 0 of the array at the rectangle's low y edge, as pyqtgraph's ImageItem draws it."""

    def __init__(self, box: pg.ViewBox, lookup: np.ndarray) -> None:
        self.item = QGraphicsPixmapItem()
        self.lookup = lookup
        self.shape: tuple[int, int] | None = None
        box.addItem(self.item)

    def set_image(
        self, values: np.ndarray, levels: tuple[float, float], rect: QRectF | None = None
    ) -> None:
        self.item.setPixmap(QPixmap.fromImage(coloured(values, levels, self.lookup)))
        self.shape = values.shape[:2]
        self.set_rect(rect or QRectF(0, 0, values.shape[1], values.shape[0]))

    def set_rect(self, rect: QRectF) -> None:
        """Stretch the picture over `rect` (in the view's coordinates)."""
        if self.shape is None:
            return
        rows, columns = self.shape
        self.item.setTransform(
            QTransform.fromScale(rect.width() / columns, rect.height() / rows)
            * QTransform.fromTranslate(rect.x(), rect.y())
        )

    def clear(self) -> None:
        self.item.setPixmap(QPixmap())
        self.shape = None
