"""Trained weights follow their layers through regrouping: folded into repeated blocks, cut
into a block, opened back up, the network computes what it computed with the weights it
learnt; any real change to a layer and they do not follow."""

from __future__ import annotations

import pytest
import torch

from engine.compiler import compile_graph, example_input
from engine.graph import Graph, PortRef
from engine.grouping import Fold, fold
from engine.repeats import apply_repeats, find_repeats
from engine.weights import WeightsError, load_weights, save_weights
from engine.weights_follow import follow, module_labels
from tests.engine.test_repeats import residual_chain


def trained(graph: Graph, seed: int = 3) -> dict[str, torch.Tensor]:
    """Weights unlike a fresh compile's (as if learnt), batch-norm statistics included."""
    module = compile_graph(graph, seed=seed)
    with torch.no_grad():
        for value in module.state_dict().values():
            if value.is_floating_point():
                value.copy_(torch.rand_like(value) + 0.5)
    return module.state_dict()


def labels(graph: Graph) -> dict[str, str]:
    return module_labels(compile_graph(graph))


def output(graph: Graph, state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    module = compile_graph(graph)
    module.load_state_dict(state)  # strict: every key where the new network has it
    with torch.no_grad():
        return module.eval()(x)


def test_weights_follow_layers_folded_into_repeated_blocks_and_back():
    flat = residual_chain(3)
    state = trained(flat)
    x = example_input(flat, batch=2)
    expected = output(flat, state, x)
    folded = apply_repeats(flat, find_repeats(flat)).graph
    assert any(n.type == "Block" for n in folded)
    moved = follow(state, labels(flat), labels(folded))
    assert moved is not None
    assert "block2.conva1.weight" in moved and "conva2.weight" not in moved
    assert torch.allclose(output(folded, moved, x), expected)
    back = follow(moved, labels(folded), labels(flat))  # ungrouped again
    assert back is not None and set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


def test_weights_follow_a_cut_of_parallel_branches_into_the_right_places():
    """Two alike convolutions side by side into a Concat: which one is first matters."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [2, 6, 6]})
    conv = {"out_channels": 3, "kernel_size": 3, "padding": 1}
    for name in ("left", "right"):
        graph.add_node("Conv2d", name, conv)
        graph.connect(PortRef("input", "out"), PortRef(name, "in"))
    graph.add_node("Concat", "join", {"dim": 0})
    graph.connect(PortRef("left", "out"), PortRef("join", "in"))
    graph.connect(PortRef("right", "out"), PortRef("join", "in"))
    graph.add_node("Output", "output")
    graph.connect(PortRef("join", "out"), PortRef("output", "in"))
    state = trained(graph)
    x = example_input(graph, batch=2)
    expected = output(graph, state, x)
    grouped = fold(graph, [Fold("Branch", "branch", ("right",))])
    moved = follow(state, labels(graph), labels(grouped))
    assert moved is not None and "branch.right.weight" in moved
    assert torch.allclose(output(grouped, moved, x), expected)


def test_a_changed_layer_stops_the_weights_from_following():
    flat = residual_chain(3)
    state = trained(flat)
    changed = residual_chain(3, odd_one=True)  # one conv's kernel differs
    assert follow(state, labels(flat), labels(changed)) is None
    rewired = residual_chain(3)
    rewired.disconnect(next(e for e in rewired.edges_into("add2") if e.source.node == "relub1"))
    rewired.connect(PortRef("stem", "out"), PortRef("add2", "in"))  # the skip from elsewhere
    assert follow(state, labels(flat), labels(rewired)) is None


def test_renaming_a_layer_is_not_regrouping():
    """A renamed layer is the same layer: its weights follow the new name too."""
    flat = residual_chain(2)
    state = trained(flat)
    renamed = residual_chain(2)
    renamed.rename_node("conva1", "first_conv")
    moved = follow(state, labels(flat), labels(renamed))
    assert moved is not None and torch.equal(moved["first_conv.weight"], state["conva1.weight"])


def test_a_weights_file_saved_before_folding_loads_into_the_folded_network(tmp_path):
    flat = residual_chain(3)
    module = compile_graph(flat)
    module.load_state_dict(trained(flat))
    save_weights(module, tmp_path / "flat.safetensors")
    x = example_input(flat, batch=2)
    with torch.no_grad():
        expected = module.eval()(x)
    folded = apply_repeats(flat, find_repeats(flat)).graph
    regrouped = compile_graph(folded)
    load_weights(regrouped, tmp_path / "flat.safetensors")
    with torch.no_grad():
        assert torch.allclose(regrouped.eval()(x), expected)
    changed = compile_graph(residual_chain(3, odd_one=True))
    with pytest.raises(WeightsError, match="do not fit"):
        load_weights(changed, tmp_path / "flat.safetensors")


def sequence_network(heads: int = 4, mode: str = "mean", function: str = "Exp") -> Graph:
    """Input -> attention -> an element-wise function -> Reduce -> Linear -> Output: layers
    whose modules do not show every setting in their repr."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [6, 8]})
    graph.add_node("MultiheadAttention", "attention", {"num_heads": heads})
    graph.add_node(function, "squash")
    graph.add_node("Reduce", "pool", {"mode": mode, "axes": [0]})
    graph.add_node("Linear", "head", {"out_features": 3})
    graph.add_node("Output", "output")
    chain = ["input", "attention", "squash", "pool", "head", "output"]
    for a, b in zip(chain, chain[1:]):
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    return graph


def test_a_setting_the_module_does_not_show_still_stops_the_weights():
    base = sequence_network()
    state = trained(base)
    for changed in (
        sequence_network(heads=2),  # same weight shapes, other heads
        sequence_network(mode="max"),
        sequence_network(function="Abs"),
    ):
        assert follow(state, labels(base), labels(changed)) is None


def split_network(name: str) -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [8]})
    graph.add_node("Split", name, {"pieces": 2})
    graph.add_node("Linear", "left", {"out_features": 3})
    graph.add_node("Linear", "right", {"out_features": 3})
    graph.add_node("Subtract", "join")
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef(name, "in"))
    graph.connect(PortRef(name, "out1"), PortRef("left", "in"))
    graph.connect(PortRef(name, "out2"), PortRef("right", "in"))
    graph.connect(PortRef("left", "out"), PortRef("join", "a"))
    graph.connect(PortRef("right", "out"), PortRef("join", "b"))
    graph.connect(PortRef("join", "out"), PortRef("output", "in"))
    return graph


def test_weights_follow_a_renamed_split_to_the_right_pieces():
    """A multi-output layer's pieces are its ports, whatever the layer is called."""
    before, after = split_network("sp"), split_network("splitter")
    state = trained(before)
    x = example_input(before, batch=2)
    moved = follow(state, labels(before), labels(after))
    assert moved is not None
    assert torch.allclose(output(after, moved, x), output(before, state, x))


def test_labels_this_version_did_not_write_are_ignored_not_fatal(tmp_path):
    from safetensors.torch import save_file

    flat = residual_chain(2)
    state = {f"old_{k}": v.contiguous() for k, v in trained(flat).items()}
    for odd in ('{"stem": [1]}', "[1, 2]", "[" * 5000 + "]" * 5000, "not json"):
        path = tmp_path / "odd.safetensors"
        save_file(state, str(path), metadata={"netwright.layers": odd})
        with pytest.raises(WeightsError, match="do not fit"):
            load_weights(compile_graph(flat), path)
