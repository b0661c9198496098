"""The decision regions of a 2-D or 3-D classifier, computed in the training thread.

The model lives in the worker thread, so the worker asks it for its class over a
grid covering the data (a square for 2 features, a cube for 3), at most about
once a second, under `torch.no_grad` with eval mode restored afterwards. The
answer (class ids per grid cell, plain numpy) goes into the LiveBuffer like
every other figure; the dashboard's timer hands it to a `RegionsView`, whose
`predict` looks each point up in the latest grid (so the 3-D slice slider
needs no model at all).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.training.callbacks import Callback

if TYPE_CHECKING:
    from engine.training import BatchEnd, Trainer

REGIONS_INTERVAL = 1.0  # seconds between looks
GRID = {2: 160, 3: 40}  # cells per axis: 25,600 points for a square, 64,000 for a cube
SHOWN_POINTS = 1500  # data points drawn over the regions
PAD = 0.08  # as RegionsView pads the data's range


@dataclass
class RegionsFrame:
    """One look: class id per grid cell over `bounds`; the data drawn with it comes once."""

    epoch: float
    bounds: np.ndarray  # (D, 2) low, high per feature
    ids: np.ndarray  # (n,) * D class ids, axis k following feature k
    x: np.ndarray | None = None  # (N, D) data points (first frame only)
    y: np.ndarray | None = None


def wants_regions(data: Any) -> bool:
    """A classifier over samples of 2 or 3 features (not images, not tokens)."""
    import torch

    x = getattr(data, "train_x", None)
    return (
        bool(getattr(data, "classification", False))
        and isinstance(x, torch.Tensor)
        and x.dim() == 2
        and x.shape[1] in (2, 3)
        and x.is_floating_point()
    )


def grid_bounds(x: np.ndarray) -> np.ndarray:
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((high - low) * PAD, 1e-3)
    return np.stack([low - pad, high + pad], axis=1).astype(np.float64)


def grid_points(bounds: np.ndarray) -> tuple[np.ndarray, int]:
    dims = len(bounds)
    n = GRID[dims]
    axes = [np.linspace(low, high, n, dtype=np.float32) for low, high in bounds]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1), n


def lookup(frame: RegionsFrame, points: np.ndarray) -> np.ndarray:
    """The class of the nearest grid cell for each point (RegionsView's `predict`)."""
    n = frame.ids.shape[0]
    low, high = frame.bounds[:, 0], frame.bounds[:, 1]
    scale = np.where(high > low, high - low, 1.0)
    index = np.rint((np.asarray(points, dtype=np.float64) - low) / scale * (n - 1))
    index = np.clip(index, 0, n - 1).astype(np.int64)
    return frame.ids[tuple(index[:, k] for k in range(index.shape[1]))]


class RegionsLook(Callback):
    """A Trainer callback: every `REGIONS_INTERVAL` seconds, the model's class over the grid."""

    def __init__(self, buffer: Any, data: Any, steps_per_epoch: int) -> None:
        self.buffer = buffer
        self.steps = max(1, steps_per_epoch)
        x = data.train_x[:SHOWN_POINTS].float()
        self.x = x.numpy()
        self.y = data.train_y[:SHOWN_POINTS].numpy()
        self.bounds = grid_bounds(data.train_x.float().numpy())
        self.grid, self.n = grid_points(self.bounds)
        import torch  # the run has loaded it by now

        self.grid_tensor = torch.from_numpy(self.grid)
        self.last = 0.0
        self.sent_data = False

    def on_fit_start(self, trainer: Trainer) -> None:
        self.look(trainer, 0.0)

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        if time.perf_counter() - self.last >= REGIONS_INTERVAL:
            self.look(trainer, batch.epoch - 1 + (batch.step + 1) / self.steps)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        if time.perf_counter() - self.last >= REGIONS_INTERVAL:
            self.look(trainer, float(epoch))

    def look(self, trainer: Trainer, epoch: float) -> None:
        import torch

        self.last = time.perf_counter()
        model = trainer.model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = model(self.grid_tensor.to(trainer.device))
                ids = out.argmax(dim=1) if out.dim() == 2 else (out.reshape(-1) > 0).long()
                ids_np = ids.to("cpu").numpy()
        finally:
            model.train(was_training)
        frame = RegionsFrame(epoch, self.bounds, ids_np.reshape((self.n,) * len(self.bounds)))
        if not self.sent_data:
            frame.x, frame.y, self.sent_data = self.x, self.y, True
        self.buffer.add_regions(frame)
        self.last = time.perf_counter()


__all__ = ["RegionsFrame", "RegionsLook", "lookup", "wants_regions"]


def regions_look(plan: Any, buffer: Any, steps_per_epoch: int) -> RegionsLook | None:
    """The Regions tab's look into a run: only a classifier of 2 or 3 features has regions."""
    return RegionsLook(buffer, plan.data, steps_per_epoch) if wants_regions(plan.data) else None
