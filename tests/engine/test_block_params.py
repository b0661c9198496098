"""Per-use block parameters (docs/blocks.md): one definition with a `channels` (and `stride`)
parameter serves uses at 16 and 32 channels through analysis, the compiler and both exports;
wrong references are problems naming block, layer and parameter."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import torch

from engine.analysis import analyse
from engine.cli import run
from engine.compiler import compile_graph
from engine.export.onnx_export import export_onnx
from engine.export.python_export import export_python
from engine.onnx_import import import_onnx
from engine.project import load_project, project_from_json
from engine.repeats import apply_repeats, find_repeats
from engine.weights import save_weights
from tests.engine.test_blocks import (
    chain,
    computes_the_same,
    load_module,
    nested_document,
    node,
    wire,
    write,
)
from tests.engine.test_import_architectures import onnx_bytes


def conv_block() -> dict[str, Any]:
    """conv (channels, stride from the use) - bn - relu, and a 1x1 shortcut added back."""
    channels, stride = {"param": "channels"}, {"param": "stride"}
    return {
        "params": {"channels": 16, "stride": 1},
        "nodes": [
            node("x", "BlockInput"),
            node("conv1", "Conv2d", out_channels=channels, kernel_size=3, padding=1, stride=stride),
            node("bn1", "BatchNorm2d"),
            node("relu", "ReLU"),
            node("shortcut", "Conv2d", out_channels=channels, kernel_size=1, stride=stride),
            node("add", "Add"),
            node("out", "BlockOutput"),
        ],
        "edges": [
            *chain("x", "conv1", "bn1", "relu", "add", "out"),
            *chain("x", "shortcut", "add"),
        ],
    }


def document() -> dict[str, Any]:
    return {
        "format": "netwright-project",
        "version": 2,
        "name": "widths",
        "blocks": {"ConvBlock": conv_block()},
        "graph": {
            "nodes": [
                node("input", "Input", shape=[3, 16, 16]),
                node("layer1", "Block", block="ConvBlock"),
                node("layer2", "Block", block="ConvBlock", channels=32, stride=2),
                node("pool", "AdaptiveAvgPool2d", output_size=1),
                node("flatten", "Flatten"),
                node("head", "Linear", out_features=10),
                node("output", "Output"),
            ],
            "edges": chain("input", "layer1", "layer2", "pool", "flatten", "head", "output"),
        },
        "dataset": {"source": "builtin:digits"},
        "training": {"epochs": 1, "batch_size": 64, "device": "cpu", "seed": 0},
    }


def test_each_use_is_analysed_with_its_own_values() -> None:
    project = project_from_json(document())
    analysis = analyse(project.graph)
    assert analysis.ok, analysis.diagnostics
    assert analysis.nodes["layer1"].shape == (16, 16, 16)
    assert analysis.nodes["layer2"].shape == (32, 8, 8)
    assert analysis.nodes["layer2"].resolved == {"block": "ConvBlock", "channels": 32, "stride": 2}
    assert analysis.nodes["layer1"].resolved["channels"] == 16  # the default
    inner1, inner2 = analysis.nodes["layer1"].inner, analysis.nodes["layer2"].inner
    assert inner1 is not None and inner2 is not None
    assert inner2.nodes["conv1"].resolved["out_channels"] == 32
    assert inner2.nodes["conv1"].params == 32 * 16 * 9 + 32
    assert analysis.nodes["layer2"].params > analysis.nodes["layer1"].params
    assert analysis.nodes["layer2"].macs != analysis.nodes["layer1"].macs


def test_the_compiler_builds_each_use_with_its_values_under_the_same_names() -> None:
    module = compile_graph(project_from_json(document()).graph)
    state = module.state_dict()
    assert state["layer1.conv1.weight"].shape == (16, 3, 3, 3)
    assert state["layer2.conv1.weight"].shape == (32, 16, 3, 3)
    assert state["layer2.shortcut.weight"].shape == (32, 16, 1, 1)
    assert module.layer2.conv1.stride == (2, 2)


def test_a_file_with_parameters_round_trips(tmp_path: Path) -> None:
    path = write(tmp_path, document(), "widths")
    project = load_project(path)
    saved = project.to_json()
    assert saved["blocks"]["ConvBlock"]["params"] == {"channels": 16, "stride": 1}
    assert saved["blocks"]["ConvBlock"]["nodes"][1]["params"]["out_channels"] == {
        "param": "channels"
    }
    assert saved["graph"]["nodes"][2]["params"] == {
        "block": "ConvBlock",
        "channels": 32,
        "stride": 2,
    }


def test_the_python_export_writes_one_class_taking_the_parameters(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, document(), "widths"))
    compiled = compile_graph(project.graph, seed=3).eval()
    weights = save_weights(compiled, tmp_path / "widths.safetensors")
    out = tmp_path / "widths.py"
    export_python(project, out, weights=weights, scaling=False)
    text = out.read_text()
    assert text.count("class ConvBlock(nn.Module):") == 1 and "ConvBlock2" not in text
    assert "def __init__(self, in_channels: int = 3, channels: int = 16, stride: int = 1)" in text
    assert "nn.Conv2d(in_channels, channels, kernel_size=3, stride=stride, padding=1," in text
    assert "nn.BatchNorm2d(channels," in text
    assert "self.layer1 = ConvBlock(in_channels=3, channels=16, stride=1)" in text
    assert "self.layer2 = ConvBlock(in_channels=16, channels=32, stride=2)" in text
    computes_the_same(load_module(out).Widths(), compiled, project.graph)


def test_onnx_export_of_parametrised_uses_is_verified(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, document(), "widths"))
    result = export_onnx(project, tmp_path / "widths.onnx", verify=True, scaling=False)
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4


def test_a_reference_to_an_undeclared_parameter_names_block_layer_and_parameter() -> None:
    data = document()
    data["blocks"]["ConvBlock"]["nodes"][1]["params"]["out_channels"] = {"param": "chanels"}
    analysis = analyse(project_from_json(data).graph)
    (problem,) = [
        d for d in analysis.errors if d.code == "unknown-block-param" and d.node == "layer1"
    ]
    assert problem.node == "layer1" and problem.path == ("conv1",)
    assert "block 'ConvBlock' > layer 'conv1', parameter 'out_channels'" in problem.message
    assert "'chanels'" in problem.message and "channels, stride" in str(problem.hint)
    assert any(d.node == "layer2" and d.code == "unknown-block-param" for d in analysis.errors)


def test_a_wrong_value_on_a_use_or_a_bad_declaration_is_a_problem() -> None:
    data = document()
    data["graph"]["nodes"][2]["params"]["channels"] = "wide"
    analysis = analyse(project_from_json(data).graph)
    assert any(d.node == "layer2" and d.param == "channels" for d in analysis.errors)
    data = document()
    data["graph"]["nodes"][2]["params"]["width"] = 3
    warnings = [d for d in analyse(project_from_json(data).graph).diagnostics if d.param == "width"]
    assert warnings and warnings[0].severity == "warning"
    data = document()
    data["blocks"]["ConvBlock"]["params"] = {"block": 1}
    analysis = analyse(project_from_json(data).graph)
    assert any(
        "block 'ConvBlock'" in d.message and d.code == "block-params" for d in analysis.errors
    )


def test_a_file_without_parameters_opens_and_exports_unchanged(tmp_path: Path) -> None:
    data = nested_document()
    project = project_from_json(copy.deepcopy(data))
    assert project.to_json()["blocks"] == data["blocks"]
    assert analyse(project.graph).ok
    out = tmp_path / "nested.py"
    export_python(project, out, scaling=False)
    text = out.read_text()
    assert "self.layer1 = Stage()" in text and "def __init__(self) -> None:" in text


def test_check_shows_each_uses_values(tmp_path: Path, capsys: Any) -> None:
    assert run(["check", str(write(tmp_path, document(), "widths"))]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.strip().startswith("layer2 "))
    assert "channels=32" in line and "stride=2" in line
    assert run(["check", "--json", str(write(tmp_path, document(), "widths"))]) == 0
    entry = next(n for n in json.loads(capsys.readouterr().out)["nodes"] if n["id"] == "layer2")
    assert entry["values"] == {"channels": 32, "stride": 2}


__all__ = ["document", "wire"]


# ------------------------------------------------------------------ folding into parameters
def widening_document() -> dict[str, Any]:
    """Three conv-bn-relu runs at 8, 16 and 32 channels (the last two with stride 2)."""
    nodes = [node("input", "Input", shape=[3, 16, 16])]
    ids = ["input"]
    for i, (width, stride) in enumerate([(8, 1), (16, 2), (32, 2)], 1):
        nodes += [
            node(f"conv{i}", "Conv2d", out_channels=width, kernel_size=3, padding=1, stride=stride),
            node(f"bn{i}", "BatchNorm2d"),
            node(f"relu{i}", "ReLU"),
        ]
        ids += [f"conv{i}", f"bn{i}", f"relu{i}"]
    nodes += [node("pool", "AdaptiveAvgPool2d", output_size=1), node("flatten", "Flatten")]
    nodes += [node("head", "Linear", out_features=10), node("output", "Output")]
    ids += ["pool", "flatten", "head", "output"]
    document = {"format": "netwright-project", "version": 1, "name": "runs"}
    return {**document, "graph": {"nodes": nodes, "edges": chain(*ids)}}


def test_find_repeated_blocks_folds_runs_that_differ_in_channels_and_strides() -> None:
    graph = project_from_json(widening_document()).graph
    before = analyse(graph)
    (proposal,) = find_repeats(graph)
    assert len(proposal.uses) == 3
    applied = apply_repeats(graph, [proposal]).graph
    definition = applied.blocks[proposal.name]
    assert definition.extra["params"] == {"channels": 8, "stride": 1}
    assert definition.nodes["conv1"].params["out_channels"] == {"param": "channels"}
    uses = [n.params for n in applied if n.type == "Block"]
    assert uses == [
        {"block": proposal.name},
        {"block": proposal.name, "channels": 16, "stride": 2},
        {"block": proposal.name, "channels": 32, "stride": 2},
    ]
    after = analyse(applied)
    assert after.ok and after.total_params == before.total_params
    assert after.total_macs == before.total_macs and after.output_shape == before.output_shape


class TwoStages(torch.nn.Module):
    """Two stages alike but for their width: conv-relu-conv-relu at 8, then at 16 channels."""

    def __init__(self) -> None:
        super().__init__()

        def stage(cin: int, width: int) -> torch.nn.Sequential:
            conv = torch.nn.Conv2d
            return torch.nn.Sequential(
                conv(cin, width, 3, padding=1), torch.nn.ReLU(), conv(width, width, 3, padding=1)
            )

        self.stage1, self.stage2 = stage(3, 8), stage(8, 16)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage2(torch.relu(self.stage1(x)))
        return self.head(x.mean(dim=(2, 3)))


def test_an_import_whose_stages_differ_only_in_width_shares_one_definition(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    path = tmp_path / "stages.onnx"
    path.write_bytes(onnx_bytes(TwoStages().eval(), shape=(3, 8, 8)))
    result = import_onnx(path, tmp_path / "stages.netwright.json")
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
    project = load_project(result.project_path)
    stages = [n for n in project.graph if n.type == "Block"]
    assert [n.id for n in stages] == ["stage1", "stage2"]
    assert stages[0].params["block"] == stages[1].params["block"]
    assert stages[1].params["channels"] == 16 and "channels" not in stages[0].params
    assert result.definitions == 1
    module = compile_graph(project.graph)
    assert module.stage2.get_submodule("0").weight.shape == (16, 8, 3, 3)
