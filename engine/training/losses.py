"""The losses a project can name, as torch modules (mean over the batch)."""

from __future__ import annotations

import torch
from torch import nn


class NextTokenLoss(nn.CrossEntropyLoss):
    """Cross-entropy of every position's prediction of the token that follows: scores
    (batch, steps, vocabulary) against token ids (batch, steps), averaged over all tokens."""

    def forward(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return super().forward(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))


def make_loss(name: str) -> nn.Module:
    losses: dict[str, type[nn.Module]] = {
        "cross_entropy": nn.CrossEntropyLoss,
        "bce_with_logits": nn.BCEWithLogitsLoss,
        "mse": nn.MSELoss,
        "l1": nn.L1Loss,
        "huber": nn.HuberLoss,
        "next_token": NextTokenLoss,
    }
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; use one of {', '.join(losses)}")
    return losses[name]()
