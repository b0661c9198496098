"""The figures a training run produces, handed from the worker thread to the UI.

The worker appends under a lock and returns at once; the dashboard drains
everything new on a timer (20-30 Hz). So the UI's work grows with its frame
rate, never with the batch rate, and no Qt signal is sent per batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Probe:
    """What the probe batch showed at one moment: per-layer figures, all plain numpy/numbers.
    A layer is keyed by its node id, one inside a block use by its path (``block1.conv1``)."""

    step: int  # global step
    epoch: float  # fractional epoch, for the charts' x axis
    histograms: dict[str, Any]  # node id -> counts (float32 array) over that node's fixed bins
    ranges: dict[str, tuple[float, float]]  # node id -> (low, high) of its bins
    pictures: dict[str, Any]  # node id -> ('maps' | 'heat', 2-D float array in 0..1)
    weight_norms: dict[str, float]  # node id -> L2 norm of its weights
    grad_norms: dict[str, float]  # node id -> L2 norm of its gradients (last step)
    dead: dict[str, float]  # node id -> fraction of units never active on the probe
    swatches: dict[str, Any]  # node id -> small histogram for the canvas (float32, 0..1)
    accuracy: float | None = None  # on the probe samples (classification only)
    left_out: int = 0  # layers inside blocks not looked at (past the probe's limit)


@dataclass
class Drained:
    """Everything new since the previous drain."""

    # fractional epoch, each loss of the batch by name ("loss"; a GAN's "d_loss", "g_loss"), lr
    batches: list[tuple[float, dict[str, float], float]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    progress: tuple[int, int, int, int, float] | None = None  # epoch, epochs, step, steps, secs
    regions: list[Any] = field(default_factory=list)  # RegionsFrame (app/training/regions_look)
    inside: list[Any] = field(default_factory=list)  # InsideFrame (app/inside/look)
    samples: Any = None  # the latest generated samples (a GAN's 2-D point cloud), CPU tensor
    texts: list[tuple[float, str]] = field(default_factory=list)  # a language model's writing

    def __bool__(self) -> bool:
        return bool(
            self.batches
            or self.epochs
            or self.probes
            or self.progress
            or self.regions
            or self.inside
            or self.samples is not None
            or self.texts
        )


class LiveBuffer:
    """Thread-safe: `add_*` from the worker, `drain` from the UI."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = Drained()

    def add_batch(self, epoch: float, losses: dict[str, float], lr: float) -> None:
        with self._lock:
            self._pending.batches.append((epoch, losses, lr))

    def add_epoch(self, metrics: dict[str, Any]) -> None:
        with self._lock:
            self._pending.epochs.append(dict(metrics))

    def add_probe(self, probe: Probe) -> None:
        with self._lock:
            self._pending.probes.append(probe)

    def add_regions(self, frame: Any) -> None:
        with self._lock:
            self._pending.regions.append(frame)

    def add_inside(self, frame: Any) -> None:
        with self._lock:
            self._pending.inside.append(frame)

    def set_samples(self, samples: Any) -> None:
        with self._lock:
            self._pending.samples = samples

    def add_text(self, epoch: float, text: str) -> None:
        with self._lock:
            self._pending.texts.append((epoch, text))

    def set_progress(self, epoch: int, epochs: int, step: int, steps: int, elapsed: float) -> None:
        with self._lock:
            self._pending.progress = (epoch, epochs, step, steps, elapsed)

    def drain(self) -> Drained:
        with self._lock:
            taken, self._pending = self._pending, Drained()
        return taken
