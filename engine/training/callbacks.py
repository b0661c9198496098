"""Hooks into a training run, named the way Lightning names them.

Subclass `Callback` and override the hooks you need; the Trainer calls them
on the thread that runs `fit`. Hooks get the trainer (its `model`,
`optimizer`, `settings`, `history`, `device`) and must be quick: a GUI
callback appends figures to a buffer and returns. To end a run from a hook
call `trainer.stop()`.

`on_batch_end` receives the batch loss as a tensor still on the device;
reading it (`batch.loss_value()`) forces a device sync, so do it only when
you need the number (every N steps, say), never on every batch on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from engine.training.trainer import FitResult, Trainer


@dataclass(frozen=True)
class BatchEnd:
    """One finished optimisation step."""

    epoch: int  # 1-based
    step: int  # 0-based within the epoch
    global_step: int  # 0-based since the run started
    samples: int  # samples in this batch
    loss: torch.Tensor  # the main loss: 0-d, detached, on the training device
    losses: dict[str, torch.Tensor] = field(
        default_factory=dict
    )  # every loss the step took, by name

    def loss_value(self) -> float:
        """The batch loss as a number (syncs with the device)."""
        return float(self.loss.item())

    def value(self, name: str) -> float | None:
        """One named loss as a number (syncs), or None when this batch had none (a GAN's
        generator steps only every few batches)."""
        loss = self.losses.get(name)
        return None if loss is None else float(loss.item())


class Callback:
    """Base class: every hook does nothing."""

    def on_fit_start(self, trainer: Trainer) -> None: ...

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None: ...

    def on_validation_end(self, trainer: Trainer, epoch: int, metrics: dict[str, float]) -> None:
        """After validation, before early stopping decides; `trainer.confusion` holds the matrix."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        """After each complete epoch with its figures (`metrics` is also `trainer.history[-1]`)."""

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None: ...


def overrides(callback: Callback, hook: str) -> bool:
    """Whether `callback` implements `hook` (so the loop can skip no-op per-batch calls)."""
    return getattr(type(callback), hook) is not getattr(Callback, hook)
