"""How a run ends, in the metrics stream's words (CONTRACT.md), and its epoch in one line.

Kept apart from the trainer (and torch) so the window can show them before torch is loaded.
"""

from __future__ import annotations

from typing import Any

COMPLETED, EARLY_STOPPED, STOPPED, DIVERGED = "completed", "early_stopped", "stopped", "diverged"
STATUSES = (COMPLETED, EARLY_STOPPED, STOPPED, DIVERGED)


def epoch_line(metrics: dict[str, Any], epochs: int | None = None, width: int = 0) -> str:
    """'epoch 3/15  train_loss 0.4210  val_loss 0.3902 …  9,120 samples/s': the terminal's and
    the training log's line for an epoch (`width` pads the epoch number to line them up)."""
    parts = [f"epoch {metrics['epoch']:>{width}}" + (f"/{epochs}" if epochs else "")]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        if metrics.get(key) is not None:
            parts.append(f"{key} {metrics[key]:.4f}")
    if metrics.get("val_perplexity") is not None:  # a language model's
        parts.append(f"val_perplexity {metrics['val_perplexity']:.2f}")
    if "tokens_per_s" in metrics:
        parts.append(f"{metrics['tokens_per_s']:,.0f} tokens/s")
    elif "samples_per_s" in metrics:
        parts.append(f"{metrics['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)
