"""Image folders: held in memory when they fit, read by DataLoader workers when they do not."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import engine.data.loading
from engine.cli import run
from engine.data import PreparedData, StreamedData
from engine.project import load_project
from engine.settings import TrainingSettings
from engine.training import plan_training


def shapes_folder(root: Path, per_class: int = 12) -> Path:
    """Dark and bright 10x10 images: two classes any network separates."""
    rng = np.random.default_rng(0)
    for name, low in (("dark", 0), ("bright", 150)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(low, low + 100, (10, 10), dtype=np.uint8)
            Image.fromarray(pixels, "L").save(root / name / f"{i}.png")
    return root


def image_project(tmp_path: Path, folder: Path) -> Path:
    chain = [
        {"id": "input", "type": "Input", "params": {"shape": [1, 8, 8]}},
        {"id": "flat", "type": "Flatten", "params": {}},
        {"id": "head", "type": "Linear", "params": {"out_features": 2}},
        {"id": "output", "type": "Output", "params": {}},
    ]
    edges = [
        {"source": {"node": a["id"]}, "target": {"node": b["id"]}} for a, b in zip(chain, chain[1:])
    ]
    data = {
        "format": "netwright-project",
        "version": 1,
        "name": "pics",
        "graph": {"nodes": chain, "edges": edges},
        "dataset": {"source": f"images:{folder.name}"},
        "training": {
            "epochs": 3,
            "batch_size": 8,
            "device": "cpu",
            "optimizer": {"name": "adam", "lr": 0.05},
        },
    }
    path = tmp_path / "pics.netwright.json"
    path.write_text(json.dumps(data))
    return path


def test_a_small_image_folder_trains_from_memory(tmp_path: Path) -> None:
    project_path = image_project(tmp_path, shapes_folder(tmp_path / "pics"))
    plan = plan_training(load_project(project_path))
    assert isinstance(plan.data, PreparedData) and plan.data.class_names == ("bright", "dark")
    _, result = plan.run()
    assert result.status == "completed" and result.history[-1]["val_accuracy"] == 1.0


def test_an_image_folder_too_large_for_memory_is_streamed_by_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.data.loading, "memory_budget", lambda: 0)
    project_path = image_project(tmp_path, shapes_folder(tmp_path / "pics"))
    project = load_project(project_path)
    plan = plan_training(project, replace(TrainingSettings.from_project(project), epochs=2))
    assert isinstance(plan.data, StreamedData)
    assert plan.data.train_samples + plan.data.val_samples == 24
    assert plan.data.scaling is not None and plan.data.scaling["per"] == "channel"
    train, _ = plan.batches()
    xb, yb = next(iter(train.epoch(0)))
    assert xb.shape == (8, 1, 8, 8) and yb.dtype == torch.int64
    assert abs(float(xb.mean())) < 1.5  # scaled like in-memory data
    _, result = plan.run()
    assert result.status == "completed" and result.history[-1]["val_accuracy"] >= 0.75


def test_train_reads_an_image_folder_named_on_the_command_line(tmp_path: Path) -> None:
    folder = shapes_folder(tmp_path / "pics")
    project = image_project(tmp_path, tmp_path / "elsewhere")
    assert run(["train", str(project), "--dataset", f"images:{folder}", "--epochs", "1"]) == 0
