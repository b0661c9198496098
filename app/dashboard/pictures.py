"""Small painted pictures shared by the dashboard and the data panel: images of samples."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def sample_image(x: np.ndarray) -> QImage | None:
    """A picture of one sample, if it looks like an image: (H, W), (1, H, W) or (3, H, W).
    Scaled to its own range (the samples may be standardised)."""
    if x.ndim == 3 and x.shape[0] in (1, 3):
        x = x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)
    elif x.ndim == 3 and x.shape[-1] in (1, 3):
        x = x[..., 0] if x.shape[-1] == 1 else x
    if x.ndim not in (2, 3) or min(x.shape[:2]) < 4:
        return None
    low, high = float(np.nanmin(x)), float(np.nanmax(x))
    scaled = np.clip((x - low) / (high - low if high > low else 1.0) * 255.0, 0, 255)
    pixels = np.ascontiguousarray(scaled.astype(np.uint8))
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
    else:
        image = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: the numpy buffer goes away


def thumbnail(x: np.ndarray, size: int) -> QPixmap | None:
    """A sample as a square pixmap of `size` pixels, nearest-neighbour (crisp 8x8 digits)."""
    image = sample_image(x)
    if image is None:
        return None
    return QPixmap.fromImage(
        image.scaled(
            size,
            size,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
    )


def looks_like_images(shape: tuple[int, ...]) -> bool:
    """(H, W), (C, H, W) or (H, W, C) with small C and at least 4x4 pixels."""
    if len(shape) == 2:
        return min(shape) >= 4
    if len(shape) == 3:
        return (shape[0] in (1, 3) and min(shape[1:]) >= 4) or (
            shape[-1] in (1, 3) and min(shape[:2]) >= 4
        )
    return False
