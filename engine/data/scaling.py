"""Feature scaling fitted on the training split, recorded so export and inference repeat it.

The fitted statistics are a small JSON object kept in the project's dataset
section (``dataset.scaling_statistics``) and in the weights file's metadata:

    {"method": "standard", "per": "feature", "offset": [...], "scale": [...]}

Applying them is always ``(x - offset) / scale``, broadcast over one sample:
``per: "feature"`` means one value per entry of the sample's last axis (a
64-value vector, or each of the 8 values per step of an 8x8 sequence);
``per: "channel"`` means one value per channel of a channels x height x width
image. Standard scaling uses the mean and standard deviation; min-max uses the
minimum and the range, mapping the training data onto 0..1. Symmetric scaling
maps the whole training data's range onto -1..1 with one offset and one scale
for every value (``per: "all"``), so images stay images: the range of a Tanh
output, which is what a GAN's generator usually ends in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

METHODS = ("standard", "minmax", "symmetric", "none")


def fit_scaling(method: str, x: np.ndarray) -> dict[str, Any] | None:
    """Statistics of `x` (N, *sample_shape) for `method`; None for "none"."""
    if method == "none":
        return None
    if method not in METHODS:
        raise ValueError(f"unknown scaling {method!r}; use one of {', '.join(METHODS)}")
    if method == "symmetric":
        low, high = float(x.min()), float(x.max())
        half = (high - low) / 2 if high - low > 1e-8 else 1.0
        return {
            "method": method,
            "per": "all",
            "offset": [round((low + high) / 2, 7)],
            "scale": [round(half, 7)],
        }
    per = "channel" if x.ndim == 4 else "feature"
    values = np.moveaxis(x, 1, -1) if per == "channel" else x
    flat = values.reshape(-1, values.shape[-1]).astype(np.float64)
    if method == "standard":
        offset = flat.mean(axis=0)
        scale = flat.std(axis=0)
    else:
        offset = flat.min(axis=0)
        scale = flat.max(axis=0) - offset
    scale = np.where(scale > 1e-8, scale, 1.0)  # constant features stay put instead of blowing up
    return {
        "method": method,
        "per": per,
        "offset": [round(float(v), 7) for v in offset],
        "scale": [round(float(v), 7) for v in scale],
    }


def scaling_affine(
    stats: dict[str, Any], sample_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) arrays that broadcast against one sample of `sample_shape`."""
    offset = np.asarray(stats["offset"], dtype=np.float32)
    scale = np.asarray(stats["scale"], dtype=np.float32)
    if stats.get("per") == "channel":
        tail = (1,) * (len(sample_shape) - 1)
        return offset.reshape(-1, *tail), scale.reshape(-1, *tail)
    return offset, scale


def apply_scaling(x: np.ndarray, stats: dict[str, Any] | None) -> np.ndarray:
    """`x` (N, *sample_shape) scaled with fitted statistics (unchanged when there are none)."""
    if stats is None:
        return x
    offset, scale = scaling_affine(stats, tuple(x.shape[1:]))
    return ((x - offset) / scale).astype(np.float32)
