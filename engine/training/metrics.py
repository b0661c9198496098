"""Figures of a run, accumulated on the training device and read back once per epoch.

Reading a number from a GPU waits for all queued work, so the fit loop never
reads per batch: sums stay on the device (`Meter`) and `evaluate` returns the
validation figures with a single transfer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

CLASSIFICATION = "classification"  # cross-entropy over class scores
BINARY = "binary"  # BCE with logits on 0/1 targets
REGRESSION = "regression"
NEXT_TOKEN = "next_token"  # a language model: a class (the next token) at every position


def task_for(loss: str, classification: bool) -> str:
    if loss == NEXT_TOKEN:
        return NEXT_TOKEN
    if classification:
        return CLASSIFICATION
    return BINARY if loss == "bce_with_logits" else REGRESSION


class Meter:
    """Running loss and correct-prediction sums of one epoch, kept on the device.

    For a language model the accuracy is over tokens: every window has the same number of
    positions, so correct tokens / (samples x positions)."""

    def __init__(self, device: torch.device, task: str) -> None:
        self.task = task
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), device=device, dtype=torch.int64)
        self.samples = 0
        self.positions = 1

    def add(self, loss: torch.Tensor, output: torch.Tensor, target: torch.Tensor) -> None:
        count = len(target)
        self.loss_sum += loss.detach().float() * count
        self.samples += count
        if self.task == NEXT_TOKEN:
            self.positions = int(target[0].numel()) if count else 1
        if self.task != REGRESSION:
            self.correct += correct_count(output.detach(), target, self.task)

    def figures(self, prefix: str) -> dict[str, float]:
        """The epoch's mean loss (and accuracy; a language model's perplexity): one device read."""
        if self.samples == 0:
            return {}
        values = torch.stack([self.loss_sum.double(), self.correct.double()]).cpu().tolist()
        result = {f"{prefix}_loss": values[0] / self.samples}
        if self.task != REGRESSION:
            result[f"{prefix}_accuracy"] = values[1] / (self.samples * self.positions)
        if self.task == NEXT_TOKEN:
            result[f"{prefix}_perplexity"] = perplexity(result[f"{prefix}_loss"])
        return result


def perplexity(loss: float) -> float:
    """exp(mean cross-entropy per token): as if choosing among that many tokens at random."""
    return math.exp(min(loss, 700.0))


def correct_count(output: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """Correct predictions in a batch: the top class (at every position, for a language
    model), or every 0/1 output on the right side of 0."""
    if task == NEXT_TOKEN:
        return (output.argmax(dim=-1) == target).sum()
    if task == CLASSIFICATION:
        return (output.argmax(dim=1) == target).sum()
    hits = (output > 0) == (target > 0.5)
    return hits.reshape(len(hits), -1).all(dim=1).sum()


@dataclass
class Evaluation:
    figures: dict[str, float]
    confusion: np.ndarray | None  # rows: true class, columns: predicted class


def evaluate(
    model: nn.Module,
    batches: object,
    loss_fn: nn.Module,
    task: str,
    autocast: object,
    combine: Callable[[Meter | None, torch.Tensor | None], tuple[Meter, torch.Tensor | None]]
    | None = None,
) -> Evaluation:
    """Validation loss, accuracy and confusion matrix over `batches`, the module in eval mode.

    `combine` (data-parallel runs) turns this process's sums into those of all processes."""
    was_training = model.training
    model.eval()
    meter: Meter | None = None
    confusion: torch.Tensor | None = None
    try:
        with torch.inference_mode():
            for xb, yb in batches.epoch(0):  # type: ignore[attr-defined]
                with autocast:  # type: ignore[attr-defined]
                    out = model(xb)
                    loss = loss_fn(out, yb)
                if meter is None:
                    meter = Meter(xb.device, task)
                meter.add(loss, out, yb)
                if task == CLASSIFICATION:
                    classes = out.shape[1]
                    counts = torch.bincount(
                        yb * classes + out.argmax(dim=1), minlength=classes * classes
                    )
                    counts = counts.reshape(classes, classes)
                    confusion = counts if confusion is None else confusion + counts
    finally:
        model.train(was_training)
    if combine is not None:
        meter, confusion = combine(meter, confusion)
    if meter is None:
        return Evaluation({}, None)
    return Evaluation(meter.figures("val"), None if confusion is None else confusion.cpu().numpy())


def per_class(confusion: np.ndarray) -> tuple[list[float], list[float]]:
    """Precision and recall of each class from a confusion matrix (0 where undefined)."""
    true_pos = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = np.divide(true_pos, predicted, out=np.zeros_like(true_pos), where=predicted > 0)
    recall = np.divide(true_pos, actual, out=np.zeros_like(true_pos), where=actual > 0)
    return [round(float(v), 6) for v in precision], [round(float(v), 6) for v in recall]
