"""The three GAN losses a recipe can choose, each as a discriminator side and a generator side.

The discriminator gives one raw score per sample (no Sigmoid at its end):

- ``non_saturating``: the original GAN's discriminator loss (binary cross-entropy,
  real = 1, fake = 0) with the generator maximising log D(G(z)) instead of
  minimising log(1 - D(G(z))), which would give it no gradient early on.
- ``hinge``: a margin loss for the discriminator, -D(G(z)) for the generator
  (SAGAN, BigGAN); steadier than cross-entropy.
- ``wgan_gp``: the Wasserstein critic with a gradient penalty that keeps its
  gradient norm near 1 on points between real and fake samples.

``d_real`` and ``d_fake`` are what the dashboard plots: the probability the
discriminator gives real and generated samples for ``non_saturating`` (it is
a classifier there), the raw score for the other two.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def discriminator_loss(
    kind: str, real_score: torch.Tensor, fake_score: torch.Tensor
) -> torch.Tensor:
    """The discriminator's loss on a batch of real and a batch of generated samples (scores (N, 1))."""
    if kind == "non_saturating":
        return F.softplus(-real_score).mean() + F.softplus(fake_score).mean()
    if kind == "hinge":
        return F.relu(1.0 - real_score).mean() + F.relu(1.0 + fake_score).mean()
    if kind == "wgan_gp":
        return fake_score.mean() - real_score.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def generator_loss(kind: str, fake_score: torch.Tensor) -> torch.Tensor:
    """The generator's loss from the discriminator's scores of its samples."""
    if kind == "non_saturating":
        return F.softplus(-fake_score).mean()
    if kind in ("hinge", "wgan_gp"):
        return -fake_score.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def gradient_penalty(
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP: mean (|grad D(x)| - 1)^2 at random points x between real and fake samples."""
    shape = (len(real),) + (1,) * (real.dim() - 1)
    mix = torch.rand(shape, generator=generator, device="cpu").to(real.device)
    between = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
    score = discriminator(between)
    (grad,) = torch.autograd.grad(score.sum(), between, create_graph=True)
    norms = grad.reshape(len(grad), -1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


def score_figure(kind: str, score: torch.Tensor) -> torch.Tensor:
    """The mean the dashboard shows for D(x): a probability for non_saturating, else the raw score."""
    if kind == "non_saturating":
        return torch.sigmoid(score).mean()
    return score.mean()
