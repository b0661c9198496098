"""Checkpoints: weights and their scaling survive a round trip in safetensors, and resume training."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from engine.compiler import compile_graph
from engine.data import apply_scaling, load_builtin
from engine.project import load_project
from engine.resources import EXAMPLES
from engine.settings import TrainingSettings
from engine.training import (
    CheckpointEachEpoch,
    checkpoint_metadata,
    checkpoint_scaling,
    load_checkpoint,
    plan_training,
    save_checkpoint,
)
from engine.weights import WeightsError


def digits_plan(epochs: int = 1):  # type: ignore[no-untyped-def]
    project = load_project(EXAMPLES / "digits-mlp.netwright.json")
    chosen = replace(TrainingSettings.from_project(project), epochs=epochs, device="cpu")
    return plan_training(project, chosen)


def test_trained_weights_and_their_scaling_round_trip(tmp_path: Path) -> None:
    plan = digits_plan()
    trainer, result = plan.run()
    path = save_checkpoint(
        trainer.model,
        tmp_path / "w.safetensors",
        project="digits-mlp",
        epoch=1,
        status=result.status,
        scaling=plan.data.scaling,
    )
    fresh = compile_graph(plan.project.graph, seed=123)
    metadata = load_checkpoint(fresh, path)
    assert metadata["netwright.status"] == "completed" and metadata["netwright.epoch"] == "1"
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)
    # An inference script scales raw digits with the stored statistics and gets the same predictions.
    stats = checkpoint_scaling(path)
    assert stats == plan.data.scaling
    raw = load_builtin("digits").x.reshape(-1, 64)[:50]
    x = torch.from_numpy(apply_scaling(raw, stats))
    fresh.eval()
    trainer.model.eval()
    assert torch.equal(fresh(x).argmax(1), trainer.model(x).argmax(1))
    assert (
        plan.project.dataset["scaling_statistics"] == stats
    )  # kept with the project when it is saved


def test_resuming_starts_from_the_saved_weights(tmp_path: Path) -> None:
    plan = digits_plan()
    trainer, _ = plan.run()
    path = save_checkpoint(trainer.model, tmp_path / "w.safetensors")
    resumed = plan_training(plan.project, plan.settings, weights=path)
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value)


def test_weights_of_another_network_are_refused_by_name(tmp_path: Path) -> None:
    plan = digits_plan()
    other = compile_graph(load_project(EXAMPLES / "digits-cnn.netwright.json").graph)
    path = save_checkpoint(other, tmp_path / "cnn.safetensors")
    with pytest.raises(WeightsError, match="do not fit the network"):
        load_checkpoint(plan.model, path)


def test_a_damaged_weights_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        checkpoint_metadata(path)


def test_checkpoints_each_improving_epoch_keep_the_best_weights_on_disk(tmp_path: Path) -> None:
    plan = digits_plan(epochs=3)
    keeper = CheckpointEachEpoch(tmp_path / "best.safetensors", scaling=plan.data.scaling)
    _, result = plan.run([keeper])
    assert keeper.saved_epochs and keeper.saved_epochs[-1] == result.best_epoch
    meta = checkpoint_metadata(tmp_path / "best.safetensors")
    assert (
        meta["netwright.epoch"] == str(result.best_epoch) and meta["netwright.status"] == "running"
    )
    load_checkpoint(compile_graph(plan.project.graph), tmp_path / "best.safetensors")
