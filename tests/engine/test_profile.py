"""Measured cost: `netwright profile` times each layer per batch, forward and backward.

No assertion is about how fast anything is (the machine is shared); they check that
every layer with compute gets a row of its own, that time lands on the layer that
spent it, and that the table, shares and exit codes are what a user reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import run as netwright
from engine.graph import Graph, PortRef
from engine.profiling import profile_onnx, profile_torch
from engine.project import Project, load_project

ROOT = Path(__file__).resolve().parents[2]
DIGITS_CNN = ROOT / "resources" / "examples" / "digits-cnn.netwright.json"


def with_compute(project: Project) -> set[str]:
    return {n.id for n in project.graph if n.type not in ("Input", "Output")}


def branches() -> Project:
    """Two convolutions side by side, added: backward runs them interleaved."""
    graph = Graph()
    for type_name, node_id, params in (
        ("Input", "input", {"shape": [3, 8, 8]}),
        ("Conv2d", "left", {"out_channels": 8, "padding": 1}),
        ("Conv2d", "right", {"out_channels": 8, "padding": 1}),
        ("Add", "merge", {}),
        ("Flatten", "flat", {}),
        ("Linear", "head", {"out_features": 3}),
        ("Output", "output", {}),
    ):
        graph.add_node(type_name, node_id, params)
    for a, b in [("input", "left"), ("input", "right"), ("left", "merge"), ("right", "merge")]:
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    for a, b in [("merge", "flat"), ("flat", "head"), ("head", "output")]:
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    return Project("branches", graph)


def test_every_layer_with_compute_gets_one_row_sorted_with_shares_adding_up() -> None:
    project = load_project(DIGITS_CNN)
    found = profile_torch(project, "cpu", batch_size=8, repeats=3, warmup=1)
    rows = [layer.node for layer in found.layers]
    assert sorted(rows) == sorted(with_compute(project))
    totals = [layer.total_ms for layer in found.layers]
    assert totals == sorted(totals, reverse=True)
    assert sum(layer.share for layer in found.layers) == pytest.approx(1.0)
    assert found.batch_size == 8 and found.device == "cpu" and found.runtime == "torch"


def test_backward_time_lands_on_the_layers_with_weights_even_across_branches() -> None:
    found = profile_torch(branches(), "cpu", batch_size=4, repeats=3, warmup=1).by_node()
    for node in ("left", "right", "head"):  # weight gradients are computed there
        assert (found[node].backward_ms or 0.0) > 0.0
        assert found[node].forward_ms > 0.0
    assert found["left"].forward_ms > 0.0 and found["right"].forward_ms > 0.0


def test_the_profile_leaves_torchs_threads_as_they_were() -> None:
    import torch

    before = torch.get_num_threads()
    profile_torch(branches(), "cpu", batch_size=2, repeats=1, warmup=0)
    assert torch.get_num_threads() == before


def test_onnx_profile_times_the_exported_nodes_by_layer_and_names_the_folded_ones() -> None:
    project = load_project(DIGITS_CNN)
    found = profile_onnx(project, batch_size=8, repeats=3, warmup=1)
    rows = {layer.node for layer in found.layers}
    assert {"conv1", "conv2", "classifier"} <= rows <= with_compute(project)
    assert all(layer.backward_ms is None for layer in found.layers)
    assert sum(layer.share for layer in found.layers) == pytest.approx(1.0)
    missing = with_compute(project) - rows
    assert all(node in " ".join(found.notes) for node in missing)  # each one said, not dropped


def test_profile_prints_a_sorted_table_with_forward_backward_and_share(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert netwright(["profile", str(DIGITS_CNN), "--batch-size", "4", "--repeats", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "batch size 4" in out[0] and "torch on cpu" in out[0]
    assert out[1].split() == ["layer", "type", "forward", "ms", "backward", "ms", "share"]
    body = out[3 : 3 + len(with_compute(load_project(DIGITS_CNN)))]
    shares = [float(line.split()[-1].rstrip("%")) for line in body]
    assert shares == sorted(shares, reverse=True)
    # each share is printed to 0.1%: the printed ones add up to 100% within their rounding
    assert abs(sum(shares) - 100.0) <= 0.05 * len(shares) + 1e-9


def test_profile_json_is_one_object_with_a_row_per_layer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = netwright(["profile", str(DIGITS_CNN), "--batch-size", "4", "--repeats", "2", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "digits-cnn" and data["batch_size"] == 4 and data["runtime"] == "torch"
    assert {"id", "type", "forward_ms", "backward_ms", "share"} <= data["layers"][0].keys()
    assert len(data["layers"]) == len(with_compute(load_project(DIGITS_CNN)))
    assert data["layers_ms"] == pytest.approx(data["forward_ms"] + data["backward_ms"], abs=1e-3)


def test_profile_exit_codes_follow_the_other_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(DIGITS_CNN.read_text())
    next(n for n in data["graph"]["nodes"] if n["id"] == "conv2")["params"]["kernel_size"] = 9
    broken = tmp_path / "broken.netwright.json"
    broken.write_text(json.dumps(data))
    assert netwright(["profile", str(broken)]) == 1
    assert netwright(["profile", str(tmp_path / "missing.netwright.json")]) == 2
    assert netwright(["profile", str(DIGITS_CNN), "--device", "tpu"]) == 2
    assert netwright(["profile", str(DIGITS_CNN), "--batch-size", "0"]) == 2
    assert netwright(["profile", str(DIGITS_CNN), "--onnx", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "conv2" in err and "unknown device" in err


def test_onnxruntimes_trace_is_read_back_by_the_layer_scope_of_each_node() -> None:
    from engine.profiling import onnx_times

    def node(name: str, ts: int, dur: int) -> dict:
        return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur}

    trace = [
        {"cat": "Session", "name": "model_run", "ts": 100, "dur": 50},
        node("/conv1/Conv", 101, 20),
        node("/conv1/Add", 121, 5),
        node("ReorderOutput", 130, 3),
        {"cat": "Session", "name": "model_run", "ts": 200, "dur": 40},
        node("/relu1/Relu_output_0_nchwc", 201, 10),
        node("/network/relu1/Relu", 215, 2),  # the module one level down (dynamo's wrapper)
        {"cat": "Node", "name": "/conv1/Conv_fence_before", "ts": 202, "dur": 0},
    ]
    runs, per_run = onnx_times(trace, {"conv1", "relu1"})
    assert runs == [0.05, 0.04]
    assert per_run[0] == {"conv1": 0.025, "": 0.003}
    assert per_run[1] == {"relu1": 0.012}


def test_running_out_of_memory_says_which_batch_size_to_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine import profiling

    def exhausted(*_args: object) -> float:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 TB")

    monkeypatch.setattr(profiling, "_plain_step", exhausted)
    with pytest.raises(profiling.ProfileError, match="batch size of 32"):
        profile_torch(branches(), "cpu", batch_size=64, repeats=1, warmup=0)


@pytest.mark.skipif(
    not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU (checked on one)"
)
def test_on_a_gpu_every_layer_is_timed_and_its_free_memory_known() -> None:
    from engine.device_memory import free_memory

    project = load_project(DIGITS_CNN)
    found = profile_torch(project, "cuda", batch_size=64, repeats=3, warmup=2)
    assert found.device.startswith("cuda")
    assert sorted(layer.node for layer in found.layers) == sorted(with_compute(project))
    assert sum(layer.share for layer in found.layers) == pytest.approx(1.0)
    memory = free_memory("cuda")
    assert memory is not None and memory.device.startswith("cuda") and memory.free_bytes > 0


def test_profile_runs_headless_without_qt() -> None:
    import subprocess
    import sys

    block_qt = (
        "import importlib.abc, sys\n"
        "class NoQt(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'qtawesome'):\n"
        "            raise ImportError('Qt in a headless command: ' + name)\n"
        "sys.meta_path.insert(0, NoQt())\n"
        "from app.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    args = [str(DIGITS_CNN), "--batch-size", "4", "--repeats", "1", "--json"]
    result = subprocess.run(
        [sys.executable, "-c", block_qt, "profile", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["batch_size"] == 4
