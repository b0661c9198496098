"""The compiler builds the network as drawn: same outputs as the same network written by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.compiler import CompileError, compile_graph, example_input
from engine.graph import Graph, PortRef
from engine.project import load_project
from engine.resources import example, examples


def test_digits_cnn_matches_a_hand_written_torch_model() -> None:
    project = load_project(example("digits-cnn").path)  # type: ignore[union-attr]
    compiled = compile_graph(project.graph, seed=0)
    by_hand = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(64 * 2 * 2, 10),
    )
    names = [
        "conv1",
        "bn1",
        "relu1",
        "pool1",
        "conv2",
        "bn2",
        "relu2",
        "pool2",
        "flatten",
        "dropout",
        "classifier",
    ]
    for index, name in enumerate(names):
        by_hand[index].load_state_dict(getattr(compiled, name).state_dict())
    compiled.eval()
    by_hand.eval()
    x = torch.randn(5, 1, 8, 8)
    torch.testing.assert_close(compiled(x), by_hand(x), rtol=0, atol=0)


def test_branches_and_merges_run_in_topological_order() -> None:
    project = load_project(example("residual-cnn").path)  # type: ignore[union-attr]
    model = compile_graph(project.graph).eval()
    x = torch.randn(2, 1, 8, 8)
    stem = model.stem_relu(model.stem_bn(model.stem(x)))
    block = model.block_bn2(
        model.block_conv2(model.block_relu(model.block_bn1(model.block_conv1(stem))))
    )
    expected = model.classifier(model.flatten(model.global_pool(model.block_out(block + stem))))
    torch.testing.assert_close(model(x), expected)


def test_the_same_seed_gives_the_same_weights_and_leaves_global_rng_alone() -> None:
    graph = load_project(example("digits-mlp").path).graph  # type: ignore[union-attr]
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = compile_graph(graph, seed=7)
    after = torch.rand(1)
    b = compile_graph(graph, seed=7)
    c = compile_graph(graph, seed=8)
    assert torch.equal(before, after)
    for (key, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(wa, wb), key
    assert not torch.equal(a.fc1.weight, c.fc1.weight)


def test_submodules_are_named_by_node_id() -> None:
    graph = load_project(example("digits-mlp").path).graph  # type: ignore[union-attr]
    keys = set(compile_graph(graph).state_dict())
    assert {"fc1.weight", "fc1.bias", "fc3.weight"} <= keys


def test_an_invalid_graph_is_refused_with_its_problems() -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [4]})
    graph.add_node("Conv2d", "conv")
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef("conv", "in"))
    graph.connect(PortRef("conv", "out"), PortRef("output", "in"))
    with pytest.raises(CompileError, match="node 'conv'"):
        compile_graph(graph)


def test_layers_that_do_not_reach_the_output_are_left_out() -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [4]})
    graph.add_node("Linear", "used", {"out_features": 2})
    graph.add_node("Linear", "dead", {"out_features": 2})
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef("used", "in"))
    graph.connect(PortRef("input", "out"), PortRef("dead", "in"))
    graph.connect(PortRef("used", "out"), PortRef("output", "in"))
    model = compile_graph(graph)
    assert not hasattr(model, "dead")


@pytest.mark.parametrize("name", [e.name for e in examples()])
def test_every_example_compiles_and_matches_inferred_shapes(name: str) -> None:
    from engine.analysis import analyse

    graph = load_project(example(name).path).graph  # type: ignore[union-attr]
    analysis = analyse(graph)
    model = compile_graph(graph, analysis=analysis).eval()
    out = model(example_input(graph, batch=3))
    assert tuple(out.shape) == (3, *analysis.output_shape)  # type: ignore[misc]
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
