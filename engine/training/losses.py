"""The losses a project can name, as torch modules (mean over the batch)."""

from __future__ import annotations

from torch import nn


def make_loss(name: str) -> nn.Module:
    losses = {
        "cross_entropy": nn.CrossEntropyLoss,
        "bce_with_logits": nn.BCEWithLogitsLoss,
        "mse": nn.MSELoss,
        "l1": nn.L1Loss,
        "huber": nn.HuberLoss,
    }
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; use one of {', '.join(losses)}")
    return losses[name]()
