"""Optimizers and learning-rate schedules from the project's settings.

`LRSchedule` hides which schedules step per batch (one-cycle) and which per
epoch (step, cosine, plateau), so the fit loop calls `after_batch` and
`after_epoch` and never asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from engine.settings import OptimizerSettings
from engine.settings import Schedule as ScheduleSettings


def make_optimizer(
    parameters: Iterable[nn.Parameter], settings: OptimizerSettings, device: torch.device
) -> torch.optim.Optimizer:
    """The optimizer, in its fastest implementation for the device (fused kernels where torch has them)."""
    params = [p for p in parameters if p.requires_grad]
    decay = settings.weight_decay
    fast = _fused_ok(device)
    if settings.name == "sgd":
        nesterov = settings.nesterov and settings.momentum > 0
        return torch.optim.SGD(
            params,
            lr=settings.lr,
            momentum=settings.momentum,
            nesterov=nesterov,
            weight_decay=decay,
            **fast,
        )
    if settings.name == "adam":
        return torch.optim.Adam(params, lr=settings.lr, weight_decay=decay, **fast)
    if settings.name == "adamw":
        return torch.optim.AdamW(params, lr=settings.lr, weight_decay=decay, **fast)
    if settings.name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=settings.lr, momentum=settings.momentum, weight_decay=decay
        )
    if settings.name == "adagrad":
        return torch.optim.Adagrad(params, lr=settings.lr, weight_decay=decay)
    raise ValueError(f"unknown optimizer {settings.name!r}")


def _fused_ok(device: torch.device) -> dict[str, Any]:
    # Fused Adam/AdamW/SGD exist for CPU and CUDA in torch >= 2.4: one kernel for all parameters.
    return {"fused": True} if device.type in ("cpu", "cuda") else {}


class LRSchedule:
    """A learning-rate schedule that knows when it steps."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        settings: ScheduleSettings,
        epochs: int,
        steps_per_epoch: int,
    ) -> None:
        self.name = settings.name
        self.scheduler: object | None = None
        if settings.name == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(
                optimizer, settings.step_size, settings.gamma
            )
        elif settings.name == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, epochs))
        elif settings.name == "one_cycle":
            lrs = [group["lr"] for group in optimizer.param_groups]
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=lrs, total_steps=max(1, epochs * max(1, steps_per_epoch)) + 1
            )
        elif settings.name == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=settings.gamma, patience=settings.patience
            )

    def after_batch(self) -> None:
        if self.name == "one_cycle":
            self.scheduler.step()  # type: ignore[union-attr]

    def after_epoch(self, monitored_loss: float) -> None:
        if self.name in ("step", "cosine"):
            self.scheduler.step()  # type: ignore[union-attr]
        elif self.name == "plateau":
            self.scheduler.step(monitored_loss)  # type: ignore[union-attr]
