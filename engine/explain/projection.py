"""One layer's representation of a batch, flattened to 2-D and 3-D points that keep their place.

A layer of 3 units or fewer is shown exactly: its units are the axes. A wider
one is projected onto its principal components, refitted at every look (the
network changes as it learns). A fresh fit could turn the picture round or
mirror it from one look to the next even when the layer barely changed, so
each new fit is rotated (orthogonal Procrustes) onto the previous look's
points: what moves on screen is what moved in the network. The size of the
cloud is smoothed the same way. Plain numpy, cheap enough for the training
thread (a randomised fit for wide layers: a few small matrix products).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMOOTHING = 0.5  # weight of the previous look's centre and size
POWER_ITERATIONS = 3  # for the randomised fit of wide layers
OVERSAMPLE = 6
EXACT_UP_TO = 3
WIDE = 256  # units above which the randomised fit replaces the exact one
JITTER = 0.08  # a 1-unit layer's points spread a little across the unused axis


@dataclass
class Projected:
    """A layer's batch as points: `points2` (N, 2) and `points3` (N, 3), roughly within -1..1."""

    points2: np.ndarray
    points3: np.ndarray
    units: int
    exact: bool  # the layer's own units are the axes (no projection)
    explained: float  # share of the layer's variance the 3 shown axes hold (1.0 when exact)
    explained2: float  # the same for the 2 axes of the flat view


def principal_axes(
    centred: np.ndarray, count: int, start: np.ndarray | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The `count` leading principal directions (F, count) of centred rows and their singular
    values; exact for narrow layers, randomised (Halko et al.) for wide ones, starting from the
    previous look's directions (`start`) when given: they are nearly right already, so one
    refining pass is enough."""
    rows, units = centred.shape
    if units <= WIDE or rows <= count + OVERSAMPLE:
        _u, values, vt = np.linalg.svd(centred, full_matrices=False)
        return vt[:count].T, values[:count]
    rng = np.random.default_rng(seed)
    warm = start is not None and start.shape == (units, count)
    extra = rng.standard_normal((units, OVERSAMPLE if not warm else count)).astype(np.float32)
    probe = np.concatenate([start, extra], axis=1) if warm and start is not None else extra
    if not warm:
        probe = np.concatenate([probe, rng.standard_normal((units, count)).astype(np.float32)], 1)
    sketch = centred @ probe
    for _ in range(1 if warm else POWER_ITERATIONS):
        sketch, _r = np.linalg.qr(sketch)
        sketch = centred @ (centred.T @ sketch)
    basis, _r = np.linalg.qr(sketch)
    small = basis.T @ centred  # (k, F): its right singular vectors are the directions
    energy, left = np.linalg.eigh(small @ small.T)  # k x k: cheaper than the SVD of `small`
    order = np.argsort(energy)[::-1][:count]
    values = np.sqrt(np.clip(energy[order], 0.0, None))
    directions = (small.T @ left[:, order]) / np.maximum(values, 1e-12)
    return directions.astype(np.float32), values


def align(points: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """`points` turned (and perhaps mirrored) to lie as close as they can to `previous`."""
    if previous is None or previous.shape != points.shape:
        return points
    u, _s, vt = np.linalg.svd(points.T @ previous)
    return points @ (u @ vt)


class StableProjection:
    """Successive looks at one layer; `update` gives each look's points, kept in place."""

    def __init__(self) -> None:
        self.centre: np.ndarray | None = None
        self.size: float | None = None
        self.previous2: np.ndarray | None = None
        self.previous3: np.ndarray | None = None
        self.axes: np.ndarray | None = None  # the last look's principal directions (F, 3)

    def update(self, features: np.ndarray) -> Projected:
        values = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
        if not np.isfinite(values.sum()):  # one sum is cheaper than a check of every value
            values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        units = values.shape[1]
        mean = values.mean(axis=0)
        centre = mean  # where the picture is centred: smoothed, so that it does not jump
        if self.centre is not None and self.centre.shape == mean.shape:
            centre = SMOOTHING * self.centre + (1 - SMOOTHING) * mean
        self.centre = centre
        if units <= EXACT_UP_TO:
            shifted = values - centre
            points3 = _padded(shifted, 3)
            points2 = _padded(shifted, 2)
            explained = explained2 = 1.0
        else:
            centred = values - mean
            axes, singular = principal_axes(centred, 3, self.axes)
            self.axes = axes
            flat = centred.ravel()
            total = float(np.dot(flat, flat)) or 1.0
            shares = singular.astype(np.float64) ** 2 / total
            explained, explained2 = float(shares.sum()), float(shares[:2].sum())
            projected = centred @ axes + (mean - centre) @ axes  # = (values - centre) @ axes
            points3 = align(projected, self.previous3)
            points2 = align(projected[:, :2], self.previous2)
        self.previous2, self.previous3 = points2, points3
        scale = self._size(points3)
        return Projected(
            _spread(points2 / scale, units),
            _spread(points3 / scale, units),
            units,
            units <= EXACT_UP_TO,
            min(explained, 1.0),
            min(explained2, 1.0),
        )

    def _size(self, points: np.ndarray) -> float:
        """The cloud's radius (98th percentile), smoothed: the picture breathes, never jumps."""
        radius = float(np.percentile(np.linalg.norm(points, axis=1), 98)) if len(points) else 1.0
        radius = max(radius, 1e-6)
        if self.size is not None:
            radius = SMOOTHING * self.size + (1 - SMOOTHING) * radius
        self.size = radius
        return radius


def _padded(values: np.ndarray, width: int) -> np.ndarray:
    """The first `width` columns, zeros for the axes a narrow layer has not."""
    out = np.zeros((len(values), width), np.float32)
    take = min(width, values.shape[1])
    out[:, :take] = values[:, :take]
    return out


def _spread(points: np.ndarray, units: int) -> np.ndarray:
    """A one-unit layer's points spread slightly across the second axis (the same spread each
    look), so that they do not all sit on one line."""
    points = np.clip(points, -1.6, 1.6).astype(np.float32)
    if units == 1 and points.shape[1] >= 2:
        rng = np.random.default_rng(0)
        points[:, 1] = rng.uniform(-JITTER, JITTER, len(points))
    return points
