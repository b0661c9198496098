"""The GAN recipe's training loop on tiny data: steps, losses, control, divergence, determinism."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pytest
import torch

from engine.compiler import compile_graph
from engine.data.batches import InMemoryBatches
from engine.data.synthetic import RING_STD, ring, ring_centres
from engine.gan import GanStep, Modes, SampleQuality
from engine.project import project_from_json
from engine.recipes import GAN_LOSSES, GanRecipe
from engine.settings import TrainingSettings
from engine.training import Trainer
from engine.training.callbacks import Callback
from tests.engine.test_multi_network import gan

LATENT = 8


def tiny(loss: str = "non_saturating", d_steps: int = 1, epochs: int = 2, seed: int = 0, **kw: Any):
    """The one Trainer with a tiny GAN step on 64 ring points in batches of 8 (8 batches per epoch)."""
    project = project_from_json(gan(recipe={"kind": "gan", "latent_size": LATENT}))
    generator = compile_graph(project.networks["generator"], seed)
    discriminator = compile_graph(project.networks["discriminator"], seed + 1)
    recipe = GanRecipe(latent_size=LATENT, loss=loss, d_steps=d_steps, samples=16)
    settings = TrainingSettings(epochs=epochs, batch_size=8, seed=seed, device="cpu")
    x = torch.from_numpy(ring(64, seed=3)[0] / 2)
    batches = InMemoryBatches(x, torch.zeros(64, dtype=torch.int64), 8, seed=seed)
    callbacks = kw.pop("callbacks", ())
    step = GanStep(generator, discriminator, recipe, seed=seed, **kw)
    trainer = Trainer(step, settings, callbacks=callbacks, device="cpu", threads=1)
    return trainer, batches


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_discriminator_and_generator_take_turns_as_d_steps_says_and_both_learn() -> None:
    trainer, batches = tiny(d_steps=2, epochs=1)
    g_before, d_before = weights(trainer.step.generator), weights(trainer.step.discriminator)
    result = trainer.fit(batches)
    assert result.status == "completed"
    assert trainer.step.d_updates == 8 and trainer.step.g_updates == 4
    epoch = result.history[0]
    assert epoch["d_updates"] == 8 and epoch["g_updates"] == 4
    for key in ("g_loss", "d_loss", "d_real", "d_fake"):
        assert math.isfinite(epoch[key]), key
    assert 0.0 < epoch["d_real"] < 1.0 and 0.0 < epoch["d_fake"] < 1.0  # probabilities
    g_after, d_after = weights(trainer.step.generator), weights(trainer.step.discriminator)
    assert any(not torch.equal(g_before[k], g_after[k]) for k in g_before)
    assert any(not torch.equal(d_before[k], d_after[k]) for k in d_before)


@pytest.mark.parametrize("loss", GAN_LOSSES)
def test_every_loss_choice_trains_with_finite_figures(loss: str) -> None:
    trainer, batches = tiny(loss=loss, epochs=1)
    result = trainer.fit(batches)
    assert result.status == "completed"
    assert all(
        math.isfinite(result.history[0][k]) for k in ("g_loss", "d_loss", "d_real", "d_fake")
    )


def test_the_generators_optimizer_uses_the_recipes_own_learning_rate() -> None:
    trainer, batches = tiny(epochs=1)
    trainer.step.recipe = GanRecipe(
        latent_size=LATENT,
        samples=16,
        generator_optimizer=GanRecipe().generator_optimizer.__class__("sgd", 0.05),
    )
    result = trainer.fit(batches)
    assert isinstance(trainer.step.g_optimizer, torch.optim.SGD)
    assert isinstance(trainer.step.d_optimizer, torch.optim.Adam)
    assert result.history[0]["g_lr"] == 0.05 and result.history[0]["d_lr"] == 2e-4


class StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, trainer: Any, batch: Any) -> None:
        if batch.global_step == self.step:
            trainer.stop()


def test_stop_is_honoured_before_the_next_batch_and_keeps_whole_weights() -> None:
    trainer, batches = tiny(epochs=3, callbacks=[StopAt(2)])
    result = trainer.fit(batches)
    assert result.status == "stopped" and result.epochs == 0
    assert trainer.step.d_updates == 3
    assert all(torch.isfinite(v).all() for v in trainer.step.generator.state_dict().values())


class PauseAt(Callback):
    """Pauses the run at one batch; another thread sees the pause and stops the run."""

    def __init__(self) -> None:
        self.seen_paused = threading.Event()

    def on_batch_end(self, trainer: Any, batch: Any) -> None:
        if batch.global_step == 1:
            trainer.pause()

            def stop_when_paused() -> None:
                while not trainer.paused:
                    pass
                self.seen_paused.set()
                trainer.stop()

            threading.Thread(target=stop_when_paused, daemon=True).start()


def test_a_paused_run_waits_until_another_thread_stops_it() -> None:
    pause = PauseAt()
    trainer, batches = tiny(epochs=2, callbacks=[pause])
    result = trainer.fit(batches)
    assert pause.seen_paused.is_set()
    assert result.status == "stopped" and trainer.step.d_updates == 2


class PoisonGenerator(Callback):
    """Remembers the weights after epoch 1, then makes the generator produce NaN in epoch 2."""

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        if epoch == 1:
            self.good = weights(trainer.step.generator)

    def on_batch_end(self, trainer: Any, batch: Any) -> None:
        if batch.epoch == 2 and batch.step == 2:
            with torch.no_grad():
                next(trainer.step.generator.parameters()).fill_(float("nan"))


def test_a_nan_loss_ends_the_run_as_diverged_with_the_last_good_weights() -> None:
    poison = PoisonGenerator()
    trainer, batches = tiny(epochs=3, callbacks=[poison])
    result = trainer.fit(batches)
    assert result.status == "diverged" and "NaN" in result.message
    assert result.epochs == 1
    kept = weights(trainer.step.generator)
    assert all(torch.equal(kept[k], poison.good[k]) for k in kept)
    assert torch.isfinite(trainer.step.samples()).all()


def test_the_same_seed_gives_the_same_run_on_the_cpu() -> None:
    runs = []
    for _ in range(2):
        trainer, batches = tiny(loss="wgan_gp", epochs=2)
        result = trainer.fit(batches)
        runs.append((result.history, weights(trainer.step.generator), trainer.step.samples()))
    (h1, w1, s1), (h2, w2, s2) = runs
    strip = [{k: v for k, v in h.items() if k not in ("seconds", "samples_per_s")} for h in h1]
    assert strip == [
        {k: v for k, v in h.items() if k not in ("seconds", "samples_per_s")} for h in h2
    ]
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert torch.equal(s1, s2)
    other, batches = tiny(loss="wgan_gp", epochs=2, seed=1)
    other.fit(batches)
    assert not torch.equal(other.step.samples(), s1)


def test_the_fixed_latents_come_from_the_seed_and_their_samples_follow_training() -> None:
    first, batches = tiny(epochs=1)
    second, _ = tiny(epochs=1)
    assert torch.equal(first.step.fixed_latents, second.step.fixed_latents)
    before = first.step.samples()
    assert before.shape == (16, 2)
    first.fit(batches)
    assert not torch.equal(first.step.samples(), before)
    assert torch.equal(first.step.samples(), first.step.generate(first.step.fixed_latents))


def test_every_epoch_reports_spread_modes_and_warnings_when_the_modes_are_known() -> None:
    x, _ = ring(512, seed=5)
    quality = SampleQuality(torch.from_numpy(x), Modes(ring_centres(), 3 * RING_STD))
    trainer, batches = tiny(epochs=1, quality=quality)
    epoch = trainer.fit(batches).history[0]
    assert {"spread", "modes_covered", "modes", "on_mode", "warnings"} <= set(epoch)
    assert epoch["modes"] == 8 and isinstance(epoch["warnings"], list)


def test_a_collapsed_generator_is_warned_about_and_a_faithful_one_is_not() -> None:
    x, labels = ring(2000, seed=1)
    quality = SampleQuality(torch.from_numpy(x), Modes(ring_centres(), 3 * RING_STD))
    faithful, warnings = quality.assess(torch.from_numpy(ring(1000, seed=2)[0]))
    assert faithful["modes_covered"] == 8 and faithful["on_mode"] > 0.95
    assert 0.9 < faithful["spread"] < 1.1 and warnings == []
    on_two_modes = torch.from_numpy(x[labels < 2])
    figures, warnings = quality.assess(on_two_modes)
    assert figures["modes_covered"] == 2
    assert any("covers only 2 of the 8 modes" in w for w in warnings)
    one_point = torch.from_numpy(np.repeat(ring_centres()[:1], 500, axis=0))
    figures, warnings = quality.assess(one_point)
    assert figures["spread"] < 0.01
    assert any("vary" in w and "less than the real data" in w for w in warnings)


def test_a_nan_that_slips_past_the_batch_checks_still_ends_the_epoch_as_diverged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import engine.gan.step as gan_step

    monkeypatch.setattr(gan_step, "_check", lambda network, loss: None)  # as on a GPU
    poison = PoisonGenerator()
    trainer, batches = tiny(epochs=3, callbacks=[poison])
    result = trainer.fit(batches)
    assert result.status == "diverged" and "during epoch 2" in result.message
    kept = weights(trainer.step.generator)
    assert all(torch.equal(kept[k], poison.good[k]) for k in kept)
