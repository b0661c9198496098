"""The one fit loop: epochs and batches for any number of networks, with a pluggable step.

The Trainer knows nothing of Qt or files. It runs on whatever thread calls
`fit` and talks to the world through callbacks (engine.training.callbacks);
another thread may call `stop()`, `pause()` and `resume()` at any time, and
the loop honours them before the next batch. What one batch does comes from
the step (engine.training.step): `SupervisedStep` for one network learning
targets, `GanStep` for two networks trained against each other.

    train, val = prepared.batches(settings.batch_size, device=trainer.device, seed=settings.seed)
    result = Trainer(model, settings, callbacks=[...]).fit(train, val)
    result.status  # completed | early_stopped | stopped | diverged

After `fit` the networks hold the weights worth keeping: the best epoch's when
early stopping restores the best, the last good epoch's after divergence,
and otherwise the last ones (whole, even when stopped mid-epoch). Figures stay
on the device during an epoch; on a GPU the loss is looked at only every
ACCELERATOR_CHECK_EVERY batches (each look is a sync).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from engine.settings import TrainingSettings
from engine.training.callbacks import BatchEnd, Callback, overrides
from engine.training.control import RunControl
from engine.training.devices import choose_threads, select_device
from engine.training.distributed import Distributed
from engine.training.memory import out_of_memory_guard
from engine.training.status import COMPLETED, DIVERGED, EARLY_STOPPED, STOPPED
from engine.training.step import Diverged, StopAgreed, TrainingStep
from engine.training.stopping import EarlyStopper, Snapshot
from engine.training.supervised import SupervisedStep

ACCELERATOR_CHECK_EVERY = 25  # batches between divergence checks on a GPU (each check is a sync)


class Batches(Protocol):
    """What the loop consumes: `engine.data.InMemoryBatches` or anything shaped like it."""

    @property
    def samples(self) -> int: ...

    def __len__(self) -> int: ...

    def epoch(self, epoch: int) -> Iterable[Any]: ...


@dataclass
class FitResult:
    """How a run ended and what it achieved."""

    status: str  # one of STATUSES
    epochs: int  # complete epochs trained
    history: list[dict[str, Any]]  # one figures dict per complete epoch
    best_epoch: int | None  # by the early-stopping metric (val_loss unless set otherwise)
    best_metric: str
    best_value: float | None
    seconds: float
    message: str = ""  # why it ended, in a sentence
    confusion: list[list[int]] | None = None  # of the kept weights' epoch, classification only
    precision: list[float] | None = None  # per class
    recall: list[float] | None = None
    notes: list[str] = field(default_factory=list)
    kept_epoch: int | None = None  # whose weights the networks hold (None: the current ones)

    @property
    def best_val_loss(self) -> float | None:
        losses = [h["val_loss"] for h in self.history if h.get("val_loss") is not None]
        return min(losses) if losses else None

    @property
    def final(self) -> dict[str, Any]:
        """The figures of the kept weights' epoch (the best one when the best was restored)."""
        if not self.history:
            return {}
        chosen = (
            [h for h in self.history if h["epoch"] == self.best_epoch] if self.best_epoch else []
        )
        return chosen[0] if chosen else self.history[-1]


class Trainer(RunControl):
    """Runs one step's training with one set of settings; create a new Trainer for each run.

    `step` is a TrainingStep, or a module to train on inputs and targets (a SupervisedStep)."""

    def __init__(
        self,
        step: TrainingStep | nn.Module,
        settings: TrainingSettings,
        *,
        callbacks: Sequence[Callback] = (),
        device: torch.device | str | None = None,
        threads: int | None = None,
        macs_per_sample: int = 0,
        reserve_core_for_ui: bool = False,
        classification: bool | None = None,
        distributed: Distributed | None = None,
    ) -> None:
        if isinstance(step, nn.Module):
            step = SupervisedStep(
                step, settings, classification=classification, distributed=distributed
            )
        self.step = step
        self.settings = settings
        self.distributed = distributed
        if distributed is not None:
            device = distributed.device
        self.device = torch.device(device) if device is not None else select_device(settings.device)
        for network in step.networks().values():
            network.to(self.device)
        self.callbacks = list(callbacks)
        self.threads = threads or choose_threads(
            macs_per_sample * settings.batch_size, reserve_core_for_ui
        )
        self.history: list[dict[str, Any]] = []
        self.epoch = 0
        self.global_step = 0
        self.notes: list[str] = []
        RunControl.__init__(self)

    # --------------------------------------------------------- what callbacks read
    @property
    def model(self) -> nn.Module:
        """The main network (the one users export: a GAN's generator)."""
        return next(iter(self.step.networks().values()))

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The main network's optimizer, once the run has started."""
        return getattr(self.step, "optimizer", None)

    @property
    def confusion(self) -> np.ndarray | None:
        """The latest validation's confusion matrix (classification only)."""
        return getattr(self.step, "confusion", None)

    @property
    def world_size(self) -> int:
        """How many processes train together (1 unless launched by torchrun)."""
        return self.distributed.world_size if self.distributed is not None else 1

    # ------------------------------------------------------------------ the run
    def fit(self, train: Batches, val: Batches | None = None) -> FitResult:
        previous_threads = torch.get_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        try:
            with out_of_memory_guard(self.device, self.settings.batch_size):
                self.step.setup(self, train)
                return self._fit(train, val)
        finally:
            self.step.teardown()
            torch.set_num_threads(previous_threads)

    def _fit(self, train: Batches, val: Batches | None) -> FitResult:
        started = time.perf_counter()
        settings, step = self.settings, self.step
        torch.manual_seed(settings.seed + (self.distributed.rank if self.distributed else 0))
        networks = step.networks()
        stopper = EarlyStopper(
            settings.early_stopping if step.stops_early else None, val is not None
        )
        self.notes += [stopper.note] if stopper.note else []
        best, last_good = _Snapshots(networks), _Snapshots(networks)
        last_good.take(0)
        self._call("on_fit_start", self)
        status, message = COMPLETED, f"trained all {settings.epochs} epochs"
        for epoch in range(1, settings.epochs + 1):
            self.epoch = epoch
            self._call("on_epoch_start", self, epoch)
            epoch_start = time.perf_counter()
            try:
                samples = self._train_epoch(train, epoch)
                if samples is None:
                    status, message = STOPPED, f"stopped by request during epoch {epoch}"
                    break
                figures, stop = step.end_epoch(epoch, self._stop.is_set())
            except StopAgreed:
                status, message = STOPPED, f"stopped by request during epoch {epoch}"
                break
            except Diverged as reason:
                status, message = DIVERGED, str(reason)
                break
            train_seconds = time.perf_counter() - epoch_start
            metrics: dict[str, Any] = {"epoch": epoch, **figures}
            if val is not None:
                metrics.update(step.validate(val))
                self._call("on_validation_end", self, epoch, metrics)
            metrics["samples_per_s"] = samples / max(train_seconds, 1e-9)
            metrics["seconds"] = time.perf_counter() - epoch_start
            step.after_epoch(metrics)
            if stopper.update(epoch, metrics) and stopper.restore_best:
                best.take(epoch)
            last_good.take(epoch)
            self.history.append(metrics)
            self._call("on_epoch_end", self, epoch, metrics)
            if stopper.should_stop:
                status = EARLY_STOPPED
                message = f"{stopper.metric} did not improve for {stopper.patience} epochs"
                break
            if stop:
                status, message = STOPPED, f"stopped by request after epoch {epoch}"
                break
        kept = self._keep_weights(status, best, last_good)
        result = FitResult(
            status,
            len(self.history),
            self.history,
            stopper.best_epoch,
            stopper.metric,
            stopper.best,
            time.perf_counter() - started,
            message,
            notes=self.notes,
            kept_epoch=kept,
        )
        step.finish(result)
        self._call("on_fit_end", self, result)
        return result

    def _train_epoch(self, train: Batches, epoch: int) -> int | None:
        """One pass over `train`: the samples it trained on, or None when stopped part-way.
        Nothing here reads a number from the device except the step's loss check every
        `check_every` batches (on a GPU)."""
        step = self.step
        step.start_epoch(epoch)
        check_every = 1 if self.device.type == "cpu" else ACCELERATOR_CHECK_EVERY
        batch_hooks = [c for c in self.callbacks if overrides(c, "on_batch_end")]
        local_stop = step.stops_locally()
        samples = 0
        for index, batch in enumerate(train.epoch(epoch)):
            if not self._running.is_set():
                self._running.wait()
            if local_stop and self._stop.is_set():
                return None
            done = step.train_batch(batch, index, index % check_every == 0)
            samples += done.samples
            if batch_hooks:
                info = BatchEnd(
                    epoch, index, self.global_step, done.samples, done.loss, done.losses
                )
                for callback in batch_hooks:
                    callback.on_batch_end(self, info)
            self.global_step += 1
        return samples

    def _keep_weights(self, status: str, best: _Snapshots, last_good: _Snapshots) -> int | None:
        """Put the weights worth keeping into the networks; returns their epoch (None: the
        current ones)."""
        if best.epoch is not None:
            best.restore()
            return best.epoch
        if status == DIVERGED:
            last_good.restore()
            return last_good.epoch
        return self.history[-1]["epoch"] if self.history and status != STOPPED else None

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)


class _Snapshots:
    """A copy of every network's weights at one epoch, kept on the training device."""

    def __init__(self, networks: dict[str, nn.Module]) -> None:
        self.networks = networks
        self.copies = {name: Snapshot() for name in networks}
        self.epoch: int | None = None

    def take(self, epoch: int) -> None:
        for name, network in self.networks.items():
            self.copies[name].take(network, epoch)
        self.epoch = epoch

    def restore(self) -> None:
        for name, network in self.networks.items():
            self.copies[name].restore(network)
