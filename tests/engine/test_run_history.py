"""Every run is kept beside its project: listed by `netwright runs`, compared, bounded on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_train_cli import ROOT, moons_project

from engine.cli import run
from engine.compiler import compile_graph
from engine.experiments.compare import compare, fingerprint
from engine.experiments.history import RunHistory
from engine.project import load_project
from engine.resources import example
from engine.training import load_checkpoint


def listed(project: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert run(["runs", str(project), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_run_from_the_command_line_is_recorded_with_its_settings_figures_and_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    assert run(["train", str(project), "--note", "first try"]) == 0
    assert "recorded as run 1" in capsys.readouterr().out
    [record] = listed(project, capsys)
    assert {"id", "started", "settings", "val_loss", "status"} <= set(record)
    assert record["status"] == "completed" and record["epochs"] == 2
    assert record["settings"]["optimizer"]["lr"] == 0.01
    assert record["note"] == "first try" and record["source"] == "cli"
    assert 0 < record["val_loss"] < 1 and record["parameters"] == 82
    folder = tmp_path / "moons.runs" / record["id"]
    stream = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [e["event"] for e in stream] == ["start", "epoch", "epoch", "end"]
    module = compile_graph(load_project(project).graph)
    load_checkpoint(module, record["weights"])  # the best epoch's weights fit the network


def test_two_runs_at_different_settings_are_listed_with_the_setting_that_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    assert run(["train", str(project)]) == 0
    assert run(["train", str(project), "--lr", "0.05", "--batch-size", "32"]) == 0
    capsys.readouterr()
    assert run(["runs", str(project)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["name", "id", "started", "status"]
    assert "lr" in table[0].split() and "batch_size" in table[0].split()
    assert "0.01" in table[1] and "0.05" in table[2] and "64" in table[1] and "32" in table[2]
    assert table[-1].startswith("2 runs in")
    assert run(["runs", str(project), "--compare", "run 1", "run 2"]) == 0
    out = capsys.readouterr().out
    assert "optimizer.lr 0.01 → 0.05" in out and "batch_size 64 → 32" in out


def test_no_record_keeps_a_run_out_of_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    assert run(["train", str(project), "--no-record"]) == 0
    assert "recorded" not in capsys.readouterr().out
    assert listed(project, capsys) == []
    assert not (tmp_path / "moons.runs").exists()


def test_a_bundled_example_records_in_the_data_folder_never_in_the_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], private_data_folder: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = example("perceptron").path
    before = sorted(p.name for p in path.parent.iterdir())
    assert run(["train", str(path), "--epochs", "1"]) == 0
    assert sorted(p.name for p in path.parent.iterdir()) == before
    [record] = listed(path, capsys)
    assert Path(record["folder"]).parent == private_data_folder / "runs" / "perceptron.runs"


def test_a_killed_run_keeps_every_finished_epoch_and_shows_as_interrupted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path, epochs=100_000, early_stopping=None)
    child = subprocess.Popen(
        [sys.executable, "-m", "engine", "train", str(project)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:  # epochs as the child prints them
            if line.startswith("epoch") and line.split()[1] == "3/100000":
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    [record] = listed(project, capsys)
    assert record["status"] == "interrupted"
    folder = Path(record["folder"])
    epochs = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines()[1:]]
    # the third epoch was printed; at most that one, the epoch under way, may be missing
    assert record["epochs"] >= 2 and len(epochs) - record["epochs"] in (0, 1)
    load_checkpoint(compile_graph(load_project(project).graph), record["weights"])


def test_retention_keeps_the_newest_runs_and_every_pinned_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path, epochs=1)
    data = json.loads(project.read_text())
    data["runs"] = {"keep": 2}
    project.write_text(json.dumps(data))
    assert run(["train", str(project)]) == 0
    history = RunHistory(tmp_path / "moons.runs")
    first = history.runs()[0]
    history.update(first.id, pinned=True)
    for _ in range(3):
        assert run(["train", str(project)]) == 0
    names = [r["name"] for r in listed(project, capsys)]
    assert names == ["run 1", "run 4"]  # run 1 pinned; runs 2 and 3 were the oldest


def test_the_architecture_diff_names_layers_added_removed_and_changed(tmp_path: Path) -> None:
    before = load_project(example("digits-cnn").path).to_json()
    after = json.loads(json.dumps(before))
    nodes = after["graph"]["nodes"]
    next(n for n in nodes if n["id"] == "conv1")["params"]["out_channels"] = 16
    after["graph"]["nodes"] = [n for n in nodes if n["id"] != "dropout"]
    after["graph"]["nodes"].append({"id": "extra", "type": "ReLU", "params": {}})
    after["graph"]["edges"] = [
        e
        for e in after["graph"]["edges"]
        if "dropout" not in (e["source"]["node"], e["target"]["node"])
    ]
    padding_spelt_out = json.loads(json.dumps(before))
    padding_spelt_out["graph"]["nodes"][2]["params"]["momentum"] = 0.1  # bn1's default
    result = compare({"project": before}, {"project": after, "settings": {}})
    described = [c.describe() for c in result.layers]
    assert "conv1 (Conv2d) changed: out_channels 32 → 16" in described
    assert "dropout (Dropout) removed" in described and "extra (ReLU) added" in described
    assert "flatten → dropout" in result.wires_removed
    assert fingerprint(before) == fingerprint(padding_spelt_out) != fingerprint(after)
    assert compare({"project": before}, {"project": padding_spelt_out}).same


def test_runs_of_a_project_never_trained_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    assert run(["runs", str(project)]) == 0
    assert "no runs recorded for moons yet" in capsys.readouterr().out
    assert run(["runs", str(tmp_path / "missing.netwright.json")]) == 2
    assert run(["runs", str(project), "--compare", "run 1", "run 2"]) == 2
    assert "no run 'run 1'" in capsys.readouterr().err


def test_a_run_that_cannot_be_recorded_still_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    (tmp_path / "moons.runs").write_text("a file where the folder should be")
    assert run(["train", str(project)]) == 0
    out = capsys.readouterr().out
    assert "note: this run is not recorded in the run history" in out
    assert (tmp_path / "moons.safetensors").is_file()
