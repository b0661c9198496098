"""The Trainer: it learns, reports through callbacks, stops when told, and keeps good weights."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest
import torch
from torch import nn

from engine.data import InMemoryBatches, load_builtin
from engine.settings import EarlyStopping, OptimizerSettings, Schedule, TrainingSettings
from engine.training import BatchEnd, Callback, FitResult, Trainer


def moons(count: int = 400) -> tuple[InMemoryBatches, InMemoryBatches]:
    data = load_builtin("moons")
    x = torch.from_numpy(data.x[:count])
    y = torch.from_numpy(data.y[:count])
    cut = count * 3 // 4
    return InMemoryBatches(x[:cut], y[:cut], 32, seed=0), InMemoryBatches(
        x[cut:], y[cut:], 256, shuffle=False
    )


def network(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))


def settings(**changes: Any) -> TrainingSettings:
    base = TrainingSettings(
        optimizer=OptimizerSettings("adam", lr=0.02),
        epochs=3,
        batch_size=32,
        device="cpu",
        early_stopping=None,
    )
    return replace(base, **changes)


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.batches = 0

    def on_fit_start(self, trainer: Trainer) -> None:
        self.events.append("fit_start")

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.events.append(f"epoch_start {epoch}")

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        self.batches += 1

    def on_validation_end(self, trainer: Trainer, epoch: int, metrics: dict[str, float]) -> None:
        self.events.append(f"validation_end {epoch}")

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        self.events.append(f"epoch_end {epoch}")

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        self.events.append(f"fit_end {result.status}")


def test_a_small_network_learns_moons_and_reports_each_epoch() -> None:
    train, val = moons()
    recorder = Recorder()
    result = Trainer(network(), settings(epochs=15), callbacks=[recorder]).fit(train, val)
    assert result.status == "completed" and result.epochs == 15
    assert result.history[-1]["val_accuracy"] > 0.85
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert set(result.history[0]) >= {
        "epoch",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "samples_per_s",
        "lr",
    }
    assert recorder.events[:4] == ["fit_start", "epoch_start 1", "validation_end 1", "epoch_end 1"]
    assert recorder.events[-1] == "fit_end completed"
    assert recorder.batches == 15 * len(train)
    assert result.confusion is not None and sum(map(sum, result.confusion)) == val.samples
    assert result.precision is not None and len(result.recall or []) == 2


def test_the_same_seed_repeats_a_cpu_run_exactly() -> None:
    def weights() -> list[torch.Tensor]:
        model = nn.Sequential(nn.Linear(2, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 2))
        torch.manual_seed(5)
        for p in model.parameters():
            nn.init.normal_(p, std=0.5)
        Trainer(model, settings(seed=5)).fit(*moons())
        return [p.detach().clone() for p in model.parameters()]

    for a, b in zip(weights(), weights()):
        assert torch.equal(a, b)


def test_early_stopping_ends_the_run_and_restores_the_best_weights() -> None:
    train, val = moons()
    stop = EarlyStopping(metric="val_loss", patience=2, restore_best=True)
    model = network()
    snapshots: dict[int, dict[str, torch.Tensor]] = {}

    class Keep(Callback):
        def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
            snapshots[epoch] = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    # A learning rate far too high makes validation loss wander, so patience runs out.
    chosen = settings(
        epochs=40, early_stopping=stop, optimizer=OptimizerSettings("sgd", lr=3.0, momentum=0.9)
    )
    result = Trainer(model, chosen, callbacks=[Keep()]).fit(train, val)
    assert result.status == "early_stopped"
    assert (
        result.epochs < 40
        and result.best_epoch is not None
        and result.best_epoch <= result.epochs - 2
    )
    best = snapshots[result.best_epoch]
    assert all(torch.equal(best[k], v) for k, v in model.state_dict().items())
    assert result.best_value == min(h["val_loss"] for h in result.history)


def test_a_huge_learning_rate_ends_diverged_keeping_the_last_good_weights() -> None:
    model = network()
    before = [p.detach().clone() for p in model.parameters()]
    result = Trainer(
        model, settings(optimizer=OptimizerSettings("sgd", lr=1e12, momentum=0.0))
    ).fit(*moons())
    assert result.status == "diverged" and result.epochs == 0
    assert "loss" in result.message
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p.detach(), q)  # no finite epoch happened: the starting weights are kept


def test_nan_in_the_data_ends_diverged_with_finite_weights() -> None:
    train, val = moons()
    train.x[40] = float("nan")
    model = network()
    result = Trainer(model, settings(epochs=3)).fit(train, val)
    assert result.status == "diverged" and "NaN" in result.message
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_the_stop_flag_is_honoured_within_one_batch() -> None:
    train, val = moons()

    class StopAtThird(Callback):
        def __init__(self) -> None:
            self.seen = 0

        def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
            self.seen += 1
            if batch.global_step == 2:
                trainer.stop()

    stopper = StopAtThird()
    result = Trainer(network(), settings(epochs=50), callbacks=[stopper]).fit(train, val)
    assert result.status == "stopped" and stopper.seen == 3 and result.epochs == 0


def test_pause_holds_the_run_until_resume_from_another_thread() -> None:
    train, val = moons()
    paused_at = threading.Event()
    trainer_box: list[Trainer] = []

    class PauseOnce(Callback):
        def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
            if batch.global_step == 0:
                trainer.pause()
                paused_at.set()

    trainer = Trainer(network(), settings(epochs=2), callbacks=[PauseOnce()])
    trainer_box.append(trainer)
    outcome: list[FitResult] = []
    worker = threading.Thread(target=lambda: outcome.append(trainer.fit(train, val)))
    worker.start()
    assert paused_at.wait(10)
    worker.join(0.3)
    assert worker.is_alive() and trainer.paused and trainer.global_step == 1
    trainer.resume()
    worker.join(30)
    assert outcome[0].status == "completed" and trainer.global_step == 2 * len(train)


def test_stop_while_paused_ends_the_run() -> None:
    train, val = moons()
    trainer = Trainer(network(), settings(epochs=2))
    trainer.pause()
    trainer.stop()
    assert trainer.fit(train, val).status == "stopped"


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_every_optimizer_trains(optimizer: str) -> None:
    lr = {"sgd": 0.1, "adagrad": 0.1}.get(optimizer, 0.01)
    chosen = settings(
        optimizer=OptimizerSettings(optimizer, lr=lr, weight_decay=1e-4, nesterov=True), epochs=4
    )
    result = Trainer(network(), chosen).fit(*moons())
    assert result.status == "completed"
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


@pytest.mark.parametrize("name", ["step", "cosine", "one_cycle"])
def test_every_schedule_lowers_the_learning_rate(name: str) -> None:
    chosen = settings(epochs=4, schedule=Schedule(name, step_size=1, gamma=0.5))
    result = Trainer(network(), chosen).fit(*moons())
    rates = [h["lr"] for h in result.history]
    assert result.status == "completed" and rates[-1] < rates[0] <= 0.02


def test_reduce_on_plateau_lowers_the_rate_when_validation_stops_improving() -> None:
    # SGD at a rate far too high: the validation loss bounces instead of falling.
    chosen = settings(
        epochs=8,
        optimizer=OptimizerSettings("sgd", lr=3.0, momentum=0.9),
        schedule=Schedule("plateau", gamma=0.5, patience=0),
    )
    rates = [h["lr"] for h in Trainer(network(), chosen).fit(*moons()).history]
    assert rates[-1] < rates[0] == 3.0


@pytest.mark.parametrize("loss", ["mse", "l1", "huber"])
def test_regression_losses_report_loss_without_accuracy(loss: str) -> None:
    x = torch.linspace(-1, 1, 64)[:, None]
    train = InMemoryBatches(x, 3 * x, 16)
    model = nn.Linear(1, 1)
    result = Trainer(
        model, settings(loss=loss, epochs=20, optimizer=OptimizerSettings("adam", lr=0.1))
    ).fit(train)
    assert (
        "train_accuracy" not in result.history[-1]
        and result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    )


def test_binary_cross_entropy_reports_accuracy() -> None:
    data = load_builtin("moons")
    x, y = torch.from_numpy(data.x[:256]), torch.from_numpy(data.y[:256]).float()[:, None]
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    chosen = settings(loss="bce_with_logits", epochs=10)
    result = Trainer(model, chosen).fit(
        InMemoryBatches(x, y, 32), InMemoryBatches(x, y, 256, shuffle=False)
    )
    assert result.history[-1]["val_accuracy"] > 0.8


def test_gradient_clipping_and_mixed_precision_request_on_cpu_still_train() -> None:
    result = Trainer(network(), settings(grad_clip=0.5, mixed_precision=True)).fit(*moons())
    assert result.status == "completed"
    assert any("mixed precision" in note for note in result.notes)
