"""The fit loop: train a module on batches, validate, stop early, guard against divergence.

The Trainer knows nothing of Qt or files. It runs on whatever thread calls
`fit` and talks to the world through callbacks (engine.training.callbacks);
another thread may call `stop()`, `pause()` and `resume()` at any time, and
the loop honours them before the next batch. Figures stay on the device
during an epoch and are read once at its end (see engine.training.metrics).

    train, val = prepared.batches(settings.batch_size, device=trainer.device, seed=settings.seed)
    result = Trainer(model, settings, callbacks=[...]).fit(train, val)
    result.status  # completed | early_stopped | stopped | diverged

After `fit` the module holds the weights worth keeping: the best epoch's when
early stopping restores the best, the last good epoch's after divergence,
and otherwise the last ones (whole, even when stopped mid-epoch).

Speed paths, each opt-out or opt-in through the settings: data already on the
device (the batches), channels-last convolutions, bf16 autocast on CUDA
(`mixed_precision`), `torch.compile` (`compile`: a failed compilation falls
back to eager with a note, never a crash), and no host-device sync per batch
on a GPU (the loss is read every ACCELERATOR_CHECK_EVERY batches). Under
torchrun (`distributed`) the module trains wrapped in DDP and every figure
and decision is agreed by all ranks (engine.training.distributed).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np
import torch
from torch import nn

from engine.settings import TrainingSettings
from engine.training.callbacks import BatchEnd, Callback, overrides
from engine.training.control import RunControl
from engine.training.devices import choose_threads, select_device
from engine.training.distributed import (
    Distributed,
    agree_on_step,
    combine_evaluation,
    combine_meter,
    share_buffers,
    wrap,
)
from engine.training.losses import make_loss
from engine.training.memory import out_of_memory_guard
from engine.training.metrics import Meter, evaluate, per_class, task_for
from engine.training.optim import LRSchedule, make_optimizer
from engine.training.stopping import DivergenceGuard, EarlyStopper, Snapshot

COMPLETED, EARLY_STOPPED, STOPPED, DIVERGED = "completed", "early_stopped", "stopped", "diverged"
STATUSES = (COMPLETED, EARLY_STOPPED, STOPPED, DIVERGED)
ACCELERATOR_CHECK_EVERY = 25  # batches between divergence checks on a GPU (each check is a sync)
COMPILE_BACKEND: Any = "inductor"  # torch.compile's backend (tests swap in one that fails)


class Batches(Protocol):
    """What the loop consumes: `engine.data.InMemoryBatches` or anything shaped like it."""

    @property
    def samples(self) -> int: ...

    def __len__(self) -> int: ...

    def epoch(self, epoch: int) -> Iterable[tuple[torch.Tensor, torch.Tensor]]: ...


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

    @property
    def best_val_loss(self) -> float | None:
        losses = [h["val_loss"] for h in self.history if "val_loss" in h]
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
    """Trains one module with one set of settings; create a new Trainer for each run."""

    def __init__(
        self,
        model: nn.Module,
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
        self.settings = settings
        self.distributed = distributed
        if distributed is not None:
            device = distributed.device
        self.device = torch.device(device) if device is not None else select_device(settings.device)
        self.model = model.to(self.device)
        self._train_model: nn.Module = self.model  # what the loop calls: DDP and/or compiled
        self._eager_model: nn.Module | None = None  # set while training compiled: the fallback
        self.callbacks = list(callbacks)
        self.threads = threads or choose_threads(
            macs_per_sample * settings.batch_size, reserve_core_for_ui
        )
        is_classification = settings.is_classification if classification is None else classification
        self.task = task_for(settings.loss, is_classification)
        self.loss_fn = make_loss(settings.loss).to(self.device)
        self.optimizer: torch.optim.Optimizer | None = None
        self.history: list[dict[str, Any]] = []
        self.confusion: np.ndarray | None = None  # of the latest validation
        self.epoch = 0
        self.global_step = 0
        self.notes: list[str] = []
        RunControl.__init__(self)

    @property
    def world_size(self) -> int:
        """How many processes train this network together (1 unless launched by torchrun)."""
        return self.distributed.world_size if self.distributed is not None else 1

    # --- the run ------------------------------------------------------------------------------
    def fit(self, train: Batches, val: Batches | None = None) -> FitResult:
        previous_threads = torch.get_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        images = self._channels_last()
        if images:
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self._prepare_training_model()
        try:
            with out_of_memory_guard(self.device, self.settings.batch_size):
                return self._fit(train, val)
        finally:
            torch.set_num_threads(previous_threads)
            if images:
                self.model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]

    def _channels_last(self) -> bool:
        """Whether to train convolutions in channels-last layout: about 1.3x faster on CPU (oneDNN)
        and the layout tensor cores want; the module gets its usual layout back after the run."""
        return self.device.type in ("cpu", "cuda") and any(
            isinstance(m, nn.Conv2d) for m in self.model.modules()
        )

    def _prepare_training_model(self) -> None:
        """The module the loop calls: wrapped in DDP under torchrun, compiled when asked."""
        model = wrap(self.model, self.distributed) if self.distributed is not None else self.model
        self._train_model, self._eager_model = model, None
        if not self.settings.compile:
            return
        try:
            self._train_model = cast(nn.Module, torch.compile(model, backend=COMPILE_BACKEND))
            self._eager_model = model
        except Exception as error:  # torch.compile refuses this Python or platform up front
            self._note_compile_failure(error)

    def _note_compile_failure(self, error: Exception) -> None:
        lines = str(error).strip().splitlines()
        self.notes.append(
            f"torch.compile failed ({type(error).__name__}: {(lines[0] if lines else '')[:200]}); "
            "trained without compilation"
        )

    def _fit(self, train: Batches, val: Batches | None) -> FitResult:
        started = time.perf_counter()
        settings = self.settings
        torch.manual_seed(settings.seed + (self.distributed.rank if self.distributed else 0))
        self.optimizer = make_optimizer(self.model.parameters(), settings.optimizer, self.device)
        schedule = LRSchedule(self.optimizer, settings.schedule, settings.epochs, len(train))
        autocast, scaler = self._precision()
        stopper = EarlyStopper(settings.early_stopping, val is not None)
        self.notes += [stopper.note] if stopper.note else []
        guard = DivergenceGuard()
        best, last_good = Snapshot(), Snapshot()
        last_good.take(self.model, 0)
        confusions: dict[int, np.ndarray] = {}
        self._call("on_fit_start", self)
        status, message = COMPLETED, f"trained all {settings.epochs} epochs"
        for epoch in range(1, settings.epochs + 1):
            self.epoch = epoch
            self._call("on_epoch_start", self, epoch)
            epoch_start = time.perf_counter()
            meter, outcome, reason = self._train_epoch(
                train, epoch, guard, autocast, scaler, schedule
            )
            agreed_stop = False
            if outcome == COMPLETED and self.distributed is not None:
                agreed_stop = combine_meter(meter, self._stop.is_set())
            figures = meter.figures("train")  # reads the device: its queued work is done
            train_seconds = time.perf_counter() - epoch_start
            if outcome == COMPLETED:
                reason = guard.check(figures.get("train_loss", 0.0))
                outcome = DIVERGED if reason else COMPLETED
            if outcome != COMPLETED:
                status = outcome
                message = reason or f"stopped by request during epoch {epoch}"
                break
            metrics: dict[str, Any] = {"epoch": epoch, **figures}
            if val is not None:
                combine = None
                if self.distributed is not None:
                    share_buffers(self.model)
                    combine = functools.partial(
                        combine_evaluation, device=self.device, task=self.task
                    )
                evaluation = evaluate(self.model, val, self.loss_fn, self.task, autocast(), combine)
                metrics.update(evaluation.figures)
                self.confusion = evaluation.confusion
                if evaluation.confusion is not None:
                    confusions[epoch] = evaluation.confusion
                self._call("on_validation_end", self, epoch, metrics)
            metrics["lr"] = self.optimizer.param_groups[0]["lr"]
            metrics["samples"] = meter.samples  # over all processes when data-parallel
            metrics["samples_per_s"] = meter.samples / max(train_seconds, 1e-9)
            metrics["seconds"] = time.perf_counter() - epoch_start
            if stopper.update(epoch, metrics) and stopper.restore_best:
                best.take(self.model, epoch)
            last_good.take(self.model, epoch)
            self.history.append(metrics)
            schedule.after_epoch(metrics.get("val_loss", metrics.get("train_loss", 0.0)))
            self._call("on_epoch_end", self, epoch, metrics)
            if stopper.should_stop:
                status = EARLY_STOPPED
                message = f"{stopper.metric} did not improve for {stopper.patience} epochs"
                break
            if agreed_stop if self.distributed is not None else self._stop.is_set():
                status, message = STOPPED, f"stopped by request after epoch {epoch}"
                break
        kept_epoch = self._keep_weights(status, best, last_good)
        result = self._result(status, message, stopper, kept_epoch, confusions, started)
        self._call("on_fit_end", self, result)
        return result

    def _train_epoch(
        self,
        train: Batches,
        epoch: int,
        guard: DivergenceGuard,
        autocast: Callable[[], Any],
        scaler: Any,
        schedule: LRSchedule,
    ) -> tuple[Meter, str, str | None]:
        """One pass over `train`. Nothing here reads a number from the device except the loss
        every `check_every` batches (on a GPU); under torchrun that read is also where all
        ranks agree to stop or to call the run diverged, at the same step."""
        optimizer = self.optimizer
        assert optimizer is not None
        self.model.train()
        meter = Meter(self.device, self.task)
        clip = self.settings.grad_clip
        check_every = 1 if self.device.type == "cpu" else ACCELERATOR_CHECK_EVERY
        batch_hooks = [c for c in self.callbacks if overrides(c, "on_batch_end")]
        for step, (xb, yb) in enumerate(train.epoch(epoch)):
            if not self._running.is_set():
                self._running.wait()
            if self.distributed is None and self._stop.is_set():
                return meter, STOPPED, None
            out, loss = self._forward(xb, yb, autocast)
            if step % check_every == 0:
                if self.distributed is not None:
                    value, stop = agree_on_step(loss, self._stop.is_set())
                    if stop:
                        return meter, STOPPED, None
                else:
                    value = float(loss.detach().float().item())
                reason = guard.check(value)
                if reason:
                    return meter, DIVERGED, reason
            optimizer.zero_grad(set_to_none=True)
            out, loss = self._backward(xb, yb, out, loss, autocast, scaler)
            if clip:
                if scaler is not None:
                    scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            schedule.after_batch()
            meter.add(loss, out, yb)
            if batch_hooks:
                info = BatchEnd(epoch, step, self.global_step, len(yb), loss.detach())
                for callback in batch_hooks:
                    callback.on_batch_end(self, info)
            self.global_step += 1
        return meter, COMPLETED, None

    def _forward(
        self, xb: torch.Tensor, yb: torch.Tensor, autocast: Callable[[], Any]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            with autocast():
                out = self._train_model(xb)
                return out, self.loss_fn(out, yb)
        except Exception as error:
            if not self._fall_back_to_eager(error):
                raise
            return self._forward(xb, yb, autocast)

    def _backward(
        self,
        xb: torch.Tensor,
        yb: torch.Tensor,
        out: torch.Tensor,
        loss: torch.Tensor,
        autocast: Callable[[], Any],
        scaler: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients of `loss`; if the compiled backward fails, the batch is redone eagerly."""
        try:
            (scaler.scale(loss) if scaler is not None else loss).backward()
            return out, loss
        except Exception as error:
            if not self._fall_back_to_eager(error):
                raise
            assert self.optimizer is not None
            self.optimizer.zero_grad(set_to_none=True)
            out, loss = self._forward(xb, yb, autocast)
            (scaler.scale(loss) if scaler is not None else loss).backward()
            return out, loss

    def _fall_back_to_eager(self, error: Exception) -> bool:
        """After torch.compile failed (compilation is lazy: it fails on a call), train on
        without it; False when not training compiled, so the error is a real one."""
        if self._eager_model is None or isinstance(error, torch.OutOfMemoryError):
            return False
        self._train_model, self._eager_model = self._eager_model, None
        self._note_compile_failure(error)
        return True

    def _keep_weights(self, status: str, best: Snapshot, last_good: Snapshot) -> int | None:
        """Put the weights worth keeping into the module; returns their epoch (None: the current ones)."""
        if best.state is not None:
            best.restore(self.model)
            return best.epoch
        if status == DIVERGED:
            last_good.restore(self.model)
            return last_good.epoch
        return self.history[-1]["epoch"] if self.history and status != STOPPED else None

    def _result(
        self,
        status: str,
        message: str,
        stopper: EarlyStopper,
        kept_epoch: int | None,
        confusions: dict[int, np.ndarray],
        started: float,
    ) -> FitResult:
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
        )
        epoch = kept_epoch or (self.history[-1]["epoch"] if self.history else None)
        matrix = confusions.get(epoch) if epoch is not None else None
        if matrix is not None:
            result.confusion = matrix.tolist()
            result.precision, result.recall = per_class(matrix)
        return result

    def _precision(self) -> tuple[Callable[[], Any], Any]:
        """The autocast context factory and gradient scaler for mixed precision (CUDA only)."""
        if not self.settings.mixed_precision:
            return contextlib.nullcontext, None
        if self.device.type != "cuda":
            self.notes.append("mixed precision needs a CUDA GPU; training in full precision")
            return contextlib.nullcontext, None
        if torch.cuda.is_bf16_supported():
            return lambda: torch.autocast("cuda", dtype=torch.bfloat16), None
        return lambda: torch.autocast("cuda", dtype=torch.float16), torch.amp.GradScaler("cuda")

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)
