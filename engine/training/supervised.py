"""One network learning targets from inputs: the step of classifiers, regressors and autoencoders.

Speed paths, each opt-out or opt-in through the settings: channels-last
convolutions, bf16 autocast on CUDA (`mixed_precision`), `torch.compile`
(`compile`: a failed compilation falls back to eager with a note, never a
crash), and no host-device sync per batch on a GPU (the Trainer asks for a
loss check only every few batches there). Under torchrun (`distributed`) the
module trains wrapped in DDP and every figure and decision is agreed by all
ranks (engine.training.distributed).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import nn

from engine.settings import TrainingSettings
from engine.training.distributed import (
    Distributed,
    agree_on_step,
    combine_evaluation,
    combine_meter,
    share_buffers,
    wrap,
)
from engine.training.losses import make_loss
from engine.training.metrics import Meter, evaluate, per_class, task_for
from engine.training.optim import LRSchedule, make_optimizer
from engine.training.step import Diverged, StepOutput, StopAgreed, TrainingStep
from engine.training.stopping import DivergenceGuard

if TYPE_CHECKING:
    from engine.training.trainer import Batches, FitResult, Trainer

COMPILE_BACKEND: Any = "inductor"  # torch.compile's backend (tests swap in one that fails)


class SupervisedStep(TrainingStep):
    """`model(x)` against targets `y` with the settings' loss, optimizer and schedule."""

    def __init__(
        self,
        model: nn.Module,
        settings: TrainingSettings,
        *,
        classification: bool | None = None,
        distributed: Distributed | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.distributed = distributed
        is_classification = settings.is_classification if classification is None else classification
        self.task = task_for(settings.loss, is_classification)
        self.loss_fn = make_loss(settings.loss)
        self.optimizer: torch.optim.Optimizer | None = None
        self.confusion: np.ndarray | None = None  # of the latest validation
        self.confusions: dict[int, np.ndarray] = {}
        self._train_model: nn.Module = model  # what a batch calls: DDP and/or compiled
        self._eager_model: nn.Module | None = None  # set while training compiled: the fallback
        self._images = False

    def networks(self) -> dict[str, nn.Module]:
        return {"network": self.model}

    def stops_locally(self) -> bool:
        return self.distributed is None

    # --------------------------------------------------------------- the run
    def setup(self, trainer: Trainer, train: Batches) -> None:
        super().setup(trainer, train)
        device = trainer.device
        self.loss_fn = self.loss_fn.to(device)
        self._images = device.type in ("cpu", "cuda") and any(
            isinstance(m, nn.Conv2d) for m in self.model.modules()
        )
        if self._images:  # about 1.3x faster on CPU (oneDNN); the layout tensor cores want
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self._prepare_training_model()
        settings = self.settings
        self.optimizer = make_optimizer(self.model.parameters(), settings.optimizer, device)
        self.schedule = LRSchedule(self.optimizer, settings.schedule, settings.epochs, len(train))
        self.autocast, self.scaler = self._precision(device)
        self.guard = DivergenceGuard()

    def teardown(self) -> None:
        if self._images:
            self.model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]

    def _prepare_training_model(self) -> None:
        """The module a batch calls: wrapped in DDP under torchrun, compiled when asked."""
        model = wrap(self.model, self.distributed) if self.distributed is not None else self.model
        self._train_model, self._eager_model = model, None
        if not self.settings.compile:
            return
        try:
            self._train_model = cast(nn.Module, torch.compile(model, backend=COMPILE_BACKEND))
            self._eager_model = model
        except Exception as error:  # torch.compile refuses this Python or platform up front
            self._note_compile_failure(error)

    def start_epoch(self, epoch: int) -> None:
        self.model.train()
        self.meter = Meter(self.trainer.device, self.task)

    def train_batch(self, batch: Any, step: int, check: bool) -> StepOutput:
        xb, yb = batch
        optimizer = self.optimizer
        assert optimizer is not None
        out, loss = self._forward(xb, yb)
        if check:
            if self.distributed is not None:
                value, stop = agree_on_step(loss, self.trainer.stop_requested)
                if stop:
                    raise StopAgreed
            else:
                value = float(loss.detach().float().item())
            reason = self.guard.check(value)
            if reason:
                raise Diverged(reason)
        optimizer.zero_grad(set_to_none=True)
        out, loss = self._backward(xb, yb, out, loss)
        clip = self.settings.grad_clip
        if clip:
            if self.scaler is not None:
                self.scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
        self.schedule.after_batch()
        self.meter.add(loss, out, yb)
        return StepOutput({"loss": loss.detach()}, len(yb))

    def end_epoch(self, epoch: int, stop_requested: bool) -> tuple[dict[str, Any], bool]:
        stop = stop_requested
        if self.distributed is not None:
            stop = combine_meter(self.meter, stop_requested)
        figures: dict[str, Any] = self.meter.figures("train")  # reads the device
        reason = self.guard.check(figures.get("train_loss", 0.0))
        if reason:
            raise Diverged(reason)
        return figures, stop

    def validate(self, val: Batches) -> dict[str, Any]:
        combine = None
        if self.distributed is not None:
            share_buffers(self.model)
            combine = functools.partial(
                combine_evaluation, device=self.trainer.device, task=self.task
            )
        evaluation = evaluate(self.model, val, self.loss_fn, self.task, self.autocast(), combine)
        self.confusion = evaluation.confusion
        if evaluation.confusion is not None:
            self.confusions[self.trainer.epoch] = evaluation.confusion
        return dict(evaluation.figures)

    def after_epoch(self, metrics: dict[str, Any]) -> None:
        assert self.optimizer is not None
        metrics["lr"] = self.optimizer.param_groups[0]["lr"]
        metrics["samples"] = self.meter.samples  # over all processes when data-parallel
        self.schedule.after_epoch(metrics.get("val_loss", metrics.get("train_loss", 0.0)))

    def finish(self, result: FitResult) -> None:
        """The confusion matrix of the kept weights' epoch, with precision and recall."""
        epoch = result.kept_epoch or (result.history[-1]["epoch"] if result.history else None)
        matrix = self.confusions.get(epoch) if epoch is not None else None
        if matrix is not None:
            result.confusion = matrix.tolist()
            result.precision, result.recall = per_class(matrix)

    def end_figures(self, result: FitResult) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        if "val_accuracy" in result.final:
            figures["val_accuracy"] = result.final["val_accuracy"]
        if result.confusion is not None:
            figures.update(
                confusion_matrix=result.confusion, precision=result.precision, recall=result.recall
            )
        return figures

    # ------------------------------------------------------- forward, backward
    def _forward(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            with self.autocast():
                out = self._train_model(xb)
                return out, self.loss_fn(out, yb)
        except Exception as error:
            if not self._fall_back_to_eager(error):
                raise
            return self._forward(xb, yb)

    def _backward(
        self, xb: torch.Tensor, yb: torch.Tensor, out: torch.Tensor, loss: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients of `loss`; if the compiled backward fails, the batch is redone eagerly."""
        scaler = self.scaler
        try:
            (scaler.scale(loss) if scaler is not None else loss).backward()
            return out, loss
        except Exception as error:
            if not self._fall_back_to_eager(error):
                raise
            assert self.optimizer is not None
            self.optimizer.zero_grad(set_to_none=True)
            out, loss = self._forward(xb, yb)
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

    def _note_compile_failure(self, error: Exception) -> None:
        lines = str(error).strip().splitlines()
        self.trainer.notes.append(
            f"torch.compile failed ({type(error).__name__}: {(lines[0] if lines else '')[:200]}); "
            "trained without compilation"
        )

    def _precision(self, device: torch.device) -> tuple[Callable[[], Any], Any]:
        """The autocast context factory and gradient scaler for mixed precision (CUDA only)."""
        if not self.settings.mixed_precision:
            return contextlib.nullcontext, None
        if device.type != "cuda":
            self.trainer.notes.append(
                "mixed precision needs a CUDA GPU; training in full precision"
            )
            return contextlib.nullcontext, None
        if torch.cuda.is_bf16_supported():
            return lambda: torch.autocast("cuda", dtype=torch.bfloat16), None
        return lambda: torch.autocast("cuda", dtype=torch.float16), torch.amp.GradScaler("cuda")
