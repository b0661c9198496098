"""The training thread for a GAN project: the same worker as one network's, running a GanTrainer.

`GanWorker` is a `TrainingWorker` (same signals, stop/pause/resume, the same
error handling: a plan or data mistake is a message, never a crash) whose run
plans with `plan_gan` instead of `plan_training`. Its figures go into a
`GanBuffer` that the GAN page drains on the controller's timer; progress goes
into the controller's own buffer so the status bar moves as for any run.

Generated samples: for images the page reads `trainer.samples()` (the fixed
latent vectors, refreshed by the trainer every few generator steps); for 2-D
data the worker thread itself generates a denser cloud from the trainer's
larger fixed set a few times a second, because only the training thread may
run the generator while it trains.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from app.training.buffer import LiveBuffer
from app.training.worker import GPU_LOSS_EVERY, RunOutcome, TrainingWorker
from engine.gan import GanBatchEnd, GanTrainer, plan_gan
from engine.project import Project
from engine.settings import TrainingSettings
from engine.training import Callback

REFRESH_EVERY = 4  # generator steps between refreshes of the trainer's fixed-latent samples
CLOUD_INTERVAL = 0.2  # seconds between 2-D point clouds generated in the worker thread
CLOUD_POINTS = 1024


@dataclass
class GanDrained:
    """Everything new since the previous drain."""

    batches: list[tuple[float, float, float]] = field(default_factory=list)  # x, d_loss, g_loss
    epochs: list[dict[str, Any]] = field(default_factory=list)
    cloud: torch.Tensor | None = None  # the latest 2-D point cloud (2-D data only)


class GanBuffer:
    """Thread-safe hand-over from the GAN worker to the page; also where the page finds the
    run's trainer (for `samples()`) and real data once the run is planned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = GanDrained()
        self.trainer: GanTrainer | None = None
        self.real: torch.Tensor | None = None
        self.info: dict[str, Any] = {}

    def add_batch(self, x: float, d_loss: float, g_loss: float) -> None:
        with self._lock:
            self._pending.batches.append((x, d_loss, g_loss))

    def add_epoch(self, metrics: dict[str, Any]) -> None:
        with self._lock:
            self._pending.epochs.append(dict(metrics))

    def set_cloud(self, points: torch.Tensor) -> None:
        with self._lock:
            self._pending.cloud = points

    def drain(self) -> GanDrained:
        with self._lock:
            taken, self._pending = self._pending, GanDrained()
        return taken


class GanFigures(Callback):
    """The worker's callback: cheap appends, progress, and a 2-D cloud now and then."""

    def __init__(self, live: LiveBuffer, gan: GanBuffer, steps: int, two_d: bool) -> None:
        self.live = live
        self.gan = gan
        self.steps = max(1, steps)
        self.two_d = two_d
        self.started = time.perf_counter()
        self.last_cloud = 0.0

    def on_fit_start(self, trainer: GanTrainer) -> None:  # type: ignore[override]
        self.started = time.perf_counter()
        self.live.set_progress(1, trainer.settings.epochs, 0, self.steps, 0.0)
        self.cloud(trainer)

    def on_batch_end(self, trainer: GanTrainer, batch: GanBatchEnd) -> None:  # type: ignore[override]
        x = batch.epoch - 1 + (batch.step + 1) / self.steps
        every = 1 if trainer.device.type == "cpu" else GPU_LOSS_EVERY
        if batch.global_step % every == 0:
            g_loss = float(batch.g_loss.item()) if batch.g_loss is not None else math.nan
            self.gan.add_batch(x, batch.loss_value(), g_loss)
        now = time.perf_counter()
        self.live.set_progress(
            batch.epoch, trainer.settings.epochs, batch.step + 1, self.steps, now - self.started
        )
        if self.two_d and now - self.last_cloud >= CLOUD_INTERVAL:
            self.cloud(trainer)

    def on_epoch_end(self, trainer: GanTrainer, epoch: int, metrics: dict[str, Any]) -> None:  # type: ignore[override]
        self.gan.add_epoch(metrics)
        self.cloud(trainer)

    def cloud(self, trainer: GanTrainer) -> None:
        if self.two_d:
            self.gan.set_cloud(trainer.generate(trainer.assess_latents[:CLOUD_POINTS]))
            self.last_cloud = time.perf_counter()


@dataclass
class GanOutcome(RunOutcome):
    """A finished GAN run: `state` is the generator's (the network users export)."""

    samples: torch.Tensor | None = None  # the generator's final samples for the fixed latents
    cloud: torch.Tensor | None = None  # 2-D data: the final point cloud
    discriminator_state: dict[str, torch.Tensor] = field(default_factory=dict)


class GanWorker(TrainingWorker):
    """One GAN run on a snapshot of the project."""

    def __init__(self, project: Project, settings: TrainingSettings, buffer: LiveBuffer) -> None:
        super().__init__(project, settings, buffer)
        self.gan = GanBuffer()

    def _train(self) -> None:
        plan = plan_gan(self.project, self.settings)
        batches = plan.batches()
        two_d = tuple(plan.real.shape[1:]) == (2,)
        figures = GanFigures(self.buffer, self.gan, len(batches), two_d)
        trainer = plan.trainer([figures], reserve_core_for_ui=True, refresh_every=REFRESH_EVERY)
        info = plan.start_info() | {
            "device": str(plan.device),
            "steps_per_epoch": len(batches),
            "epochs": plan.settings.epochs,
            "threads": trainer.threads,
        }
        self.gan.real = plan.real
        self.gan.info = dict(info)
        self.gan.trainer = trainer
        self.trainer = trainer  # type: ignore[assignment]  # same stop/pause/resume surface
        self.planned.emit(info)
        if self._paused:
            trainer.pause()
        if self._stop_asked:
            trainer.stop()
        result = trainer.fit(batches)
        outcome = GanOutcome(
            result,
            _cpu_state(trainer.generator),
            plan.project,
            str(plan.device),
            None,
            samples=trainer.samples(),
            cloud=trainer.generate(trainer.assess_latents[:CLOUD_POINTS]) if two_d else None,
            discriminator_state=_cpu_state(trainer.discriminator),
        )
        self.finished_run.emit(outcome)


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").clone() for k, v in module.state_dict().items()}


__all__ = ["GanBuffer", "GanDrained", "GanOutcome", "GanWorker"]
