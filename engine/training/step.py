"""What one kind of training does, plugged into the one Trainer (Lightning's `training_step`).

The Trainer owns everything every run shares: epochs and batches, the device
and its threads, stop/pause/resume, callbacks, early stopping, the weights
kept (best, last good), divergence's bookkeeping and the result. A step owns
what differs between objectives: which networks learn, their optimizers, what
one batch does, what an epoch's figures are and whether a loss has gone bad.
A classifier is `SupervisedStep`; a GAN is `engine.gan.step.GanStep`; a new
objective is a new step, never a second trainer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from engine.training.trainer import Batches, FitResult, Trainer


class Diverged(Exception):
    """The run has diverged; the message says how (raised by a step, handled by the Trainer)."""


class StopAgreed(Exception):
    """Every process agreed to stop now (data-parallel runs stop at the same step)."""


@dataclass(frozen=True)
class StepOutput:
    """What one batch did: its losses (0-d, detached, still on the device) and its size."""

    losses: dict[str, torch.Tensor]  # the first is the run's main loss ("loss", "d_loss")
    samples: int

    @property
    def loss(self) -> torch.Tensor:
        return next(iter(self.losses.values()))


class TrainingStep:
    """The base: override what your objective needs. Methods run on the training thread."""

    stops_early = True  # early stopping and "restore the best" apply (a GAN has no validation)
    trainer: Trainer

    def networks(self) -> dict[str, nn.Module]:
        """The networks that learn, by name; their weights are what a run keeps and saves."""
        raise NotImplementedError

    def setup(self, trainer: Trainer, train: Batches) -> None:
        """Before the first epoch, on the training device: make optimizers and schedules."""
        self.trainer = trainer

    def stops_locally(self) -> bool:
        """Whether a stop request may end the run at the next batch (not under torchrun, where
        every process stops at a step they agree on)."""
        return True

    def start_epoch(self, epoch: int) -> None:
        for network in self.networks().values():
            network.train()

    def train_batch(self, batch: Any, step: int, check: bool) -> StepOutput:
        """Learn from one batch. With `check`, look at the loss (a device read) and raise
        `Diverged` when it has gone bad, before the weights take the step."""
        raise NotImplementedError

    def end_epoch(self, epoch: int, stop_requested: bool) -> tuple[dict[str, Any], bool]:
        """The epoch's training figures (read from the device once) and whether to stop now;
        raise `Diverged` when they show the run has diverged."""
        raise NotImplementedError

    def validate(self, val: Batches) -> dict[str, Any]:
        """Figures on the validation batches (`val_loss`, ...); {} when the step has none."""
        return {}

    def after_epoch(self, metrics: dict[str, Any]) -> None:
        """The epoch's figures are complete (schedules step here)."""

    def finish(self, result: FitResult) -> None:
        """The run is over and the kept weights are in place."""

    def teardown(self) -> None:
        """After the run, whatever happened (memory layouts back, for example)."""

    # ------------------------------------------------------------ reporting
    def epoch_line(self, metrics: dict[str, Any], epochs: int | None, width: int = 0) -> str:
        """The terminal's and the training log's line for an epoch."""
        from engine.training.status import epoch_line

        return epoch_line(metrics, epochs, width)

    def describe(self, name: str, where: str, info: dict[str, Any]) -> str:
        """The line that opens a run in the terminal: what trains, where, on what."""
        return (
            f"training {name} on {where}: {info['train_samples']:,} training and "
            f"{info['val_samples']:,} validation samples from {info['dataset']}, "
            f"{info['parameters']:,} parameters"
        )

    def start_info(self) -> dict[str, Any]:
        """What the metrics stream's start event adds for this objective."""
        return {}

    def result_line(self, result: FitResult) -> str:
        """How the run ended, in one line for the terminal."""
        line = f"{result.status}: {result.message}"
        if result.best_epoch is not None and result.best_value is not None:
            line += (
                f"; best {result.best_metric} {result.best_value:.4f} at epoch {result.best_epoch}"
            )
        if "val_accuracy" in result.final:
            line += f"; validation accuracy {result.final['val_accuracy']:.2%}"
        return line

    def divergence_advice(self) -> str:
        """What to change after this kind of run diverged."""
        return "Lower the learning rate (--lr) or add gradient clipping (training.grad_clip)."

    def warnings(self, metrics: dict[str, Any]) -> list[str]:
        """Sentences worth printing under an epoch's line (a GAN's mode collapse)."""
        return list(metrics.get("warnings", []))

    def end_figures(self, result: FitResult) -> dict[str, Any]:
        """What the metrics stream's end event adds for this objective."""
        return {}


def parameter_count(networks: Iterable[nn.Module]) -> int:
    return sum(p.numel() for network in networks for p in network.parameters())
