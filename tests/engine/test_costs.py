"""What a layer costs before training: memory of its output and of what backward keeps,
parameter memory, arithmetic intensity, totals, and the warning when a run would not fit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import device_memory
from engine.analysis import analyse
from engine.costs import network_cost, size_text
from engine.device_memory import DeviceMemory, fit_problem
from engine.graph import Graph, PortRef
from engine.problems import project_problems
from engine.project import Project

ROOT = Path(__file__).resolve().parents[2]
DIGITS_CNN = ROOT / "resources" / "examples" / "digits-cnn.netwright.json"


def chain(*layers: tuple[str, str, dict]) -> Graph:
    graph = Graph()
    for type_name, node_id, params in layers:
        graph.add_node(type_name, node_id, params)
    ids = [node_id for _, node_id, _ in layers]
    for a, b in zip(ids, ids[1:]):
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    return graph


def mlp() -> Graph:
    return chain(
        ("Input", "input", {"shape": [20]}),
        ("Linear", "hidden", {"out_features": 64}),
        ("ReLU", "relu", {}),
        ("Linear", "scores", {"out_features": 10}),
        ("Output", "output", {}),
    )


def test_each_layer_output_takes_its_values_times_four_bytes_times_the_batch() -> None:
    graph = chain(
        ("Input", "input", {"shape": [1, 8, 8]}),
        ("Conv2d", "conv", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("MaxPool2d", "pool", {"kernel_size": 2}),
        ("Flatten", "flat", {}),
        ("Linear", "fc", {"out_features": 10}),
        ("Output", "output", {}),
    )
    analysis = analyse(graph)
    cost = network_cost(graph, analysis, batch_size=32)
    expected = {"input": 1 * 8 * 8, "conv": 16 * 8 * 8, "pool": 16 * 4 * 4, "flat": 256, "fc": 10}
    for node_id, values in expected.items():
        assert cost.layers[node_id].output_bytes == values * 4
        assert cost.layers[node_id].output_batch_bytes == values * 4 * 32


def test_backward_keeps_a_weighted_layers_input_a_relus_output_and_a_pools_indices() -> None:
    graph = chain(
        ("Input", "input", {"shape": [3, 8, 8]}),
        ("Conv2d", "conv", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu", {}),
        ("MaxPool2d", "pool", {"kernel_size": 2}),
        ("Dropout", "drop", {"p": 0.5}),
        ("Flatten", "flat", {}),
        ("Linear", "fc", {"out_features": 2}),
        ("Output", "output", {}),
    )
    layers = network_cost(graph, analyse(graph), batch_size=8).layers
    assert layers["conv"].saved_bytes == 3 * 8 * 8 * 4  # its input
    assert layers["relu"].saved_bytes == 4 * 8 * 8 * 4  # its output
    assert layers["pool"].saved_bytes == 4 * 8 * 8 * 4 + 4 * 4 * 4 * 8  # input, int64 indices
    assert layers["drop"].saved_bytes == 4 * 4 * 4 * 4  # its mask, float32 on the CPU
    assert layers["flat"].saved_bytes == 0
    assert layers["fc"].saved_batch_bytes == 64 * 4 * 8


def kept_by_torch(name: str, batch: int) -> int:
    """The bytes autograd really keeps for backward after a forward pass (parameters aside),
    each storage once: counted by torch's saved-tensor hooks."""
    import torch

    from engine.compiler import compile_graph, example_inputs
    from engine.project import load_project

    project = load_project(ROOT / "resources" / "examples" / f"{name}.netwright.json")
    analysis = analyse(project.graph)
    module = compile_graph(project.graph, 0, analysis).train()
    weights = {p.untyped_storage().data_ptr() for p in module.parameters()}
    kept: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in weights:
            kept[storage.data_ptr()] = storage.nbytes()
        return tensor

    inputs = example_inputs(project.graph, batch, 0, analysis)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        module(*inputs)
    return sum(kept.values())


@pytest.mark.parametrize(
    "name",
    [
        "digits-cnn",
        "residual-cnn",
        "residual-blocks",
        "digits-lstm",
        "sine-gru",
        "digits-vit",
        "tiny-gpt",
    ],
)
def test_what_backward_keeps_is_close_to_what_torch_really_keeps(name: str) -> None:
    from engine.project import load_project

    project = load_project(ROOT / "resources" / "examples" / f"{name}.netwright.json")
    estimate = network_cost(project.graph, analyse(project.graph), 16).saved_bytes
    assert 0.85 <= estimate / kept_by_torch(name, 16) <= 1.15


def test_parameter_memory_and_training_state_follow_the_optimizer() -> None:
    graph = mlp()
    analysis = analyse(graph)
    weights = (20 * 64 + 64 + 64 * 10 + 10) * 4
    adam = network_cost(graph, analysis, 16, {"name": "adam"})
    sgd = network_cost(graph, analysis, 16, {"name": "sgd", "momentum": 0.0})
    assert adam.param_bytes == sgd.param_bytes == weights
    assert adam.layers["hidden"].param_bytes == (20 * 64 + 64) * 4
    assert adam.training_bytes - adam.training_activation_bytes == 4 * weights  # w, grad, 2 moments
    assert sgd.training_bytes - sgd.training_activation_bytes == 2 * weights


def test_totals_hold_what_is_alive_at_once_and_training_keeps_what_backward_reads() -> None:
    graph = mlp()
    cost = network_cost(graph, analyse(graph), batch_size=32)
    # inference peaks at the ReLU: its input (64 values) and its output (64) alive together
    assert cost.inference_activation_bytes == (64 + 64) * 4 * 32
    # training keeps the input (read by hidden's backward) through the ReLU's step
    assert cost.training_activation_bytes == (20 + 64 + 64) * 4 * 32
    assert cost.inference_bytes == cost.param_bytes + cost.inference_activation_bytes
    assert cost.training_bytes > cost.inference_bytes


def test_arithmetic_intensity_is_flops_over_bytes_moved_and_grows_with_the_batch() -> None:
    graph = mlp()
    analysis = analyse(graph)
    one, many = network_cost(graph, analysis, 1), network_cost(graph, analysis, 256)
    hidden_flops = 2 * 20 * 64
    moved = (20 + 64) * 4 + (20 * 64 + 64) * 4
    assert one.layers["hidden"].intensity == pytest.approx(hidden_flops / moved)
    assert many.layers["hidden"].intensity > 10 * one.layers["hidden"].intensity
    assert one.layers["output"].intensity is None  # no arithmetic


def test_a_run_that_does_not_fit_warns_with_a_batch_size_that_would() -> None:
    graph = mlp()
    analysis = analyse(graph)
    cost = network_cost(graph, analysis, 4096)
    free = cost.training_bytes // 3
    problem = fit_problem(cost, DeviceMemory("cpu", free))
    assert problem is not None and problem.severity == "warning"
    assert problem.param == "training.batch_size" and "4096" in problem.message
    fits = int(problem.hint.split("batch size of ")[1].split()[0]) if problem.hint else 0
    assert network_cost(graph, analysis, fits).training_bytes <= free
    assert network_cost(graph, analysis, fits + 1).training_bytes > free
    assert fit_problem(cost, DeviceMemory("cpu", cost.training_bytes)) is None


def test_the_projects_problems_say_when_training_would_not_fit_the_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = Project("big", mlp())
    project.training["batch_size"] = 100_000
    monkeypatch.setattr(device_memory, "free_memory", lambda device: DeviceMemory("cpu", 10**6))
    found = [d for d in project_problems(project).problems if d.code == "does-not-fit"]
    assert len(found) == 1 and "free in this machine's memory" in found[0].message
    project.training["batch_size"] = 2
    assert not [d for d in project_problems(project).problems if d.code == "does-not-fit"]


def test_free_memory_of_this_machine_is_known_and_a_missing_gpu_is_none() -> None:
    here = device_memory.free_memory("cpu")
    assert here is not None and here.free_bytes > 0
    assert here.device == "cpu"
    assert device_memory.free_memory("mps") is None  # not measured: no warning rather than a guess


def test_sizes_read_the_way_people_write_them() -> None:
    assert size_text(512) == "512 B"
    assert size_text(16 * 1024) == "16.0 KB"
    assert size_text(768 * 1024) == "768 KB"
    assert size_text(2.5 * 2**20) == "2.5 MB"


def netwright(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_check_prints_memory_columns_and_totals_at_the_asked_batch_size() -> None:
    result = netwright("check", DIGITS_CNN, "--batch-size", "10")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[1]
    assert "out x10" in header and "saved x10" in header and "FLOP/B" in header
    conv1 = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["conv1"])
    assert size_text(32 * 8 * 8 * 4 * 10) in conv1
    assert "memory at batch size 10:" in result.stdout and "training" in result.stdout


def test_check_json_keeps_its_keys_and_adds_memory_figures() -> None:
    data = json.loads(netwright("check", DIGITS_CNN, "--json").stdout)
    conv1 = next(n for n in data["nodes"] if n["id"] == "conv1")
    assert {"id", "shape", "parameters", "macs", "flops"} <= conv1.keys()
    batch = json.loads(DIGITS_CNN.read_text())["training"]["batch_size"]
    assert data["memory"]["batch_size"] == batch
    assert conv1["output_bytes"] == 32 * 8 * 8 * 4 * batch
    assert conv1["output_bytes_per_sample"] == 32 * 8 * 8 * 4
    assert conv1["parameter_bytes"] == conv1["parameters"] * 4
    assert data["memory"]["training_bytes"] > data["memory"]["inference_bytes"] > 0
    assert {"total_parameters", "total_macs", "total_flops", "problems", "ok"} <= data.keys()


def test_check_refuses_a_batch_size_below_one() -> None:
    result = netwright("check", DIGITS_CNN, "--batch-size", "0")
    assert result.returncode == 2 and "--batch-size" in result.stderr


def test_train_warns_before_a_run_that_would_not_fit_and_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli import run

    source = ROOT / "resources" / "examples" / "perceptron.netwright.json"
    project = tmp_path / "perceptron.netwright.json"
    project.write_text(source.read_text())
    monkeypatch.setattr(device_memory, "free_memory", lambda device: DeviceMemory("cpu", 64))
    code = run(["train", str(project), "--epochs", "1", "--batch-size", "16", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0
    assert "training with batch size 16 needs about" in err
    assert "more than the 64 B free in this machine's memory" in err
