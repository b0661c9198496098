"""How good and how varied a generator's samples are: the figures behind the mode-collapse warnings.

Two measures, each where it can be measured:

- Spread, for any data: how much the generated samples differ from each other
  compared with how much real samples do (the root of the summed per-value
  variances, so 1.0 means "as varied as the data"). A collapsed generator
  makes nearly the same sample for every latent vector and its spread falls
  far below the data's.
- Modes covered, for data whose modes are known (the bundled ``ring``): how
  many of the Gaussians get a fair share of the samples, and what fraction of
  samples lands on any mode at all ("on a mode": within 3 standard deviations
  of its centre). Covering 3 of 8 modes with most samples on a mode is the
  textbook picture of mode collapse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

COLLAPSE_SPREAD = 0.25  # generated spread below this fraction of the data's: a collapse warning
FAIR_SHARE = 0.25  # a mode counts as covered with at least this fraction of its fair share
ON_MODE_FOR_WARNING = 0.5  # judge coverage only once this fraction of samples lies on modes


def spread(samples: torch.Tensor) -> float:
    """sqrt(sum of per-value variances) over a batch of samples (N, ...)."""
    flat = samples.detach().reshape(len(samples), -1).double()
    if len(flat) < 2:
        return 0.0
    return float(flat.var(dim=0, unbiased=False).sum().sqrt())


@dataclass(frozen=True)
class Modes:
    """Known modes of 2-D data, in the space the networks see (after scaling)."""

    centres: np.ndarray  # (k, 2)
    radius: float  # a sample within this distance of a centre lies on that mode

    def coverage(self, samples: torch.Tensor) -> tuple[int, float]:
        """(modes covered, fraction of samples on some mode) for 2-D samples (N, 2)."""
        points = samples.detach().reshape(len(samples), -1).double().cpu().numpy()
        distances = np.linalg.norm(points[:, None, :] - self.centres[None, :, :], axis=2)
        nearest = distances.argmin(axis=1)
        on_mode = distances[np.arange(len(points)), nearest] <= self.radius
        counts = np.bincount(nearest[on_mode], minlength=len(self.centres))
        fair = len(points) / len(self.centres)
        covered = int((counts >= max(1.0, FAIR_SHARE * fair)).sum())
        return covered, float(on_mode.mean()) if len(points) else 0.0


class SampleQuality:
    """Figures and warnings for one epoch's generated samples, against the real data."""

    def __init__(self, real: torch.Tensor, modes: Modes | None = None) -> None:
        self.real_spread = spread(real)
        self.modes = modes

    def assess(self, generated: torch.Tensor) -> tuple[dict[str, Any], list[str]]:
        figures: dict[str, Any] = {}
        warnings: list[str] = []
        ratio = spread(generated) / self.real_spread if self.real_spread > 0 else 1.0
        figures["spread"] = round(ratio, 4)
        if ratio < COLLAPSE_SPREAD:
            warnings.append(
                f"mode collapse: the generated samples vary {1 / max(ratio, 1e-9):.0f}x less than "
                "the real data (nearly the same sample for every latent vector); try the hinge or "
                "wgan_gp loss, a lower generator learning rate or more d_steps"
            )
        if self.modes is not None:
            covered, on_mode = self.modes.coverage(generated)
            total = len(self.modes.centres)
            figures["modes_covered"] = covered
            figures["modes"] = total
            figures["on_mode"] = round(on_mode, 4)
            if on_mode >= ON_MODE_FOR_WARNING and covered < total:
                warnings.append(
                    f"mode collapse: the generator covers only {covered} of the {total} modes"
                )
        return figures, warnings
