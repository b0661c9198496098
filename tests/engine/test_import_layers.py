"""Files torch writes for modern blocks import as the layers that draw them: a class token
and position embeddings as Parameters, a squeeze-and-excitation gate as a broadcasting
Multiply, GELU's tanh form as one GELU, a channel split as one Split, and so on. Each
import is checked against onnxruntime by the importer itself; here the layers are named."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.export import export_onnx
from engine.onnx_import import import_onnx
from engine.project import load_project


def imported(model: nn.Module, example: torch.Tensor, tmp_path: Path, dynamo: bool = False):
    """The project torch's export of `model` imports as, after a verified re-export that
    computes what `model` does on another batch size."""
    import onnxruntime as ort

    model.eval()
    path = tmp_path / "model.onnx"
    if dynamo:
        batch = torch.export.Dim("batch")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=True,
            external_data=False,
            dynamic_shapes=({0: batch},),
            verbose=False,
        )
    else:
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": {0: "b"}},
        )
    result = import_onnx(path, tmp_path / "model.netwright.json")
    project = load_project(result.project_path)
    again = export_onnx(project, tmp_path / "again.onnx", verify=True)
    x = torch.cat([example, example * 0.5 + 0.1])
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(again.path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    return project


def types(project) -> list[str]:
    return [n.type for n in project.graph]


class TinyViT(nn.Module):
    """The front of torchvision's ViT: patches, a class token expanded to the batch, position
    embeddings added, then the class token's features."""

    def __init__(self) -> None:
        super().__init__()
        self.patches = nn.Conv2d(1, 8, 4, stride=4)
        self.class_token = nn.Parameter(torch.randn(1, 1, 8))
        self.positions = nn.Parameter(torch.randn(1, 5, 8))
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patches(x).flatten(2).transpose(1, 2)
        token = self.class_token.expand(x.shape[0], -1, -1)
        tokens = torch.cat([token, tokens], dim=1) + self.positions
        return self.head(tokens[:, 0])


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_a_vit_class_token_and_positions_import_as_parameters(dynamo: bool, tmp_path: Path) -> None:
    project = imported(TinyViT(), torch.randn(2, 1, 8, 8), tmp_path, dynamo)
    params = {n.id: n for n in project.graph if n.type == "Parameter"}
    assert sorted(tuple(n.params["shape"]) for n in params.values()) == [(1, 8), (5, 8)]
    assert {"Concat", "Add"} <= set(types(project))
    assert not any(t in types(project) for t in ("Constant", "Expand"))


class SqueezeExcite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.squeeze = nn.Linear(8, 2)
        self.excite = nn.Linear(2, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        gate = torch.relu(self.squeeze(y.mean(dim=(2, 3))))
        gate = nn.functional.hardsigmoid(self.excite(gate))
        return y * gate[:, :, None, None]


def test_a_squeeze_and_excitation_gate_imports_as_a_broadcasting_multiply(tmp_path: Path) -> None:
    project = imported(SqueezeExcite(), torch.randn(2, 3, 6, 6), tmp_path)
    assert {"HardSigmoid", "Multiply"} <= set(types(project))


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: a learned per-channel factor, after a permute back."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.scale = nn.Parameter(torch.rand(4, 1, 1))
        self.register_buffer("shift", torch.rand(4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.scale * y + x - self.shift


def test_weights_of_the_file_come_back_as_parameters_which_still_train(tmp_path: Path) -> None:
    project = imported(LayerScale(), torch.randn(2, 4, 3, 3), tmp_path)
    assert types(project).count("Parameter") >= 1
    assert "Multiply" in types(project) and "Subtract" in types(project)


class Formulas(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(-x.abs()) + torch.sqrt(x * x + 1) - torch.log1p(x.abs()) / (1 + x * x)


def test_a_formula_of_element_wise_math_imports_operator_by_operator(tmp_path: Path) -> None:
    project = imported(Formulas(), torch.randn(2, 5), tmp_path)
    assert {"Exp", "Neg", "Abs", "Sqrt", "Log", "Divide", "Constant"} <= set(types(project))


class NewGELU(nn.Module):
    """GPT-2's spelling of GELU's tanh approximation."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
        return 0.5 * x * (1.0 + torch.tanh(inner))


@pytest.mark.parametrize(
    ("activation", "layer", "params"),
    [
        (nn.GELU(approximate="tanh"), "GELU", {"approximate": "tanh"}),
        (NewGELU(), "GELU", {"approximate": "tanh"}),
        (nn.Mish(), "Mish", {}),
        (nn.Softsign(), "Softsign", {}),
        (nn.Hardsigmoid(), "HardSigmoid", {}),
    ],
    ids=["gelu-tanh", "gpt2-gelu", "mish", "softsign", "hardsigmoid"],
)
def test_an_activation_written_as_several_operators_imports_as_one_layer(
    activation: nn.Module, layer: str, params: dict, tmp_path: Path
) -> None:
    project = imported(nn.Sequential(nn.Linear(4, 4), activation), torch.randn(2, 4), tmp_path)
    assert types(project) == ["Input", "Linear", layer, "Output"]
    node = next(n for n in project.graph if n.type == layer)
    assert all(node.params.get(k) == v for k, v in params.items())


class ChannelSplit(nn.Module):
    """ShuffleNetV2's split: half the channels through a conv, then joined again."""

    def __init__(self, chunk: bool) -> None:
        super().__init__()
        self.chunk = chunk
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(x, [4, 4], dim=1) if self.chunk else (x[:, :4], x[:, 4:])
        return torch.cat([a, self.conv(b)], dim=1)


@pytest.mark.parametrize(("chunk", "layer"), [(True, "Split"), (False, "Slice")])
def test_a_channel_split_imports_as_split_or_slices(
    chunk: bool, layer: str, tmp_path: Path
) -> None:
    project = imported(ChannelSplit(chunk), torch.randn(2, 8, 3, 3), tmp_path)
    assert layer in types(project)


class Picks(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x[:, 1]  # Gather of one index
        summed = x.sum(dim=-1)
        peak = x.amax(dim=1)
        return torch.cat(
            [
                rows.repeat(1, 2),
                summed,
                peak[:, :1].expand(-1, 5)[:, :4],
                x.amin(dim=(1, 2), keepdim=True)[:, 0],
            ],
            dim=1,
        )


def test_picking_reducing_and_repeating_import_as_their_layers(tmp_path: Path) -> None:
    project = imported(Picks(), torch.randn(2, 3, 4), tmp_path)
    assert {"Select", "Reduce", "Tile", "Slice"} <= set(types(project))


class TwoWires(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.left, self.right = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.left(x), torch.sigmoid(self.right(x)) + 0.5
        q = a.reshape(-1, 2, 2)
        return torch.cat(
            [a - b, a / b, b**a, torch.maximum(a, b), torch.minimum(a, b), (q @ q).flatten(1)],
            dim=1,
        )


def test_arithmetic_between_two_wires_imports_in_order(tmp_path: Path) -> None:
    project = imported(TwoWires(), torch.randn(2, 4), tmp_path)
    assert {"Subtract", "Divide", "Power", "Maximum", "Minimum", "MatMul"} <= set(types(project))


class Conv1D(nn.Module):
    """Hugging Face's Conv1D (GPT-2's projections): every axis but the last merged into one,
    the batch among them, for one addmm, then split again."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 6))
        self.bias = nn.Parameter(torch.randn(6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight)
        return flat.reshape(*x.shape[:-1], 6)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_a_linear_written_over_merged_axes_imports_as_one_linear(
    dynamo: bool, tmp_path: Path
) -> None:
    project = imported(Conv1D(), torch.randn(2, 5, 4), tmp_path, dynamo)
    assert types(project) == ["Input", "Linear", "Output"]
