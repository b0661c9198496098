"""The adversarial fit loop: a discriminator and a generator taking turns, as the recipe says.

Each batch of real samples is one discriminator step (against as many fresh
generated samples); after every ``d_steps`` discriminator steps the generator
takes one step. The two networks have their own optimizers. The control
surface is the single-network Trainer's: `stop()`, `pause()` and `resume()`
from any thread, honoured before the next batch; the same callbacks
(`on_fit_start`, `on_epoch_start`, `on_batch_end`, `on_epoch_end`,
`on_fit_end`) with the GAN trainer in place of the Trainer, and a FitResult
whose status is completed, stopped or diverged.

Progress is comparable over time because a set of latent vectors is drawn
once from the seed: `samples()` gives the generator's output for them (the
live sample grid), refreshed at every epoch end (and every `refresh_every`
generator steps when asked). A second fixed set, larger, measures spread and
modes for the mode-collapse warnings (engine.gan.quality).

After `fit` both networks hold the weights worth keeping: the last ones
(whole, even when stopped mid-epoch), or the last good epoch's after divergence.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from engine.gan.losses import discriminator_loss, generator_loss, gradient_penalty, score_figure
from engine.gan.quality import SampleQuality
from engine.recipes import GanRecipe
from engine.settings import TrainingSettings
from engine.training.callbacks import BatchEnd, Callback, overrides
from engine.training.control import RunControl
from engine.training.devices import choose_threads, select_device
from engine.training.optim import make_optimizer
from engine.training.stopping import Snapshot
from engine.training.trainer import COMPLETED, DIVERGED, STOPPED, Batches, FitResult

EXPLODED = 1e8  # a GAN loss this large (either sign) means the run has diverged
ASSESS_LATENTS = 1024  # the fixed latent vectors that measure spread and modes
ACCELERATOR_CHECK_EVERY = 25  # batches between divergence checks on a GPU (each is a sync)


@dataclass(frozen=True)
class GanBatchEnd(BatchEnd):
    """One finished discriminator step; `loss` is the discriminator's loss, `g_loss` the
    generator's when it stepped after this batch (else None). Both stay on the device."""

    g_loss: torch.Tensor | None = None


class GanTrainer(RunControl):
    """Trains a generator and a discriminator together; create a new one for each run."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        recipe: GanRecipe,
        settings: TrainingSettings,
        *,
        callbacks: Sequence[Callback] = (),
        device: torch.device | str | None = None,
        threads: int | None = None,
        quality: SampleQuality | None = None,
        macs_per_sample: int = 0,
        reserve_core_for_ui: bool = False,
        refresh_every: int = 0,
    ) -> None:
        self.recipe = recipe
        self.settings = settings
        self.device = torch.device(device) if device is not None else select_device(settings.device)
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.model = self.generator  # the network users export, for callbacks that look here
        self.callbacks = list(callbacks)
        self.threads = threads or choose_threads(
            macs_per_sample * settings.batch_size, reserve_core_for_ui
        )
        self.quality = quality
        self.refresh_every = refresh_every
        self.g_optimizer: torch.optim.Optimizer | None = None
        self.d_optimizer: torch.optim.Optimizer | None = None
        self.history: list[dict[str, Any]] = []
        self.epoch = 0
        self.global_step = 0
        self.d_updates = 0
        self.g_updates = 0
        self.notes: list[str] = []
        latents = torch.Generator().manual_seed(settings.seed)
        self.fixed_latents = torch.randn(recipe.samples, recipe.latent_size, generator=latents)
        self.assess_latents = torch.randn(ASSESS_LATENTS, recipe.latent_size, generator=latents)
        self._lock = threading.Lock()
        self._latest = self.generate(self.fixed_latents)
        RunControl.__init__(self)

    @property
    def world_size(self) -> int:
        """Processes training together: a GAN trains in one process."""
        return 1

    def samples(self) -> torch.Tensor:
        """The generator's latest samples for the fixed latent vectors, (samples, *shape) on the CPU,
        in the space the networks see (scaled data). Safe to call from any thread."""
        with self._lock:
            return self._latest.clone()

    # --- the run ------------------------------------------------------------------------------
    def fit(self, train: Batches) -> FitResult:
        previous_threads = torch.get_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        try:
            return self._fit(train)
        finally:
            torch.set_num_threads(previous_threads)

    def _fit(self, train: Batches) -> FitResult:
        started = time.perf_counter()
        settings, recipe = self.settings, self.recipe
        torch.manual_seed(settings.seed)
        noise = torch.Generator().manual_seed(settings.seed + 1)
        self.g_optimizer = make_optimizer(
            self.generator.parameters(), recipe.generator_optimizer, self.device
        )
        self.d_optimizer = make_optimizer(
            self.discriminator.parameters(), recipe.discriminator_optimizer, self.device
        )
        good_g, good_d = Snapshot(), Snapshot()
        good_g.take(self.generator, 0)
        good_d.take(self.discriminator, 0)
        self._refresh()
        self._call("on_fit_start", self)
        status, message = COMPLETED, f"trained all {settings.epochs} epochs"
        for epoch in range(1, settings.epochs + 1):
            self.epoch = epoch
            self._call("on_epoch_start", self, epoch)
            epoch_start = time.perf_counter()
            sums, outcome, reason = self._train_epoch(train, epoch, noise)
            if outcome != COMPLETED:
                status = outcome
                message = reason or f"stopped by request during epoch {epoch}"
                break
            train_seconds = time.perf_counter() - epoch_start
            metrics = self._epoch_figures(epoch, sums)
            losses = [metrics[k] for k in ("d_loss", "g_loss") if k in metrics]
            if not all(math.isfinite(v) for v in losses):  # on a GPU not every batch is checked
                status, message = DIVERGED, f"a loss became NaN or infinite during epoch {epoch}"
                break
            metrics["samples_per_s"] = sums["samples"] / max(train_seconds, 1e-9)
            metrics["seconds"] = time.perf_counter() - epoch_start
            good_g.take(self.generator, epoch)
            good_d.take(self.discriminator, epoch)
            self.history.append(metrics)
            self._call("on_epoch_end", self, epoch, metrics)
            if self._stop.is_set():
                status, message = STOPPED, f"stopped by request after epoch {epoch}"
                break
        if status == DIVERGED:
            good_g.restore(self.generator)
            good_d.restore(self.discriminator)
            self._refresh()
        result = FitResult(
            status,
            len(self.history),
            self.history,
            None,
            "g_loss",
            None,
            time.perf_counter() - started,
            message,
            notes=self.notes,
        )
        self._call("on_fit_end", self, result)
        return result

    def _train_epoch(
        self, train: Batches, epoch: int, noise: torch.Generator
    ) -> tuple[dict[str, Any], str, str | None]:
        generator, discriminator = self.generator, self.discriminator
        d_optimizer, g_optimizer = self.d_optimizer, self.g_optimizer
        assert d_optimizer is not None and g_optimizer is not None
        kind, recipe = self.recipe.loss, self.recipe
        generator.train()
        discriminator.train()
        zero = torch.zeros((), device=self.device)
        sums: dict[str, Any] = {
            "d_loss": zero.clone(),
            "g_loss": zero.clone(),
            "d_real": zero.clone(),
            "d_fake": zero.clone(),
            "d_steps": 0,
            "g_steps": 0,
            "samples": 0,
        }
        check_every = 1 if self.device.type == "cpu" else ACCELERATOR_CHECK_EVERY
        batch_hooks = [c for c in self.callbacks if overrides(c, "on_batch_end")]
        for step, (real, _) in enumerate(train.epoch(epoch)):
            if not self._running.is_set():
                self._running.wait()
            if self._stop.is_set():
                return sums, STOPPED, None
            count = len(real)
            with torch.no_grad():
                fake = generator(self._latents(count, noise))
            real_score, fake_score = discriminator(real), discriminator(fake)
            d_loss = discriminator_loss(kind, real_score, fake_score)
            if kind == "wgan_gp" and recipe.gp_weight > 0:
                d_loss = d_loss + recipe.gp_weight * gradient_penalty(
                    discriminator, real, fake, noise
                )
            if step % check_every == 0 and (reason := _diverged("discriminator", d_loss)):
                return sums, DIVERGED, reason
            d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimizer.step()
            self.d_updates += 1
            sums["d_loss"] += d_loss.detach()
            sums["d_real"] += score_figure(kind, real_score.detach())
            sums["d_fake"] += score_figure(kind, fake_score.detach())
            sums["d_steps"] += 1
            sums["samples"] += count
            g_loss = None
            if self.d_updates % recipe.d_steps == 0:
                g_loss = self._generator_step(count, noise)
                if step % check_every == 0 and (reason := _diverged("generator", g_loss)):
                    return sums, DIVERGED, reason
                sums["g_loss"] += g_loss
                sums["g_steps"] += 1
            if batch_hooks:
                info = GanBatchEnd(
                    epoch, step, self.global_step, count, d_loss.detach(), g_loss=g_loss
                )
                for callback in batch_hooks:
                    callback.on_batch_end(self, info)  # type: ignore[arg-type]
            self.global_step += 1
        return sums, COMPLETED, None

    def _generator_step(self, count: int, noise: torch.Generator) -> torch.Tensor:
        generator, discriminator, optimizer = self.generator, self.discriminator, self.g_optimizer
        assert optimizer is not None
        discriminator.requires_grad_(False)  # its gradients are not needed for this step
        try:
            loss = generator_loss(
                self.recipe.loss, discriminator(generator(self._latents(count, noise)))
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        finally:
            discriminator.requires_grad_(True)
        self.g_updates += 1
        if self.refresh_every and self.g_updates % self.refresh_every == 0:
            self._refresh()
        return loss.detach()

    def _latents(self, count: int, noise: torch.Generator) -> torch.Tensor:
        # drawn on the CPU from the run's own generator, so every device sees the same numbers
        return torch.randn(count, self.recipe.latent_size, generator=noise).to(self.device)

    def _epoch_figures(self, epoch: int, sums: dict[str, Any]) -> dict[str, Any]:
        d_steps, g_steps = max(1, sums["d_steps"]), sums["g_steps"]
        metrics: dict[str, Any] = {"epoch": epoch}
        if g_steps:
            metrics["g_loss"] = float(sums["g_loss"]) / g_steps
        metrics["d_loss"] = float(sums["d_loss"]) / d_steps
        metrics["d_real"] = float(sums["d_real"]) / d_steps
        metrics["d_fake"] = float(sums["d_fake"]) / d_steps
        metrics["d_updates"], metrics["g_updates"] = sums["d_steps"], g_steps
        for name in ("g_lr", "d_lr"):
            optimizer = self.g_optimizer if name == "g_lr" else self.d_optimizer
            assert optimizer is not None
            metrics[name] = optimizer.param_groups[0]["lr"]
        self._refresh()
        warnings: list[str] = []
        if self.quality is not None:
            figures, warnings = self.quality.assess(self.generate(self.assess_latents))
            metrics.update(figures)
        metrics["warnings"] = warnings
        return metrics

    def _refresh(self) -> None:
        latest = self.generate(self.fixed_latents)
        with self._lock:
            self._latest = latest

    def generate(self, latents: torch.Tensor) -> torch.Tensor:
        """The generator's samples (eval mode) for `latents`, on the CPU. Call it from the thread
        that runs `fit`, or when no run is going; other threads read `samples()` instead."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            with torch.no_grad():
                return self.generator(latents.to(self.device)).detach().float().cpu()
        finally:
            self.generator.train(was_training)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)


def _diverged(network: str, loss: torch.Tensor) -> str | None:
    """Why a loss means the run has diverged (NaN, infinite or exploded), or None."""
    value = float(loss.detach().float().item())
    if not math.isfinite(value):
        return f"the {network}'s loss became {value} (NaN or infinite)"
    if abs(value) > EXPLODED:
        return f"the {network}'s loss exploded to {value:.4g}"
    return None
