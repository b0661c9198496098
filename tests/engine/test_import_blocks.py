"""Import as blocks (issue 15, item 4): the exporter's module scopes become nested blocks,
identical ones uses of one definition; the network computes what the file computes, its
weights named by the nesting; `--flat` and files without scopes give the flat graph."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from test_import_architectures import ResNet18, onnx_bytes, randomise_batch_norms

from engine.cli import run
from engine.compiler import compile_graph
from engine.export.python_export import export_python
from engine.grouping import layers_of
from engine.onnx_import import import_onnx
from engine.onnx_import.scopes import classes_of, definition_name, scope_of
from engine.project import load_project
from engine.weights import load_weights, read_weights


def small_resnet(tmp_path: Path) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(0)
    model = randomise_batch_norms(ResNet18(width=4)).eval()
    path = tmp_path / "r.onnx"
    path.write_bytes(onnx_bytes(model, shape=(3, 32, 32)))
    return model, path


def imported_output(project_path: Path, x: torch.Tensor) -> np.ndarray:
    project = load_project(project_path)
    module = compile_graph(project.graph, 0)
    load_weights(module, project_path.with_name(project_path.name.split(".")[0] + ".safetensors"))
    with torch.no_grad():
        return module.eval()(x).numpy()


def test_scopes_are_read_from_torchscript_names_and_dynamo_metadata() -> None:
    named = onnx.helper.make_node("Conv", ["x"], ["y"], name="/layer1/layer1.0/conv1/Conv")
    assert scope_of(named) == ("layer1", "layer1.0", "conv1")
    assert scope_of(onnx.helper.make_node("Relu", ["x"], ["y"], name="node_relu_1")) == ()
    dynamo = onnx.helper.make_node("Relu", ["x"], ["y"], name="node_relu_1")
    for key, value in (
        ("pkg.torch.onnx.name_scopes", "['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_1']"),
        (
            "pkg.torch.onnx.class_hierarchy",
            "['m.ResNet', 'torch.nn.modules.container.Sequential', 'm.BasicBlock', 'm.ReLU', 'aten.relu']",
        ),
    ):
        entry = dynamo.metadata_props.add()
        entry.key, entry.value = key, value
    assert scope_of(dynamo) == ("layer1", "layer1.0", "layer1.0.relu")
    classes = classes_of(dynamo)
    assert classes[("layer1", "layer1.0")] == "BasicBlock"
    assert definition_name(("layer1", "layer1.0"), classes[("layer1", "layer1.0")]) == "BasicBlock"
    # a container says nothing: named after the scope
    assert definition_name(("layer1",), classes[("layer1",)]) == "Layer1"
    assert definition_name(("layer1", "layer1.0"), None) == "Layer1Block"


def test_a_resnet_imports_as_nested_blocks_that_compute_the_same(tmp_path: Path) -> None:
    model, path = small_resnet(tmp_path)
    result = import_onnx(path, tmp_path / "r.netwright.json")
    project = load_project(result.project_path)
    graph = project.graph
    assert [n.id for n in graph] == ["image", "stem", "blocks", "head", "logits"]
    assert result.top_level == 5 and result.definitions == len(project.blocks)
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
    # the stage's eight blocks: the blocks that keep their width share a definition
    stage = project.blocks[graph.nodes["blocks"].params["block"]]
    uses = [n.params["block"] for n in stage if n.type == "Block"]
    assert [n.id for n in stage if n.type == "Block"] == [str(i) for i in range(8)]
    assert uses[0] == uses[1]  # blocks.0 and blocks.1: 4 channels in and out, stride 1
    # the stages differ in channel count only: one definition with a downsample, one without,
    # each reused across stages with its own `channels`
    assert uses == ["BlocksBlock", "BlocksBlock", *["BlocksBlock2", "BlocksBlock"] * 3]
    widths = [n.params.get("channels") for n in stage if n.type == "Block"]
    assert widths == [None, None, None, 8, 16, 16, 32, 32]  # None: the definition's default
    assert project.blocks["BlocksBlock"].extra["params"] == {"channels": 4}
    assert result.layers == sum(n.type not in ("Input", "Output") for _, n in layers_of(graph))
    # weights are named by the nesting, and the saved project computes what torch does
    keys = read_weights(result.weights_path).keys()  # type: ignore[arg-type]
    assert "blocks.0.conv1.0.weight" in keys and "blocks.2.down.weight" in keys  # as in torch
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.abs(imported_output(result.project_path, x) - expected).max() < 1e-4


def test_flat_import_and_a_file_without_scopes_give_the_flat_graph(tmp_path: Path) -> None:
    _, path = small_resnet(tmp_path)
    out = tmp_path / "flat.netwright.json"
    assert run(["import", str(path), "-o", str(out), "--flat"]) == 0
    flat = load_project(out)
    assert flat.blocks == {} and not any(n.type == "Block" for n in flat.graph)
    assert len(flat.graph) == 51  # every layer at the top, as before blocks: 49 and the ends
    model = onnx.load(str(path))
    for node in model.graph.node:
        node.name = ""  # a file whose writer kept no module scopes
    bare = tmp_path / "bare.onnx"
    onnx.save(model, str(bare))
    result = import_onnx(bare, tmp_path / "bare.netwright.json")
    assert result.definitions == 0 and load_project(result.project_path).blocks == {}
    assert len(load_project(result.project_path).graph) == len(flat.graph)


@pytest.mark.slow
def test_torchvision_resnet18_is_a_stem_four_stages_and_a_head(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from real_models import TORCHVISION, export

    spec = TORCHVISION["resnet18"]
    torch.manual_seed(0)
    model = randomise_batch_norms(spec.build()).eval()
    path = export(model, spec.example(2), "torchscript", tmp_path / "resnet18.onnx")
    project_path = tmp_path / "resnet18.netwright.json"
    assert run(["import", str(path), "-o", str(project_path)]) == 0
    project = load_project(project_path)
    graph = project.graph
    assert len(graph) < 15
    stages = [n for n in graph if n.type == "Block"]
    assert [n.id for n in stages] == ["layer1", "layer2", "layer3", "layer4"]
    for stage in stages:
        inside = project.blocks[stage.params["block"]]
        assert [n.id for n in inside if n.type == "Block"] == ["0", "1"]
    layer1 = project.blocks["Layer1"]
    assert layer1.nodes["0"].params == layer1.nodes["1"].params == {"block": "Layer1Block"}
    x = spec.example(3)
    with torch.no_grad():
        expected = model(x).numpy()
    assert np.abs(imported_output(project_path, x) - expected).max() < 1e-4
    # check shows the hierarchy, the Python export one class per definition
    capsys.readouterr()
    assert run(["check", str(project_path)]) == 0
    printed = capsys.readouterr().out
    assert "layer1.0.conv1" in printed
    # one block definition per kind, reused across stages with its own channel count
    assert sorted(project.blocks) == ["Layer1", "Layer1Block", "Layer2", "Layer2Block"]
    uses = "used 5 times (layer1.0, layer1.1, layer2.1, layer3.1, layer4.1)"
    assert f"block Layer1Block: {uses}" in printed
    assert "block Layer2: used 3 times (layer2, layer3, layer4)" in printed
    assert "Block Layer2(channels=256)" in printed
    module_path = tmp_path / "resnet18.py"
    export_python(project, module_path, project_path.with_name("resnet18.safetensors"))
    source = module_path.read_text()
    assert source.count("class Layer1Block(") == 1 and "class Layer2Block2" not in source
    assert "self.layer3 = Layer2(in_channels=128, channels=256)" in source
    assert 'self.add_module("1", Layer1Block(channels=channels))' in source
    spec_ = importlib.util.spec_from_file_location("resnet18_export", module_path)
    assert spec_ is not None and spec_.loader is not None
    exported = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(exported)
    names = {k for k in dir(exported) if k.startswith("Layer")}
    assert names == {"Layer1", "Layer1Block", "Layer2", "Layer2Block"}
    net = exported.Resnet18()
    net.load_state_dict(
        exported.load_safetensors(str(project_path.with_name("resnet18.safetensors")))
    )
    with torch.no_grad():
        assert np.abs(net.eval()(x).numpy() - expected).max() < 1e-4


@pytest.mark.slow
def test_torchvision_densenet121_comes_in_as_its_dense_blocks(tmp_path: Path) -> None:
    from real_models import TORCHVISION, export

    spec = TORCHVISION["densenet121"]
    torch.manual_seed(0)
    model = spec.build().eval()
    path = export(model, spec.example(2), "torchscript", tmp_path / "densenet.onnx")
    result = import_onnx(path, tmp_path / "densenet.netwright.json")
    project = load_project(result.project_path)
    assert result.top_level < 10
    features = project.blocks["Features"]
    assert [n.id for n in features if n.type == "Block"][:3] == [
        "denseblock1",
        "transition1",
        "denseblock2",
    ]
    # the k-th dense layer of every dense block reads as many features: one definition
    uses = {
        n.params["block"]
        for b in ("Denseblock1", "Denseblock2")
        for n in project.blocks[b]
        if n.type == "Block"
    }
    assert "Denselayer1" in uses
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
