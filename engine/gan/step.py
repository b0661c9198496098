"""The GAN's training step: a discriminator and a generator taking turns, as the recipe says.

Each batch of real samples is one discriminator step (against as many fresh
generated samples); after every ``d_steps`` discriminator steps the generator
takes one step. The two networks have their own optimizers. Everything else
(epochs, stop/pause/resume, callbacks, the weights kept after divergence) is
the one Trainer's.

Progress is comparable over time because a set of latent vectors is drawn
once from the seed: `samples()` gives the generator's output for them (the
live sample grid), refreshed at every epoch end (and every `refresh_every`
generator steps when asked). A second fixed set, larger, measures spread and
modes for the mode-collapse warnings (engine.gan.quality).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from engine.gan.lines import gan_epoch_line
from engine.gan.losses import discriminator_loss, generator_loss, gradient_penalty, score_figure
from engine.gan.quality import SampleQuality
from engine.recipes import GanRecipe
from engine.training.optim import make_optimizer
from engine.training.step import Diverged, StepOutput, TrainingStep

if TYPE_CHECKING:
    from engine.training.trainer import Batches, FitResult, Trainer

EXPLODED = 1e8  # a GAN loss this large (either sign) means the run has diverged
ASSESS_LATENTS = 1024  # the fixed latent vectors that measure spread and modes
FINAL_KEYS = ("g_loss", "d_loss", "d_real", "d_fake", "spread", "modes_covered", "modes", "on_mode")


class GanStep(TrainingStep):
    """Trains `generator` against `discriminator`; `samples()` may be read from any thread."""

    stops_early = False  # no validation data: a GAN trains its epochs (or until stopped)

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        recipe: GanRecipe,
        *,
        seed: int = 0,
        quality: SampleQuality | None = None,
        refresh_every: int = 0,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.recipe = recipe
        self.seed = seed
        self.quality = quality
        self.refresh_every = refresh_every
        self.g_optimizer: torch.optim.Optimizer | None = None
        self.d_optimizer: torch.optim.Optimizer | None = None
        self.d_updates = 0
        self.g_updates = 0
        latents = torch.Generator().manual_seed(seed)
        self.fixed_latents = torch.randn(recipe.samples, recipe.latent_size, generator=latents)
        self.assess_latents = torch.randn(ASSESS_LATENTS, recipe.latent_size, generator=latents)
        self._lock = threading.Lock()
        self._latest = self.generate(self.fixed_latents)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The generator's (the network users export)."""
        return self.g_optimizer

    def samples(self) -> torch.Tensor:
        """The generator's latest samples for the fixed latent vectors, (samples, *shape) on the
        CPU, in the space the networks see (scaled data). Safe to call from any thread."""
        with self._lock:
            return self._latest.clone()

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        """The generator's samples (eval mode) for `latents`, on the CPU. Call it from the thread
        that runs `fit`, or when no run is going; other threads read `samples()` instead."""
        was_training = self.generator.training
        device = next((p.device for p in self.generator.parameters()), torch.device("cpu"))
        self.generator.eval()
        try:
            with torch.no_grad():
                return self.generator(latents.to(device)).detach().float().cpu()
        finally:
            self.generator.train(was_training)

    # ------------------------------------------------------------------ the run
    def setup(self, trainer: Trainer, train: Batches) -> None:
        super().setup(trainer, train)
        device, recipe = trainer.device, self.recipe
        self.device = device
        self.noise = torch.Generator().manual_seed(trainer.settings.seed + 1)
        self.g_optimizer = make_optimizer(
            self.generator.parameters(), recipe.generator_optimizer, device
        )
        self.d_optimizer = make_optimizer(
            self.discriminator.parameters(), recipe.discriminator_optimizer, device
        )
        self._refresh()

    def start_epoch(self, epoch: int) -> None:
        super().start_epoch(epoch)
        zero = torch.zeros((), device=self.device)
        self.sums: dict[str, Any] = {
            "d_loss": zero.clone(),
            "g_loss": zero.clone(),
            "d_real": zero.clone(),
            "d_fake": zero.clone(),
            "d_steps": 0,
            "g_steps": 0,
        }

    def train_batch(self, batch: Any, step: int, check: bool) -> StepOutput:
        real, _ = batch
        generator, discriminator = self.generator, self.discriminator
        d_optimizer, recipe, kind, sums = self.d_optimizer, self.recipe, self.recipe.loss, self.sums
        assert d_optimizer is not None
        count = len(real)
        with torch.no_grad():
            fake = generator(self._latents(count))
        real_score, fake_score = discriminator(real), discriminator(fake)
        d_loss = discriminator_loss(kind, real_score, fake_score)
        if kind == "wgan_gp" and recipe.gp_weight > 0:
            d_loss = d_loss + recipe.gp_weight * gradient_penalty(
                discriminator, real, fake, self.noise
            )
        if check:
            _check("discriminator", d_loss)
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimizer.step()
        self.d_updates += 1
        sums["d_loss"] += d_loss.detach()
        sums["d_real"] += score_figure(kind, real_score.detach())
        sums["d_fake"] += score_figure(kind, fake_score.detach())
        sums["d_steps"] += 1
        losses = {"d_loss": d_loss.detach()}
        if self.d_updates % recipe.d_steps == 0:
            g_loss = self._generator_step(count)
            if check:
                _check("generator", g_loss)
            sums["g_loss"] += g_loss
            sums["g_steps"] += 1
            losses["g_loss"] = g_loss
        return StepOutput(losses, count)

    def _generator_step(self, count: int) -> torch.Tensor:
        generator, discriminator, optimizer = self.generator, self.discriminator, self.g_optimizer
        assert optimizer is not None
        discriminator.requires_grad_(False)  # its gradients are not needed for this step
        try:
            loss = generator_loss(self.recipe.loss, discriminator(generator(self._latents(count))))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        finally:
            discriminator.requires_grad_(True)
        self.g_updates += 1
        if self.refresh_every and self.g_updates % self.refresh_every == 0:
            self._refresh()
        return loss.detach()

    def _latents(self, count: int) -> torch.Tensor:
        # drawn on the CPU from the run's own generator, so every device sees the same numbers
        return torch.randn(count, self.recipe.latent_size, generator=self.noise).to(self.device)

    def end_epoch(self, epoch: int, stop_requested: bool) -> tuple[dict[str, Any], bool]:
        sums = self.sums
        d_steps, g_steps = max(1, sums["d_steps"]), sums["g_steps"]
        metrics: dict[str, Any] = {}
        if g_steps:
            metrics["g_loss"] = float(sums["g_loss"]) / g_steps
        metrics["d_loss"] = float(sums["d_loss"]) / d_steps
        metrics["d_real"] = float(sums["d_real"]) / d_steps
        metrics["d_fake"] = float(sums["d_fake"]) / d_steps
        metrics["d_updates"], metrics["g_updates"] = sums["d_steps"], g_steps
        for name, optimizer in (("g_lr", self.g_optimizer), ("d_lr", self.d_optimizer)):
            assert optimizer is not None
            metrics[name] = optimizer.param_groups[0]["lr"]
        losses = [metrics[k] for k in ("d_loss", "g_loss") if k in metrics]
        if not all(math.isfinite(v) for v in losses):  # on a GPU not every batch is checked
            raise Diverged(f"a loss became NaN or infinite during epoch {epoch}")
        self._refresh()
        warnings: list[str] = []
        if self.quality is not None:
            figures, warnings = self.quality.assess(self.generate(self.assess_latents))
            metrics.update(figures)
        metrics["warnings"] = warnings
        return metrics, stop_requested

    def finish(self, result: FitResult) -> None:
        self._refresh()  # the samples of the weights kept (the last good ones after divergence)

    def _refresh(self) -> None:
        latest = self.generate(self.fixed_latents)
        with self._lock:
            self._latest = latest

    # ------------------------------------------------------------- reporting
    def epoch_line(self, metrics: dict[str, Any], epochs: int | None, width: int = 0) -> str:
        return gan_epoch_line(metrics, epochs, self.recipe.loss == "non_saturating", width)

    def describe(self, name: str, where: str, info: dict[str, Any]) -> str:
        d_steps = self.recipe.d_steps
        return (
            f"training the GAN {name} on {where} ({self.recipe.loss} loss, {d_steps} "
            f"discriminator step{'s' if d_steps > 1 else ''} per generator step): "
            f"{info['train_samples']:,} real samples from {info['dataset']}, "
            f"{info['generator_parameters']:,} generator and "
            f"{info['discriminator_parameters']:,} discriminator parameters"
        )

    def start_info(self) -> dict[str, Any]:
        recipe = self.recipe
        return {
            "recipe": "gan",
            "loss": recipe.loss,
            "latent_size": recipe.latent_size,
            "d_steps": recipe.d_steps,
        }

    def result_line(self, result: FitResult) -> str:
        line = f"{result.status}: {result.message}"
        final = result.final
        if "modes_covered" in final:
            line += f"; {final['modes_covered']} of {final['modes']} modes covered"
        return line

    def divergence_advice(self) -> str:
        return (
            "Lower the learning rates (recipe.generator/discriminator.optimizer.lr, or --lr), "
            "or try the hinge or wgan_gp loss."
        )

    def end_figures(self, result: FitResult) -> dict[str, Any]:
        final = result.final
        figures = {key: final[key] for key in FINAL_KEYS if key in final}
        figures["warnings"] = final.get("warnings", [])
        return figures


def _check(network: str, loss: torch.Tensor) -> None:
    """Raise Diverged when a loss is NaN, infinite or exploded."""
    value = float(loss.detach().float().item())
    if not math.isfinite(value):
        raise Diverged(f"the {network}'s loss became {value} (NaN or infinite)")
    if abs(value) > EXPLODED:
        raise Diverged(f"the {network}'s loss exploded to {value:.4g}")
