"""Data-parallel training under torchrun: two gloo processes on the CPU train one network together.

The end-to-end test starts real processes (torchrun, two ranks), so it takes
some seconds; everything else here runs in this process.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.compiler import compile_graph
from engine.data import InMemoryBatches
from engine.data.batches import epoch_order
from engine.project import load_project
from engine.settings import TrainingSettings
from engine.training import DeviceError, load_checkpoint, plan_training
from engine.training.distributed import launched_by_torchrun, rank_device
from engine.training.metrics import evaluate

ROOT = Path(__file__).resolve().parents[2]
DIGITS_MLP = ROOT / "resources" / "examples" / "digits-mlp.netwright.json"


def netwright_command() -> list[str]:
    """The installed `netwright` script beside this Python, as a user's torchrun line names it."""
    script = Path(sys.executable).parent / "netwright"
    return ["--no-python", str(script)] if script.is_file() else ["-m", "engine"]


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_cpu_processes_train_the_digits_mlp_together_with_one_metrics_file(
    tmp_path: Path,
) -> None:
    metrics, weights = tmp_path / "m.jsonl", tmp_path / "w.safetensors"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        *netwright_command(),
        "train",
        str(DIGITS_MLP),
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--metrics-out",
        str(metrics),
        "--weights-out",
        str(weights),
    ]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("epoch 1/2") == 1  # only rank 0 prints progress
    assert "with 2 processes (gloo)" in done.stdout
    stream = events(metrics)
    assert [e["event"] for e in stream] == ["start", "epoch", "epoch", "end"]
    start, end = stream[0], stream[-1]
    assert start["world_size"] == 2 and start["device"] == "cpu"
    # every rank trains an equal, disjoint share; the figures count each rank's samples once
    assert all(e["samples"] == start["train_samples"] // 2 * 2 for e in stream[1:3])
    # validation is over the whole validation set: each rank evaluated its part
    assert sum(map(sum, end["confusion_matrix"])) == start["val_samples"]
    assert end["status"] == "completed"

    project = load_project(DIGITS_MLP)
    model = compile_graph(project.graph)
    load_checkpoint(model, weights)  # rank 0's module unwrapped: the single-process keys

    # and the reduced validation loss is the one a single process measures with those weights
    settings = TrainingSettings.from_project(project, {"device": "cpu"})
    plan = plan_training(project, settings)
    _, val = plan.batches()
    mine = evaluate(
        model, val, torch.nn.CrossEntropyLoss(), "classification", contextlib.nullcontext()
    )
    kept = next(e for e in stream[1:3] if e["epoch"] == end["best_epoch"])
    assert mine.figures["val_loss"] == pytest.approx(kept["val_loss"], rel=1e-5)
    assert mine.figures["val_accuracy"] == pytest.approx(kept["val_accuracy"])


@pytest.mark.parametrize("count", [10, 11, 13])
def test_ranks_train_on_equal_disjoint_shares_and_validate_every_sample_once(count: int) -> None:
    x, y = torch.arange(count, dtype=torch.float32)[:, None], torch.arange(count)
    world = 3
    train = [epoch_order(count, 4, 7, True, rank, world) for rank in range(world)]
    assert len({len(share) for share in train}) == 1  # DDP steps in lockstep
    seen = torch.cat(train)
    assert len(set(seen.tolist())) == len(seen) == count // world * world
    validation = [
        InMemoryBatches(x, y, 2, shuffle=False, rank=rank, world_size=world, whole=True)
        for rank in range(world)
    ]
    visited = [int(v) for batches in validation for _, yb in batches.epoch(0) for v in yb]
    assert sorted(visited) == list(range(count))
    assert sum(b.samples for b in validation) == count
    assert all(len(b) == len(list(b.epoch(0))) for b in validation)


def test_each_rank_takes_the_gpu_its_local_rank_names_or_the_cpu() -> None:
    assert rank_device("cpu", 1, 2) == torch.device("cpu")
    if not torch.cuda.is_available():
        assert rank_device("auto", 1, 2) == torch.device("cpu")
        with pytest.raises(DeviceError, match="no usable CUDA GPU"):
            rank_device("cuda", 0, 2)
    with pytest.raises(DeviceError, match="not on MPS"):
        rank_device("mps", 0, 2)


def test_only_a_torchrun_environment_makes_a_run_data_parallel() -> None:
    assert launched_by_torchrun({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})
    assert not launched_by_torchrun({"RANK": "0"})
