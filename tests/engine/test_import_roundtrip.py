"""Round trip: a network exported to ONNX and imported back computes the same outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from test_export_cases import LAYER_CASES, NOT_IMPORTED, layer_project

from engine.compiler import compile_graph, example_input
from engine.export import export_onnx
from engine.grouping import layers_of
from engine.onnx_import import import_onnx
from engine.project import load_project
from engine.resources import examples


def outputs(path: Path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


def round_trip(project, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Original outputs and outputs after export -> import -> export, on one random batch."""
    export_onnx(project, folder / "first.onnx", verify=True)
    result = import_onnx(folder / "first.onnx", folder / "imported.netwright.json")
    imported = load_project(result.project_path)
    export_onnx(imported, folder / "second.onnx", verify=True)
    x = example_input(project.graph, batch=3, seed=11)
    with torch.no_grad():
        original = compile_graph(project.graph).eval()(x).numpy()
    return original, outputs(folder / "second.onnx", x)


def torch_export(model: torch.nn.Module, x: torch.Tensor, path: Path) -> Path:
    """`model` written by torch's own (TorchScript) exporter, batch axis dynamic: a file made
    outside Netwright, as users bring them."""
    torch.onnx.export(
        model,
        (x,),
        str(path),
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "b"}, "y": {0: "b"}},
    )
    return path


def assert_close(original: np.ndarray, again: np.ndarray) -> None:
    assert original.shape == again.shape
    relative = np.abs(original - again).max() / max(1e-6, np.abs(original).max())
    assert relative <= 1e-4, relative


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NOT_IMPORTED[n]))
        if n in NOT_IMPORTED
        else n
        for n in sorted(LAYER_CASES)
    ],
)
def test_every_catalogue_layer_survives_a_round_trip(name: str, tmp_path: Path) -> None:
    # a TransformerEncoderLayer comes back as its parts (MultiheadAttention, Add, LayerNorm,
    # Linear, activation, Linear, Add, LayerNorm) and computes the same
    assert_close(*round_trip(layer_project(name), tmp_path))


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.name)
def test_bundled_examples_survive_a_round_trip(example, tmp_path: Path) -> None:
    assert_close(*round_trip(load_project(example.path), tmp_path))


def test_imported_weights_are_kept_beside_the_project(tmp_path: Path) -> None:
    project = layer_project("Conv2d")
    export_onnx(project, tmp_path / "c.onnx", verify=False)
    result = import_onnx(tmp_path / "c.onnx", tmp_path / "conv.netwright.json")
    assert result.weights_path == tmp_path / "conv.safetensors"
    imported = load_project(result.project_path)
    assert imported.weights_path() == result.weights_path
    assert [n.type for n in imported.graph] == ["Input", "Conv2d", "Output"]
    conv = next(n for n in imported.graph if n.type == "Conv2d")
    assert conv.params["groups"] == 2 and conv.params["dilation"] == [1, 2]


def test_matmul_then_add_becomes_one_linear_layer(tmp_path: Path) -> None:
    class Affine(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(6, 4))
            self.b = torch.nn.Parameter(torch.randn(4))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x @ self.w + self.b)

    model = Affine().eval()
    onnx_file = torch_export(model, torch.randn(2, 5, 6), tmp_path / "a.onnx")
    result = import_onnx(onnx_file, tmp_path / "a.netwright.json")
    graph = load_project(result.project_path).graph
    assert sorted(n.type for n in graph) == ["Input", "Linear", "Output", "ReLU"]
    linear = next(n for n in graph if n.type == "Linear")
    assert linear.params == {"out_features": 4, "bias": True}
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_a_torch_recurrent_network_imports_as_one_layer_per_onnx_operator(
    cell: str, tmp_path: Path
) -> None:
    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            kind = getattr(torch.nn, cell)
            self.rnn = kind(5, 8, num_layers=2, batch_first=True, bidirectional=True)
            self.head = torch.nn.Linear(16, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.rnn(x)[0][:, -1])

    model = Reader().eval()
    onnx_file = torch_export(model, torch.randn(2, 7, 5), tmp_path / "r.onnx")
    result = import_onnx(onnx_file, tmp_path / "r.netwright.json")
    graph = load_project(result.project_path).graph
    layers = [n for _, n in layers_of(graph)]  # the rnn module's layers come in as a block
    assert [n.type for n in layers].count(cell) == 2
    assert all(n.params["bidirectional"] for n in layers if n.type == cell)
    export_onnx(load_project(result.project_path), tmp_path / "again.onnx", verify=True)
    x = torch.randn(4, 7, 5)
    with torch.no_grad():
        expected = model(x).numpy()
    assert_close(expected, outputs(tmp_path / "again.onnx", x))


@pytest.mark.parametrize("affine", [True, False])
def test_torch_instance_norm_imports_as_an_instance_norm_layer(
    affine: bool, tmp_path: Path
) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.InstanceNorm2d(4, affine=affine))
    if affine:
        with torch.no_grad():
            model[1].weight.uniform_(0.5, 1.5)
            model[1].bias.uniform_(-0.5, 0.5)
    model.eval()
    onnx_file = torch_export(model, torch.randn(2, 3, 8, 8), tmp_path / "n.onnx")
    result = import_onnx(onnx_file, tmp_path / "n.netwright.json")
    graph = load_project(result.project_path).graph
    assert [n.type for n in graph] == ["Input", "Conv2d", "InstanceNorm", "Output"]
    norm = next(n for n in graph if n.type == "InstanceNorm")
    assert norm.params["affine"] is affine
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4


def test_torch_group_norm_still_imports_as_one_group_norm(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.GroupNorm(2, 6)).eval()
    onnx_file = torch_export(model, torch.randn(2, 3, 8, 8), tmp_path / "g.onnx")
    graph = load_project(import_onnx(onnx_file, tmp_path / "g.netwright.json").project_path).graph
    assert [n.type for n in graph] == ["Input", "Conv2d", "GroupNorm", "Output"]
    assert next(n for n in graph if n.type == "GroupNorm").params["num_groups"] == 2


def test_local_response_norm_exports_as_the_onnx_lrn_operator(tmp_path: Path) -> None:
    import onnx

    export_onnx(layer_project("LocalResponseNorm"), tmp_path / "l.onnx", verify=True)
    assert [n.op_type for n in onnx.load(str(tmp_path / "l.onnx")).graph.node] == ["LRN"]


@pytest.mark.parametrize(
    ("bounds", "layer"),
    [
        ((0.0, 6.0), "ReLU6"),
        ((0.0, None), "ReLU"),
        ((-1.0, 1.0), "Hardtanh"),
        ((-1.0, None), "Maximum"),
        ((None, 0.5), "Minimum"),
    ],
)
def test_clipping_imports_as_relu6_relu_hardtanh_or_one_bound(
    bounds: tuple[float | None, float | None], layer: str, tmp_path: Path
) -> None:
    class Clipped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.clamp(self.linear(x), *bounds)

    onnx_file = torch_export(Clipped().eval(), torch.randn(2, 4) * 5, tmp_path / "c.onnx")
    result = import_onnx(onnx_file, tmp_path / "c.netwright.json")
    types = [n.type for n in load_project(result.project_path).graph]
    assert layer in types
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5
