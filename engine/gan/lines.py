"""A GAN's epoch in one line of text: the terminal's, the training log's and the GAN page's.

Kept apart from the step (and torch) so the window can draw it before torch is loaded.
"""

from __future__ import annotations

from typing import Any


def gan_epoch_line(
    metrics: dict[str, Any], epochs: int | None, probability: bool, width: int = 0
) -> str:
    """'epoch 3/300  d_loss 1.21  g_loss 0.93  D(real) 0.61  D(fake) 0.40  spread 0.95 …': the
    terminal's and the training log's line. D(x) is a probability under the non-saturating loss,
    an unbounded score under hinge and WGAN-GP (printed with its sign)."""
    parts = [f"epoch {metrics['epoch']:>{width}}" + (f"/{epochs}" if epochs else "")]
    for key in ("d_loss", "g_loss"):
        if metrics.get(key) is not None:
            parts.append(f"{key} {metrics[key]:.4f}")
    for key, label in (("d_real", "D(real)"), ("d_fake", "D(fake)")):
        if metrics.get(key) is not None:
            parts.append(
                f"{label} {metrics[key]:.3f}" if probability else f"{label} {metrics[key]:+.3f}"
            )
    if "modes_covered" in metrics:
        parts.append(f"modes {metrics['modes_covered']}/{metrics['modes']}")
    if "spread" in metrics:
        parts.append(f"spread {metrics['spread']:.2f}")
    if "samples_per_s" in metrics:
        parts.append(f"{metrics['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)
