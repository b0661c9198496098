"""Validation: every mistake becomes a diagnostic on the node (and parameter) it belongs to."""

from __future__ import annotations

from engine.analysis import analyse
from engine.graph import Edge, Graph, PortRef


def build(*layers: tuple[str, str, dict], wires: list[tuple[str, str]] | None = None) -> Graph:
    """Nodes in order; wired as a chain unless `wires` says otherwise."""
    graph = Graph()
    for type_name, node_id, params in layers:
        graph.add_node(type_name, node_id, params)
    ids = [node_id for _, node_id, _ in layers]
    for a, b in wires if wires is not None else list(zip(ids, ids[1:])):
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    return graph


def problems(graph: Graph) -> list[tuple[str | None, str | None, str]]:
    return [
        (d.node, d.param, d.message) for d in analyse(graph).diagnostics if d.severity == "error"
    ]


def test_a_linear_after_flatten_shows_the_flattened_size() -> None:
    graph = build(
        ("Input", "input", {"shape": [64, 4, 4]}),
        ("Flatten", "flatten", {}),
        ("Linear", "fc", {"out_features": 128}),
        ("Output", "output", {}),
    )
    result = analyse(graph)
    assert result.ok
    assert result.nodes["flatten"].shape == (1024,)
    assert result.nodes["fc"].shape == (128,)
    assert result.nodes["fc"].params == 1024 * 128 + 128
    assert result.nodes["fc"].macs == 1024 * 128


def test_a_shape_mismatch_is_reported_on_the_node_where_it_happens() -> None:
    graph = build(
        ("Input", "input", {"shape": [64]}),
        ("Conv2d", "conv", {"out_channels": 8}),
        ("Output", "output", {}),
    )
    [(node, _, message)] = problems(graph)
    assert node == "conv"
    assert "C x H x W" in message and "64" in message
    diagnostic = analyse(graph).for_node("conv")[0]
    assert diagnostic.hint and "Reshape" in diagnostic.hint


def test_a_kernel_larger_than_the_image_names_the_parameter() -> None:
    graph = build(
        ("Input", "input", {"shape": [1, 4, 4]}),
        ("Conv2d", "conv", {"kernel_size": 7}),
        ("Output", "output", {}),
    )
    assert problems(graph) == [
        ("conv", "kernel_size", "the window (7x7) is larger than the input (4x4 after padding)")
    ]


def test_parameter_type_range_and_choice_errors() -> None:
    graph = build(
        ("Input", "input", {"shape": [8]}),
        ("Linear", "a", {"out_features": 0}),
        ("Dropout", "b", {"p": "half"}),
        ("LSTM", "c", {"output": "all"}),
        ("Output", "output", {}),
    )
    found = {(node, param) for node, param, _ in problems(graph)}
    assert {("a", "out_features"), ("b", "p"), ("c", "output")} <= found


def test_unknown_types_and_parameters() -> None:
    graph = build(
        ("Input", "input", {"shape": [8]}),
        ("Quantum", "q", {}),
        ("Output", "output", {}),
    )
    graph.set_param("input", "colour", "red")
    result = analyse(graph)
    assert ("q", None, "unknown layer type 'Quantum'") in problems(graph)
    warnings = [d for d in result.diagnostics if d.severity == "warning"]
    assert any(d.node == "input" and d.param == "colour" for d in warnings)


def test_cycles_unconnected_inputs_and_double_wires() -> None:
    graph = build(
        ("Input", "input", {"shape": [8]}),
        ("Linear", "a", {}),
        ("Linear", "b", {}),
        ("ReLU", "lonely", {}),
        ("Output", "output", {}),
        wires=[("input", "a"), ("a", "b"), ("b", "a"), ("input", "output"), ("b", "output")],
    )
    found = problems(graph)
    assert ("a", None, "is part of a loop; networks must flow one way") in found
    assert ("b", None, "is part of a loop; networks must flow one way") in found
    assert ("lonely", None, "input 'in' is not connected") in found
    assert any(node == "output" and "takes one wire but has 2" in msg for node, _, msg in found)


def test_missing_and_duplicate_endpoints() -> None:
    graph = build(("Linear", "a", {}), wires=[])
    messages = [m for _, _, m in problems(graph)]
    assert "the network has no Input node" in messages
    assert "the network has no Output node" in messages
    graph = build(
        ("Input", "i1", {"shape": [2]}),
        ("Input", "i2", {"shape": [2]}),
        ("Output", "o", {}),
        ("Output", "o2", {}),
        wires=[("i1", "o"), ("i2", "o2")],
    )
    found = problems(graph)
    assert any(node == "o2" and "more than one Output" in m for node, _, m in found)
    assert not any("more than one Input" in m for _, _, m in found)


def test_dangling_wires_and_unknown_ports() -> None:
    graph = build(("Input", "input", {"shape": [4]}), ("Output", "output", {}))
    graph.edges.append(Edge(PortRef("ghost", "out"), PortRef("output", "in")))
    graph.edges.append(Edge(PortRef("input", "sideways"), PortRef("output", "in")))
    found = problems(graph)
    assert ("output", None, "a wire refers to a node 'ghost' that does not exist") in found
    assert any(node == "input" and "'sideways'" in m for node, _, m in found)


def test_branches_must_agree_before_they_merge() -> None:
    graph = build(
        ("Input", "input", {"shape": [3, 8, 8]}),
        ("Conv2d", "narrow", {"out_channels": 8, "padding": 1}),
        ("Conv2d", "wide", {"out_channels": 16, "padding": 1}),
        ("Add", "merge", {}),
        ("Flatten", "flat", {}),
        ("Output", "output", {}),
        wires=[
            ("input", "narrow"),
            ("input", "wide"),
            ("narrow", "merge"),
            ("wide", "merge"),
            ("merge", "flat"),
            ("flat", "output"),
        ],
    )
    [(node, _, message)] = problems(graph)
    assert node == "merge" and "8x8x8 and 16x8x8" in message
    graph.set_param("wide", "out_channels", 8)
    assert problems(graph) == []


def test_token_ids_must_go_through_an_embedding() -> None:
    graph = build(
        ("Input", "input", {"shape": [16], "dtype": "int64"}),
        ("Linear", "fc", {}),
        ("Output", "output", {}),
    )
    assert problems(graph)[0][0] == "fc"
    graph = build(
        ("Input", "input", {"shape": [16]}), ("Embedding", "emb", {}), ("Output", "output", {})
    )
    assert problems(graph)[0][0] == "emb"


def test_attention_heads_must_divide_the_width() -> None:
    graph = build(
        ("Input", "input", {"shape": [10, 30]}),
        ("MultiheadAttention", "attn", {"num_heads": 4}),
        ("Output", "output", {}),
    )
    assert problems(graph)[0][:2] == ("attn", "num_heads")


def test_dead_branches_are_warned_about() -> None:
    graph = build(
        ("Input", "input", {"shape": [4]}),
        ("Linear", "used", {}),
        ("Linear", "unused", {}),
        ("Output", "output", {}),
        wires=[("input", "used"), ("used", "output"), ("input", "unused")],
    )
    result = analyse(graph)
    assert result.ok
    assert [d.node for d in result.diagnostics if d.severity == "warning"] == ["unused"]


def test_networks_too_big_for_memory_are_refused_before_allocating() -> None:
    graph = build(
        ("Input", "input", {"shape": [100_000]}),
        ("Linear", "huge", {"out_features": 100_000}),
        ("Output", "output", {}),
    )
    result = analyse(graph, memory_limit=2**30)
    [error] = result.errors
    assert error.node == "huge" and "GiB" in error.message
