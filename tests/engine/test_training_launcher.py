"""Launching torchrun from a program, following its metrics live, and stopping every rank."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.compiler import compile_graph
from engine.project import load_project
from engine.training import load_checkpoint
from engine.training.launcher import MetricsTail, _children, launch_training, torchrun_command

ROOT = Path(__file__).resolve().parents[2]
DIGITS_MLP = ROOT / "resources" / "examples" / "digits-mlp.netwright.json"


def test_the_tail_returns_each_complete_line_once_as_the_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    tail = MetricsTail(path)
    assert tail.read_new() == []  # not written yet
    path.write_text('{"event": "start", "world_size": 2}\n{"event": "ep')
    assert tail.read_new() == [{"event": "start", "world_size": 2}]
    assert tail.read_new() == []  # the half-written line waits
    with open(path, "a") as handle:
        handle.write('och", "epoch": 1}\n{"event": "end", "status": "completed"}\n')
    assert tail.read_new() == [
        {"event": "epoch", "epoch": 1},
        {"event": "end", "status": "completed"},
    ]
    path.write_text('{"event": "start", "world_size": 1}\n')  # a new run rewrote the file
    assert tail.read_new() == [{"event": "start", "world_size": 1}]


def test_follow_ends_at_the_end_event(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"event": "start"}\n{"event": "end", "status": "stopped"}\n{"event": "x"}\n')
    followed = list(MetricsTail(path).follow(lambda: True, poll_seconds=0.01))
    assert [e["event"] for e in followed] == ["start", "end", "x"]


def test_the_command_is_torchrun_on_one_machine_running_the_engine() -> None:
    command = torchrun_command("p.netwright.json", 4, "m.jsonl", ["--epochs", "3"])
    assert command[1:4] == ["-m", "torch.distributed.run", "--standalone"]
    assert command[command.index("--nproc-per-node") + 1] == "4"
    assert command[-7:] == [
        "engine",
        "train",
        "p.netwright.json",
        "--metrics-out",
        "m.jsonl",
        "--epochs",
        "3",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the ranks through /proc")
def test_two_ranks_stream_their_metrics_and_stop_ends_all_of_them_cleanly(tmp_path: Path) -> None:
    metrics, weights = tmp_path / "m.jsonl", tmp_path / "w.safetensors"
    run = launch_training(
        DIGITS_MLP,
        2,
        metrics,
        options=["--epochs", "100000", "--device", "cpu", "--weights-out", str(weights)],
    )
    try:
        seen = []
        for event in run.follow(poll_seconds=0.05):
            seen.append(event)
            if event["event"] == "epoch" and event["epoch"] >= 2:
                break
        ranks = _children(run.process.pid)
        assert [e["event"] for e in seen[:3]] == ["start", "epoch", "epoch"], run.output()
        assert seen[0]["world_size"] == 2
        run.stop(grace_seconds=60)
    finally:
        if run.running:
            run.process.kill()
    assert not run.running
    assert len(ranks) == 2 and not any(Path(f"/proc/{pid}").exists() for pid in ranks)
    rest = run.read_events()
    assert rest[-1]["event"] == "end" and rest[-1]["status"] == "stopped", run.output()
    load_checkpoint(compile_graph(load_project(DIGITS_MLP).graph), weights)  # whole weights
    output = run.output()
    assert output.count("stopping after the current batch") == 1  # said by rank 0 alone
    assert "internal error" not in output and "KeyboardInterrupt" not in output
