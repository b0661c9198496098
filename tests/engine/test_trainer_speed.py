"""The opt-in torch.compile switch: read from the project, never a crash when compilation fails.

The GPU side of the speed paths (data on the device, bf16, channels-last, no
per-batch sync, compiled CUDA training) is checked by tests/engine/test_gpu_paths.py,
which runs where a CUDA GPU is.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from engine.cli import run
from engine.data import InMemoryBatches, load_builtin
from engine.project import load_project
from engine.settings import OptimizerSettings, TrainingSettings, settings_problems
from engine.training import Trainer
from engine.training import supervised as supervised_step


def moons() -> tuple[InMemoryBatches, InMemoryBatches]:
    data = load_builtin("moons")
    x, y = torch.from_numpy(data.x[:300]), torch.from_numpy(data.y[:300])
    return InMemoryBatches(x[:200], y[:200], 50, seed=0), InMemoryBatches(
        x[200:], y[200:], 100, shuffle=False
    )


def network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))


def settings(**changes: Any) -> TrainingSettings:
    base = TrainingSettings(
        optimizer=OptimizerSettings("adam", lr=0.02),
        epochs=2,
        batch_size=50,
        device="cpu",
        early_stopping=None,
    )
    return replace(base, **changes)


def broken_backend(graph: Any, example_inputs: Any) -> Any:
    raise RuntimeError("no C++ compiler on this machine (a test's stand-in)")


def losses(history: list[dict[str, Any]]) -> list[float]:
    return [round(h["train_loss"], 6) for h in history] + [round(h["val_loss"], 6) for h in history]


def project_file(tmp_path: Path, **training: Any) -> Path:
    chain = [
        {"id": "input", "type": "Input", "params": {"shape": [2]}},
        {"id": "hidden", "type": "Linear", "params": {"out_features": 8}},
        {"id": "act", "type": "ReLU", "params": {}},
        {"id": "head", "type": "Linear", "params": {"out_features": 2}},
        {"id": "output", "type": "Output", "params": {}},
    ]
    edges = [
        {"source": {"node": a["id"]}, "target": {"node": b["id"]}} for a, b in zip(chain, chain[1:])
    ]
    document = {
        "format": "netwright-project",
        "version": 1,
        "name": "moons",
        "graph": {"nodes": chain, "edges": edges},
        "dataset": {"source": "builtin:moons"},
        "training": {"epochs": 1, "device": "cpu", **training},
    }
    path = tmp_path / "moons.netwright.json"
    path.write_text(json.dumps(document))
    return path


def test_the_compile_setting_is_read_from_the_project_and_checked(tmp_path: Path) -> None:
    assert TrainingSettings.from_json({"compile": True}).compile is True
    assert TrainingSettings.from_json({}).compile is False
    problems = settings_problems(load_project(project_file(tmp_path, compile="yes")))
    assert [p.param for p in problems] == ["training.compile"]
    assert "true or false" in problems[0].message


def test_a_failing_compilation_falls_back_to_eager_with_a_note_and_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eager = Trainer(network(), settings()).fit(*moons())
    monkeypatch.setattr(supervised_step, "COMPILE_BACKEND", broken_backend)
    fallen = Trainer(network(), settings(compile=True)).fit(*moons())
    assert fallen.status == "completed"
    assert any("torch.compile failed" in n and "trained without" in n for n in fallen.notes)
    assert losses(fallen.history) == losses(eager.history)  # the failed batch was redone eagerly


def test_torch_compile_refusing_up_front_is_a_note_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("torch.compile is not supported on this Python")

    monkeypatch.setattr(torch, "compile", refuse)
    result = Trainer(network(), settings(compile=True)).fit(*moons())
    assert result.status == "completed"
    assert any("not supported on this Python" in n for n in result.notes)


def test_a_compiled_run_trains_like_an_eager_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervised_step, "COMPILE_BACKEND", "eager")  # dynamo, no C++ build
    eager = Trainer(network(), settings()).fit(*moons())
    compiled = Trainer(network(), settings(compile=True)).fit(*moons())
    assert compiled.notes == [] and compiled.status == "completed"
    assert losses(compiled.history) == pytest.approx(losses(eager.history), abs=1e-5)


def test_train_compile_option_reports_a_failed_compilation_and_still_saves_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(supervised_step, "COMPILE_BACKEND", broken_backend)
    project = project_file(tmp_path)
    assert run(["train", str(project), "--compile"]) == 0
    out = capsys.readouterr().out
    assert "note: torch.compile failed" in out
    assert (tmp_path / "moons.safetensors").is_file()
