"""Blocks (issue 15, engine side): the project file, shapes and problems through nested
blocks, nested weight names, check's hierarchy, the Python and ONNX exports, training."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.analysis import analyse
from engine.blocks import layer_for
from engine.cli import run
from engine.compiler import compile_graph, example_input
from engine.export.onnx_export import export_onnx
from engine.export.python_export import export_python
from engine.graph import Graph, id_problem
from engine.project import (
    ProjectError,
    load_project,
    project_from_json,
    project_from_text,
    save_project,
)
from engine.resources import example
from engine.weights import load_weights, save_weights


def node(node_id: str, type_name: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_name, "params": params, "position": [0.0, 0.0]}


def wire(a: str, b: str, source: str = "out", target: str = "in") -> dict[str, Any]:
    return {"source": {"node": a, "port": source}, "target": {"node": b, "port": target}}


def chain(*ids: str) -> list[dict[str, Any]]:
    return [wire(a, b) for a, b in zip(ids, ids[1:])]


def basic_block(kernel: int = 3) -> dict[str, Any]:
    """conv-bn-relu-conv-bn, the input added back, relu: a ResNet BasicBlock at any width."""
    conv = {"out_channels": 4, "kernel_size": 3, "padding": 1, "bias": False}
    return {
        "nodes": [
            node("x", "BlockInput"),
            node("conv1", "Conv2d", **conv),
            node("bn1", "BatchNorm2d"),
            node("relu1", "ReLU"),
            node("conv2", "Conv2d", **{**conv, "kernel_size": kernel, "padding": 0}),
            node("bn2", "BatchNorm2d"),
            node("add", "Add"),
            node("relu2", "ReLU"),
            node("out", "BlockOutput"),
        ],
        "edges": [
            *chain("x", "conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2", "out"),
            wire("x", "add"),
        ],
        "note": "a key this version does not know, kept",
    }


def nested_document(kernel: int = 1) -> dict[str, Any]:
    """A stem, a `Stage` block (two BasicBlock uses named `0` and `1`) used as `layer1`, a
    head. kernel 1 keeps 8x8 with padding 0; other kernels shrink or break it."""
    return {
        "format": "netwright-project",
        "version": 2,
        "name": "nested",
        "blocks": {
            "BasicBlock": basic_block(kernel),
            "Stage": {
                "nodes": [
                    node("x", "BlockInput"),
                    node("0", "Block", block="BasicBlock"),
                    node("1", "Block", block="BasicBlock"),
                    node("out", "BlockOutput"),
                ],
                "edges": chain("x", "0", "1", "out"),
            },
        },
        "graph": {
            "nodes": [
                node("input", "Input", shape=[1, 8, 8]),
                node("stem", "Conv2d", out_channels=4, kernel_size=3, padding=1),
                node("layer1", "Block", block="Stage"),
                node("pool", "AdaptiveAvgPool2d", output_size=1),
                node("flatten", "Flatten"),
                node("head", "Linear", out_features=10),
                node("output", "Output"),
            ],
            "edges": chain("input", "stem", "layer1", "pool", "flatten", "head", "output"),
        },
        "dataset": {"source": "builtin:digits"},
        "training": {"epochs": 1, "batch_size": 64, "device": "cpu", "seed": 0},
        "future_key": {"kept": True},
    }


def write(tmp_path: Path, document: dict[str, Any], name: str = "nested") -> Path:
    path = tmp_path / f"{name}.netwright.json"
    path.write_text(json.dumps(document, indent=2))
    return path


# ------------------------------------------------------------------ the project file
def test_a_project_with_blocks_round_trips_whole(tmp_path: Path) -> None:
    document = nested_document()
    project = project_from_json(copy.deepcopy(document))
    assert list(project.blocks) == ["BasicBlock", "Stage"]
    saved = project.to_json()
    assert saved["version"] == 2
    assert saved["blocks"]["BasicBlock"]["note"] == "a key this version does not know, kept"
    assert saved["future_key"] == {"kept": True}
    again = load_project(save_project(project, tmp_path / "again.netwright.json"))
    assert again.to_json() == saved
    assert again.graph.blocks is again.blocks  # the network sees the project's definitions
    assert again.blocks["Stage"].blocks is again.blocks  # and so does every definition


def test_an_older_file_opens_unchanged_and_a_project_without_blocks_stays_version_1(
    tmp_path: Path,
) -> None:
    path = example("residual-cnn").path
    text = path.read_text()
    assert json.loads(text)["version"] == 1
    project = load_project(path)
    assert project.blocks == {}
    assert project.to_json() == json.loads(text)  # version 1, no "blocks" key, nothing lost
    copy_path = save_project(project, tmp_path / "copy.netwright.json")
    assert json.loads(copy_path.read_text()) == json.loads(text)


def test_a_newer_version_is_refused_and_bad_blocks_are_named() -> None:
    document = nested_document()
    with pytest.raises(ProjectError, match="newer Netwright"):
        project_from_json({**document, "version": 3})
    with pytest.raises(ProjectError, match='"blocks" must be an object'):
        project_from_json({**document, "blocks": []})
    with pytest.raises(ProjectError, match="not a usable block name"):
        project_from_json({**document, "blocks": {"9lives": basic_block()}})


def test_definitions_that_use_each_other_in_a_loop_are_refused_by_name() -> None:
    document = nested_document()
    document["blocks"]["BasicBlock"]["nodes"].append(node("again", "Block", block="Stage"))
    with pytest.raises(ProjectError, match="the blocks BasicBlock > Stage > BasicBlock"):
        project_from_text(json.dumps(document))


def test_a_loop_made_after_loading_is_a_problem_on_the_block_not_a_crash() -> None:
    project = project_from_json(nested_document())
    project.blocks["BasicBlock"].add_node("Block", "again", {"block": "Stage"})  # an edit
    found = analyse(project.graph)
    assert not found.ok
    messages = [str(d) for d in found.for_node("layer1")]
    assert any("Stage > BasicBlock > Stage" in m and "loop" in m for m in messages), messages


# ------------------------------------------------------------------ shapes and problems
def test_shapes_parameters_and_macs_flow_through_nested_blocks() -> None:
    project = project_from_json(nested_document())
    found = analyse(project.graph)
    assert found.ok, [str(d) for d in found.diagnostics]
    layer1 = found.nodes["layer1"]
    assert layer1.shape == (4, 8, 8) and layer1.block == "Stage"
    assert layer1.inner is not None
    first = layer1.inner.nodes["0"]
    assert first.block == "BasicBlock" and first.inner is not None
    conv1 = first.inner.nodes["conv1"]
    assert conv1.params == 4 * 4 * 3 * 3  # its input channels came from the wire into the use
    # the block's totals are its layers' totals, and the network's total includes them
    assert first.params == sum(i.params for i in first.inner.nodes.values())
    assert layer1.params == 2 * first.params
    assert layer1.macs == 2 * first.macs > 0
    flat = sum(i.params for n, i in found.nodes.items() if n != "layer1")
    assert found.total_params == flat + layer1.params


def test_a_problem_inside_a_nested_block_is_on_the_block_node_and_names_the_layer() -> None:
    project = project_from_json(nested_document(kernel=9))  # a 9x9 kernel over 8x8
    found = analyse(project.graph)
    problems = found.for_node("layer1")
    assert problems and not found.ok
    problem = problems[0]
    assert problem.path == ("0", "conv2")
    assert problem.message.startswith("block 'Stage' > block 'BasicBlock' > layer 'conv2'")
    assert "error: node 'layer1': block 'Stage' > block 'BasicBlock'" in str(problem)
    assert problem.to_json()["path"] == ["0", "conv2"]
    assert found.nodes["layer1"].shape is None  # nothing downstream pretends to know


def test_boundary_nodes_belong_in_blocks_and_endpoints_in_networks() -> None:
    document = nested_document()
    document["graph"]["nodes"].append(node("stray", "BlockInput"))
    document["blocks"]["BasicBlock"]["nodes"].append(node("inner_input", "Input", shape=[3]))
    project = project_from_json(document)
    found = analyse(project.graph)
    assert any("belongs inside a block" in d.message for d in found.for_node("stray"))
    assert any(
        "layer 'inner_input': a block cannot hold an Input" in d.message
        for d in found.for_node("layer1")
    ), [str(d) for d in found.diagnostics]


def test_a_block_that_is_not_defined_is_an_unknown_block(tmp_path: Path, capsys: Any) -> None:
    document = nested_document()
    document["graph"]["nodes"][2]["params"]["block"] = "Missing"
    found = analyse(project_from_json(document).graph)
    assert [d.code for d in found.for_node("layer1")] == ["unknown-block"]
    assert run(["check", str(write(tmp_path, document))]) == 2
    assert "uses a block 'Missing' that this project does not define" in capsys.readouterr().err


def test_ports_come_from_the_definition_in_order() -> None:
    """One BlockInput/BlockOutput: ports `in`/`out`; several: named by their nodes, in order;
    several outputs make a multi-output node whose values flow on like a Split's."""
    document = {
        "format": "netwright-project",
        "version": 2,
        "name": "ports",
        "blocks": {
            "Pair": {
                "nodes": [
                    node("left", "BlockInput"),
                    node("right", "BlockInput"),
                    node("sum", "Add"),
                    node("product", "Multiply"),
                    node("total", "BlockOutput"),
                    node("times", "BlockOutput"),
                ],
                "edges": [
                    wire("left", "sum"),
                    wire("right", "sum"),
                    wire("left", "product"),
                    wire("right", "product"),
                    wire("sum", "total"),
                    wire("product", "times"),
                ],
            }
        },
        "graph": {
            "nodes": [
                node("input", "Input", shape=[6]),
                node("a", "Linear", out_features=5),
                node("b", "Linear", out_features=5),
                node("pair", "Block", block="Pair"),
                node("join", "Concat", axis=-1),
                node("output", "Output"),
            ],
            "edges": [
                wire("input", "a"),
                wire("input", "b"),
                wire("a", "pair", target="left"),
                wire("b", "pair", target="right"),
                wire("pair", "join", source="total"),
                wire("pair", "join", source="times"),
                wire("join", "output"),
            ],
        },
    }
    project = project_from_json(document)
    layer = layer_for(project.graph.nodes["pair"], project.blocks)
    assert layer is not None
    assert [p.name for p in layer.inputs] == ["left", "right"]
    assert [p.name for p in layer.outputs_for({})] == ["total", "times"]
    found = analyse(project.graph)
    assert found.ok, [str(d) for d in found.diagnostics]
    assert found.nodes["pair"].shapes == {"total": (5,), "times": (5,)}
    module = compile_graph(project.graph)
    x = example_input(project.graph)
    a, b = module.a(x), module.b(x)
    assert torch.allclose(module(x), module.join(a + b, a * b))


# ------------------------------------------------------------------ compiled module
def test_each_use_is_a_nested_module_named_by_node_ids() -> None:
    project = project_from_json(nested_document())
    module = compile_graph(project.graph)
    keys = list(module.state_dict())
    assert "layer1.0.conv1.weight" in keys
    assert "layer1.1.bn2.running_mean" in keys
    assert not any(k.startswith(("layer1.x", "layer1.out")) for k in keys)  # boundaries hold none
    assert type(module.layer1).__name__ == "BlockModule"
    assert module.get_submodule("layer1.0").extra_repr() == "block='BasicBlock'"
    assert module(example_input(project.graph)).shape == (2, 10)
    # the same project always starts from the same weights
    again = compile_graph(project_from_json(nested_document()).graph)
    assert torch.equal(
        again.state_dict()["layer1.1.conv2.weight"], module.state_dict()["layer1.1.conv2.weight"]
    )


def test_weights_save_and_load_with_nested_names(tmp_path: Path) -> None:
    project = project_from_json(nested_document())
    module = compile_graph(project.graph, seed=1)
    path = save_weights(module, tmp_path / "w.safetensors")
    fresh = compile_graph(project.graph, seed=2)
    load_weights(fresh, path)
    assert torch.equal(
        fresh.layer1.get_submodule("0").conv1.weight, module.get_submodule("layer1.0.conv1").weight
    )


def test_numbers_are_node_ids_as_in_nn_sequential() -> None:
    assert id_problem("0") is None and id_problem("12") is None
    assert id_problem("01") is not None and id_problem("12345") is not None
    assert id_problem("1abc") is not None


def test_a_copy_carries_its_own_definitions() -> None:
    project = project_from_json(nested_document())
    snapshot = project.graph.copy()
    assert snapshot.blocks.keys() == project.blocks.keys()
    assert snapshot.blocks["Stage"].blocks is snapshot.blocks
    project.blocks["BasicBlock"].set_param("conv1", "out_channels", 7)  # the editor goes on
    assert snapshot.blocks["BasicBlock"].nodes["conv1"].params["out_channels"] == 4
    assert isinstance(snapshot, Graph) and analyse(snapshot).ok


# ------------------------------------------------------------------ check
def test_check_prints_the_hierarchy_with_per_block_totals(tmp_path: Path, capsys: Any) -> None:
    assert run(["check", str(write(tmp_path, nested_document()))]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    layer1 = next(line for line in lines if line.strip().startswith("layer1 "))
    assert "Block Stage" in layer1
    assert any(line.strip().startswith("layer1.0.conv1") for line in lines)
    assert not any("layer1.x" in line for line in lines)  # boundaries left out
    assert "block Stage: used once (layer1)" in out
    assert "block BasicBlock: used 2 times (layer1.0, layer1.1)" in out and " each" in out
    assert run(["check", "--json", str(write(tmp_path, nested_document()))]) == 0
    data = json.loads(capsys.readouterr().out)
    entry = next(n for n in data["nodes"] if n["id"] == "layer1")
    assert entry["block"] == "Stage"
    inner = next(n for n in entry["nodes"] if n["id"] == "0")
    assert inner["block"] == "BasicBlock" and any(n["id"] == "conv1" for n in inner["nodes"])


def test_check_of_a_flat_project_has_no_block_lines(capsys: Any) -> None:
    assert run(["check", str(example("residual-cnn").path)]) == 0
    out = capsys.readouterr().out
    assert "block " not in out and "." not in out.split("\n")[2]
    assert run(["check", "--json", str(example("residual-cnn").path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert all("block" not in n and "nodes" not in n for n in data["nodes"])
    assert all("path" not in p for p in data["problems"])


# ------------------------------------------------------------------ exports and training
def load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("exported_blocks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def computes_the_same(exported: torch.nn.Module, compiled: torch.nn.Module, graph: Graph) -> None:
    """The exported class takes the compiled network's weights, under the same names, and gives
    the same output."""
    assert list(exported.state_dict()) == list(compiled.state_dict())
    exported.load_state_dict(compiled.state_dict())
    exported.eval()
    x = example_input(graph, batch=4)
    with torch.no_grad():
        assert torch.allclose(exported(x), compiled(x), atol=1e-6)


def test_the_python_export_writes_one_class_per_definition_and_computes_the_same(
    tmp_path: Path,
) -> None:
    project = load_project(write(tmp_path, nested_document()))
    compiled = compile_graph(project.graph, seed=3).eval()
    weights = save_weights(compiled, tmp_path / "nested.safetensors")
    out = tmp_path / "nested.py"
    export_python(project, out, weights=weights, scaling=False)
    text = out.read_text()
    assert text.count("class BasicBlock(nn.Module):") == 1
    assert text.count("class Stage(nn.Module):") == 1
    assert "self.layer1 = Stage()" in text
    assert 'self.add_module("0", BasicBlock())' in text
    assert text.index("class BasicBlock") < text.index("class Stage") < text.index("class Nested")
    computes_the_same(load_module(out).Nested(), compiled, project.graph)


def test_the_bundled_example_exports_one_class_for_its_three_blocks(tmp_path: Path) -> None:
    project = load_project(example("residual-blocks").path)
    out = tmp_path / "rb.py"
    export_python(project, out)
    text = out.read_text()
    assert text.count("class BasicBlock(nn.Module):") == 1
    assert text.count("= BasicBlock()") == 3


def test_onnx_export_of_nested_blocks_is_verified_in_onnxruntime(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, nested_document()))
    result = export_onnx(project, tmp_path / "nested.onnx", verify=True, scaling=False)
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
    import onnxruntime

    session = onnxruntime.InferenceSession(str(result.path))
    compiled = compile_graph(project.graph).eval()
    x = example_input(project.graph, batch=2)
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        assert abs(got - compiled(x).numpy()).max() < 1e-4


def test_a_project_with_blocks_trains_for_an_epoch(tmp_path: Path, capsys: Any) -> None:
    path = write(tmp_path, nested_document())
    weights = tmp_path / "trained.safetensors"
    code = run(["train", str(path), "--epochs", "1", "--weights-out", str(weights)])
    assert code == 0, capsys.readouterr().err
    assert "epoch 1/1" in capsys.readouterr().out
    module = compile_graph(load_project(path).graph)
    before = module.state_dict()["layer1.0.conv1.weight"].clone()
    load_weights(module, weights)
    assert not torch.equal(before, module.state_dict()["layer1.0.conv1.weight"])  # it learned


def test_a_layer_inside_a_block_that_leads_nowhere_is_a_warning_on_the_block() -> None:
    document = nested_document()
    document["blocks"]["BasicBlock"]["nodes"].append(node("idle", "ReLU"))
    document["blocks"]["BasicBlock"]["edges"].append(wire("x", "idle"))
    found = analyse(project_from_json(document).graph)
    assert found.ok  # a warning, not an error
    warnings = [d for d in found.for_node("layer1") if d.severity == "warning"]
    assert warnings and warnings[0].path == ("0", "idle")
    assert "layer 'idle': does not lead to a BlockOutput" in warnings[0].message
