"""`netwright train`: progress, the metrics stream, saved weights, exit codes, Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.cli import run
from engine.compiler import compile_graph
from engine.project import load_project
from engine.training import checkpoint_metadata, load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def moons_project(tmp_path: Path, epochs: int = 2, **training: Any) -> Path:
    chain = [
        {"id": "input", "type": "Input", "params": {"shape": [2]}},
        {"id": "hidden", "type": "Linear", "params": {"out_features": 16}},
        {"id": "act", "type": "ReLU", "params": {}},
        {"id": "head", "type": "Linear", "params": {"out_features": 2}},
        {"id": "output", "type": "Output", "params": {}},
    ]
    edges = [
        {"source": {"node": a["id"]}, "target": {"node": b["id"]}} for a, b in zip(chain, chain[1:])
    ]
    project = {
        "format": "netwright-project",
        "version": 1,
        "name": "moons",
        "graph": {"nodes": chain, "edges": edges},
        "dataset": {"source": "builtin:moons"},
        "training": {
            "optimizer": {"name": "adam", "lr": 0.01},
            "epochs": epochs,
            "batch_size": 64,
            "device": "cpu",
            **training,
        },
    }
    path = tmp_path / "moons.netwright.json"
    path.write_text(json.dumps(project, indent=2))
    return path


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_train_prints_progress_writes_the_metrics_stream_and_saves_weights_beside_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    before = project.read_bytes()
    metrics = tmp_path / "m.jsonl"
    assert run(["train", str(project), "--metrics-out", str(metrics)]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out and "val_accuracy" in out
    stream = events(metrics)
    assert [e["event"] for e in stream] == ["start", "epoch", "epoch", "end"]
    assert {"device", "world_size", "parameters", "train_samples", "val_samples"} <= set(stream[0])
    assert stream[0]["world_size"] == 1 and stream[0]["train_samples"] == 800
    assert {"epoch", "train_loss", "val_loss", "val_accuracy", "samples_per_s", "seconds"} <= set(
        stream[1]
    )
    assert stream[-1]["status"] == "completed" and stream[-1]["epochs"] == 2
    assert stream[-1]["best_val_loss"] == min(e["val_loss"] for e in stream[1:3])
    weights = tmp_path / "moons.safetensors"
    load_checkpoint(compile_graph(load_project(project).graph), weights)
    assert json.loads(checkpoint_metadata(weights)["netwright.scaling"])["method"] == "standard"
    assert project.read_bytes() == before  # the project file is never written


def test_options_override_the_project_for_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path, epochs=5)
    out_weights = tmp_path / "out" / "w.safetensors"
    code = run(
        [
            "train",
            str(project),
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--optimizer",
            "sgd",
            "--lr",
            "0.05",
            "--seed",
            "3",
            "--weights-out",
            str(out_weights),
        ]
    )
    assert code == 0 and out_weights.is_file()
    assert "epoch 1/1" in capsys.readouterr().out
    assert not (tmp_path / "moons.safetensors").exists()


def test_a_huge_learning_rate_ends_diverged_with_exit_1_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    metrics = tmp_path / "m.jsonl"
    assert run(["train", str(project), "--lr", "1e6", "--metrics-out", str(metrics)]) == 1
    captured = capsys.readouterr()
    assert "diverged" in captured.err and "Traceback" not in captured.err + captured.out
    assert events(metrics)[-1]["status"] == "diverged"
    assert not (tmp_path / "moons.safetensors").exists()  # earlier good weights would survive


def test_data_that_does_not_fit_the_input_exits_1_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["train", str(moons_project(tmp_path)), "--dataset", "builtin:digits"]) == 1
    err = capsys.readouterr().err
    assert "digits" in err and "Input node 'input'" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "csv:absent.csv"], "absent.csv: no such file"),
        (["--dataset", "builtin:mnist"], "no bundled data set named 'mnist'"),
        (["--resume"], "no saved weights to resume from"),
    ],
)
def test_unreadable_data_or_weights_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(["train", str(moons_project(tmp_path)), *args]) == 2
    assert message in capsys.readouterr().err


def test_bad_options_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["train", str(moons_project(tmp_path)), "--epochs", "0"])
    assert exit_info.value.code == 2


def test_unusable_settings_exit_1_naming_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path, loss="hinge")
    assert run(["train", str(project)]) == 1
    assert "training.loss" in capsys.readouterr().err


def test_a_bundled_example_saves_its_weights_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    example = ROOT / "resources" / "examples" / "perceptron.netwright.json"
    assert run(["train", str(example), "--epochs", "1"]) == 0
    assert (tmp_path / "perceptron.safetensors").is_file()
    assert not (example.parent / "perceptron.safetensors").exists()


def test_layers_left_at_their_defaults_check_and_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Embedding dropped from the palette keeps its defaults (no params in the file): `check`
    and `train` read the same defaults, so it trains instead of failing inside."""
    monkeypatch.chdir(tmp_path)
    data = json.loads((ROOT / "resources/examples/transformer-marker.netwright.json").read_text())
    for node in data["graph"]["nodes"]:
        if node["type"] in ("Embedding", "SequencePool", "PositionalEncoding"):
            node["params"] = {}
    project = tmp_path / "defaults.netwright.json"
    project.write_text(json.dumps(data))
    assert run(["check", str(project)]) == 0
    assert run(["train", str(project), "--epochs", "1", "--device", "cpu"]) == 0
    assert "epoch 1/1" in capsys.readouterr().out


def ctrl_c_after_first_epoch(project: Path, metrics: Path) -> tuple[int, str, str]:
    """`netwright train PROJECT` in a child process, sent SIGINT (Ctrl+C) once its first epoch is
    in the metrics stream: exit code, stdout, stderr."""
    script = "import sys; from engine.cli import main; sys.exit(main())"
    child = subprocess.Popen(
        [sys.executable, "-c", script, "train", str(project), "--metrics-out", str(metrics)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if metrics.exists() and '"event": "epoch"' in metrics.read_text():
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    return child.returncode, out, err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery to a child is POSIX-only here")
def test_ctrl_c_stops_cleanly_saves_whole_weights_and_exits_0(tmp_path: Path) -> None:
    project = moons_project(tmp_path, epochs=100_000)
    metrics = tmp_path / "m.jsonl"
    returncode, out, err = ctrl_c_after_first_epoch(project, metrics)
    assert returncode == 0, err
    assert "Traceback" not in err and "stopped" in out
    assert events(metrics)[-1]["status"] == "stopped"
    load_checkpoint(compile_graph(load_project(project).graph), tmp_path / "moons.safetensors")


def write_moons_files(tmp_path: Path, kind: str) -> str:
    """The moons data as a user would bring it: a CSV with text labels, an NPZ, or IDX files."""
    import gzip
    import struct

    import numpy as np

    from engine.data import load_builtin

    data = load_builtin("moons")
    x, y = data.x[:300], data.y[:300]
    if kind == "csv":
        rows = ["x1,x2,side"] + [f"{a},{b},{'up' if c == 0 else 'down'}" for (a, b), c in zip(x, y)]
        (tmp_path / "moons.csv").write_text("\n".join(rows))
        return "csv:moons.csv"
    if kind == "npz":
        np.savez(tmp_path / "moons.npz", x=x, y=y)
        return "npz:moons.npz"
    pixels = np.clip((x + 2) * 60, 0, 255).astype(np.uint8).reshape(-1, 1, 2)
    header = b"\x00\x00\x08\x03" + struct.pack(">3I", *pixels.shape)
    (tmp_path / "img.gz").write_bytes(gzip.compress(header + pixels.tobytes()))
    (tmp_path / "lab").write_bytes(
        b"\x00\x00\x08\x01" + struct.pack(">I", len(y)) + y.astype(np.uint8).tobytes()
    )
    return "idx:img.gz,lab"


@pytest.mark.parametrize("kind", ["csv", "npz", "idx"])
def test_user_data_files_train_end_to_end(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = moons_project(tmp_path, epochs=8)
    monkeypatch.chdir(tmp_path)  # --dataset paths are relative to the current folder
    metrics = tmp_path / "m.jsonl"
    spec = write_moons_files(tmp_path, kind)
    assert run(["train", str(project), "--dataset", spec, "--metrics-out", str(metrics)]) == 0
    stream = events(metrics)
    assert stream[0]["train_samples"] == 240 and stream[0]["val_samples"] == 60
    assert stream[-1]["status"] == "completed" and stream[-1]["val_accuracy"] > 0.75


@pytest.mark.skipif(os.name != "posix", reason="a file-size limit (RLIMIT_FSIZE) is POSIX-only")
def test_a_weights_file_that_cannot_be_written_is_a_plain_message_and_the_old_one_stays(
    tmp_path: Path,
) -> None:
    """A full disk (here: a file-size limit the weights are bigger than) is the user's to fix:
    exit 2, the file and the cause named, no traceback, the previous weights whole."""
    project = moons_project(tmp_path, epochs=1)
    weights = tmp_path / "moons.safetensors"
    assert run(["train", str(project)]) == 0
    before = weights.read_bytes()
    script = (
        "import resource, sys; from engine.cli import main; "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (256, 256)); sys.exit(main())"
    )
    done = subprocess.run(
        [sys.executable, "-B", "-c", script, "train", str(project), "--seed", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"{weights}: cannot be written (File too large)" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert weights.read_bytes() == before


def test_train_help_explains_every_option() -> None:
    from engine.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    train = sub.choices["train"]  # type: ignore[attr-defined]
    unexplained = [a.dest for a in train._actions if not a.help]
    assert unexplained == []
    assert "the project's" in train.format_help()


def test_the_command_line_refuses_what_the_project_file_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        run(["train", str(project), "--batch-size", "2000000"])
    assert exit_info.value.code == 2
    assert "batch size must be a whole number from 1 to 1,000,000" in capsys.readouterr().err
