"""Pictures of generated samples: an image grid, or for 2-D data a scatter over the real points.

`train --samples-out FILE.png` writes one at the end of a GAN run; the values
are shown in the space the networks see (scaled data), over the real data's
range, so a grid from the fixed latent vectors is comparable between runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from engine.atomic import atomic_write_with

TILE = 48  # pixels per image side in a grid (small images are enlarged without smoothing)
SCATTER = 480  # pixels per side of a 2-D scatter


def samples_picture(generated: torch.Tensor, real: torch.Tensor) -> np.ndarray:
    """An RGB picture (H, W, 3) uint8 of `generated` samples, judged against `real` ones."""
    shape = tuple(generated.shape[1:])
    if shape == (2,):
        return _scatter(generated.numpy(), real.reshape(len(real), 2).numpy())
    return _grid(_as_images(generated), float(real.min()), float(real.max()))


def save_samples_png(generated: torch.Tensor, real: torch.Tensor, path: str | Path) -> Path:
    from PIL import Image

    picture = Image.fromarray(samples_picture(generated, real), "RGB")
    path = Path(path)
    atomic_write_with(path, lambda temp: picture.save(temp, format="PNG"))
    return path


def _as_images(samples: torch.Tensor) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3) arrays from samples shaped as images, or as square vectors."""
    x = samples.detach().float().numpy()
    if x.ndim == 4 and x.shape[1] in (1, 3):
        x = x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)
    elif x.ndim == 2 and math.isqrt(x.shape[1]) ** 2 == x.shape[1]:
        side = math.isqrt(x.shape[1])
        x = x.reshape(len(x), side, side)
    elif x.ndim != 3:
        flat = x.reshape(len(x), -1)
        x = flat[:, None, :]  # one row of values per sample
    return x


def _grid(images: np.ndarray, low: float, high: float) -> np.ndarray:
    count = len(images)
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    height, width = images.shape[1], images.shape[2]
    zoom = max(1, TILE // max(height, width))
    gap = 2
    canvas = np.full(
        (rows * (height * zoom + gap) + gap, columns * (width * zoom + gap) + gap, 3),
        40,
        dtype=np.uint8,
    )
    span = high - low if high > low else 1.0
    for index, image in enumerate(images):
        grey = np.clip((image - low) / span, 0.0, 1.0)
        pixels = (grey * 255).astype(np.uint8)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        pixels = np.repeat(np.repeat(pixels, zoom, axis=0), zoom, axis=1)
        r, c = divmod(index, columns)
        top, left = gap + r * (height * zoom + gap), gap + c * (width * zoom + gap)
        canvas[top : top + height * zoom, left : left + width * zoom] = pixels
    return canvas


def _scatter(generated: np.ndarray, real: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageDraw

    both = np.concatenate([real, np.clip(generated, -1e6, 1e6)])
    centre = (real.min(axis=0) + real.max(axis=0)) / 2
    half = max(float((real.max(axis=0) - real.min(axis=0)).max()) / 2 * 1.25, 1e-6)
    if np.isfinite(both).all():
        half = max(half, float(np.abs(generated - centre).max()) * 1.05)

    def to_pixels(points: np.ndarray) -> np.ndarray:
        unit = (points - centre) / half  # -1..1
        return np.stack([(unit[:, 0] + 1) / 2 * SCATTER, (1 - unit[:, 1]) / 2 * SCATTER], axis=1)

    picture = Image.new("RGB", (SCATTER, SCATTER), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    for x, y in to_pixels(real[:4000]):
        draw.point((float(x), float(y)), fill=(170, 170, 170))
    for x, y in to_pixels(generated):
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(220, 60, 40))
    return np.asarray(picture, dtype=np.uint8)
