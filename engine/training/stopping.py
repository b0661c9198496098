"""When a run should end early, and which weights it keeps.

`EarlyStopper` watches one metric with patience (and remembers the best
epoch even when early stopping is off, for the report). `DivergenceGuard`
decides that a run has diverged: a loss that is NaN or infinite, or one
that has exploded far past where it started (Adam with a huge learning rate
keeps the loss finite but astronomically large, 1e12 and more, so "finite"
alone would not notice). `Snapshot` keeps a copy of the weights on the
training device for "restore the best" and "keep the last good".
"""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.settings import EarlyStopping

EXPLOSION_FACTOR = 1e4  # a loss this many times the starting loss means the run has diverged
LOSS_FLOOR = 1e-3  # starting losses below this count as this (a near-perfect start is no yardstick)


class Snapshot:
    """A copy of a module's state on its own device, refreshed in place (no new memory after the first)."""

    def __init__(self) -> None:
        self.state: dict[str, torch.Tensor] | None = None
        self.epoch: int | None = None

    def take(self, module: nn.Module, epoch: int | None = None) -> None:
        with torch.no_grad():
            current = module.state_dict()
            if self.state is None:
                self.state = {k: v.detach().clone() for k, v in current.items()}
            else:
                for key, value in current.items():
                    self.state[key].copy_(value)
        self.epoch = epoch

    def restore(self, module: nn.Module) -> None:
        if self.state is not None:
            module.load_state_dict(self.state)


class EarlyStopper:
    """Tracks the monitored metric; `should_stop` turns true after `patience` epochs without improvement."""

    def __init__(self, settings: EarlyStopping | None, has_validation: bool) -> None:
        self.enabled = settings is not None
        settings = settings or EarlyStopping()
        metric = settings.metric
        self.note = ""
        if metric.startswith("val_") and not has_validation:
            self.note = (
                f"no validation data, so early stopping watches train_loss instead of {metric}"
            )
            metric = "train_loss"
        self.metric = metric
        self.higher_is_better = metric.endswith("accuracy")
        self.patience = settings.patience
        self.min_delta = settings.min_delta
        self.restore_best = self.enabled and settings.restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.waited = 0

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Record an epoch's figures; True when it is the best so far."""
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            self.waited += 1
            return False
        better = (
            self.best is None
            or (self.higher_is_better and value > self.best + self.min_delta)
            or (not self.higher_is_better and value < self.best - self.min_delta)
        )
        if better:
            self.best, self.best_epoch, self.waited = value, epoch, 0
        else:
            self.waited += 1
        return better

    @property
    def should_stop(self) -> bool:
        return self.enabled and self.waited >= self.patience


class DivergenceGuard:
    """Says why a loss means the run has diverged, or None while it is fine."""

    def __init__(self) -> None:
        self.reference: float | None = None

    def check(self, loss: float) -> str | None:
        if not math.isfinite(loss):
            return f"the loss became {loss} (NaN or infinite)"
        if self.reference is None:
            self.reference = max(loss, LOSS_FLOOR)
            return None
        if loss > EXPLOSION_FACTOR * self.reference:
            return f"the loss exploded from {self.reference:.4g} to {loss:.4g}"
        return None
