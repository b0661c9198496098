"""Generated data sets: each from numpy with a fixed seed, so every run sees the same data.

They are small teaching problems chosen so that a particular kind of network
is the natural answer: depth for spirals, a smooth 3-D map for the paper ball,
recurrence for the sine wave, attention for the marker task.
"""

from __future__ import annotations

import numpy as np

MARKER = 10  # the token that points at the answer in the marker task
FILLER = 11  # a token that never carries the answer
MARKER_VOCAB = 12
MARKER_LENGTH = 16


def spirals(per_class: int = 500, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-D spiral arms, one class per arm, one and a half turns each."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(classes):
        t = np.sqrt(rng.uniform(0.0, 1.0, per_class)) * 0.95 + 0.05
        angle = 2 * np.pi * k / classes + 3 * np.pi * t
        points = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
        xs.append(points + rng.normal(0.0, 0.02, points.shape))
        ys.append(np.full(per_class, k))
    return _shuffled(np.concatenate(xs), np.concatenate(ys), rng)


def paper_ball(
    per_class: int = 400, sheets: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Flat parallel sheets of paper, one class each, crumpled together into a ball.

    Crumpling is a chain of smooth shears (each moves points along one axis by a
    wave of the other two); every shear can be undone, so the sheets never cut
    through each other and a network can learn to flatten them again.
    """
    rng = np.random.default_rng(seed)
    levels = np.linspace(-0.8, 0.8, sheets)
    u = rng.uniform(-1.0, 1.0, (sheets * per_class, 2))
    labels = np.repeat(np.arange(sheets), per_class)
    points = np.column_stack([u, levels[labels]])
    for step in range(8):
        axis = (step + 2) % 3
        a, b = (axis + 1) % 3, (axis + 2) % 3
        f1, f2 = rng.uniform(1.5, 3.0, 2)
        p1, p2 = rng.uniform(0.0, 2 * np.pi, 2)
        points[:, axis] += 0.45 * np.sin(f1 * points[:, a] + p1) * np.cos(f2 * points[:, b] + p2)
    points -= points.mean(axis=0)
    points /= np.abs(points).max()
    return _shuffled(points, labels, rng)


def sine_windows(
    windows: int = 2000, length: int = 24, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a noisy sine wave (each its own frequency and phase) and the value after each."""
    rng = np.random.default_rng(seed)
    frequency = rng.uniform(0.15, 0.45, (windows, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (windows, 1))
    steps = np.arange(length + 1)[None, :]
    wave = np.sin(frequency * steps + phase) + rng.normal(0.0, 0.05, (windows, length + 1))
    x = wave[:, :length, None]
    y = wave[:, length:]
    return x.astype(np.float32), y.astype(np.float32)


def marker_sequences(count: int = 10000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences whose class is the token right after the one marker token.

    The marker sits at a random position and the other tokens are random digits
    and fillers, so counting tokens or reading a fixed position cannot solve it:
    the network has to find the marker and look one step past it (attention).
    """
    rng = np.random.default_rng(seed)
    choices = np.array([*range(10), FILLER])
    tokens = rng.choice(choices, size=(count, MARKER_LENGTH))
    where = rng.integers(0, MARKER_LENGTH - 1, count)
    answer = rng.integers(0, 10, count)
    rows = np.arange(count)
    tokens[rows, where] = MARKER
    tokens[rows, where + 1] = answer
    return tokens.astype(np.int64), answer.astype(np.int64)


RING_MODES = 8  # the ring of Gaussians: how many, on a circle of what radius, how wide
RING_RADIUS = 2.0
RING_STD = 0.05


def ring_centres() -> np.ndarray:
    """The centres of the ring's Gaussians, (RING_MODES, 2), mode k at angle 2*pi*k/RING_MODES."""
    angles = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
    return (RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def ring(count: int = 8000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points from 8 equally likely Gaussians on a circle; the label is the Gaussian (the mode).

    The classic test of a GAN's generator: a collapsed one covers a few modes, or
    hops from mode to mode, instead of all eight at once.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, RING_MODES, count)
    points = ring_centres()[labels] + rng.normal(0.0, RING_STD, (count, 2))
    return points.astype(np.float32), labels.astype(np.int64)


def _shuffled(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), y[order].astype(np.int64)
