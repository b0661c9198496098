"""Property: for random valid chains and DAGs, inferred shapes and parameter counts are what torch produces."""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import analyse
from engine.compiler import compile_graph, example_inputs
from engine.graph import Graph, PortRef
from engine.layers import CATALOGUE
from engine.layers.base import Param, Shape

STARTS: dict[str, st.SearchStrategy[list[int]]] = {
    "vector": st.lists(st.integers(1, 24), min_size=1, max_size=1),
    "image": st.tuples(st.integers(1, 6), st.integers(4, 12), st.integers(4, 12)).map(list),
    "signal": st.tuples(st.integers(1, 6), st.integers(4, 20)).map(list),
    "sequence": st.tuples(st.integers(2, 8), st.sampled_from([4, 8, 12, 16])).map(list),
    "volume": st.tuples(
        st.integers(1, 4), st.integers(2, 6), st.integers(4, 8), st.integers(4, 8)
    ).map(list),
}
MIDDLE = sorted(
    name for name in CATALOGUE if name not in ("Input", "Output", "Add", "Multiply", "Concat")
)
WIDE = {
    "out_features",
    "out_channels",
    "hidden_size",
    "embedding_dim",
    "dim_feedforward",
    "num_embeddings",
}


def draw_param(data: st.DataObject, param: Param, shape: Shape) -> Any:
    if param.name == "shape":  # Reshape: keep the element count, one free axis
        size = math.prod(shape)
        divisors = [d for d in range(1, size + 1) if size % d == 0]
        return data.draw(st.sampled_from([[-1], [data.draw(st.sampled_from(divisors)), -1]]))
    if param.name == "order":
        return data.draw(st.permutations(list(range(len(shape)))))
    if param.kind == "bool":
        return data.draw(st.booleans())
    if param.kind == "choice":
        return data.draw(st.sampled_from(param.choices))
    if param.kind == "ints":
        return data.draw(
            st.lists(st.integers(0, 2), min_size=param.length or 1, max_size=param.length or 3)
        )
    if param.kind in ("int", "size"):
        low = int(param.minimum if param.minimum is not None else 0)
        high = low + (15 if param.name in WIDE else 3)
        if param.maximum is not None:
            high = min(high, int(param.maximum))
        return data.draw(st.integers(low, high))
    low = param.minimum if param.minimum is not None else 0.0
    return data.draw(st.floats(low, min(param.maximum if param.maximum is not None else 1.0, 0.5)))


def first_output(graph: Graph, node_id: str) -> PortRef:
    """The node's first output port (a Split has several)."""
    return PortRef(node_id, next(iter(analyse(graph).nodes[node_id].shapes), "out"))


def grow(data: st.DataObject, graph: Graph, tip: str, steps: int) -> str:
    """Append up to `steps` random layers after `tip`; each step tries a few until one is valid."""
    for _ in range(steps):
        shape = analyse(graph).nodes[tip].shape
        assert shape is not None
        for _attempt in range(8):
            layer = CATALOGUE[data.draw(st.sampled_from(MIDDLE))]
            params = {p.name: draw_param(data, p, shape) for p in layer.params if not p.optional}
            node = graph.add_node(layer.name, params=params)
            graph.connect(first_output(graph, tip), PortRef(node.id, "in"))
            if analyse(graph).nodes[node.id].shape is not None:
                tip = node.id
                break
            graph.remove_node(node.id)
    return tip


def check_against_torch(graph: Graph) -> None:
    analysis = analyse(graph)
    assert analysis.ok, [str(d) for d in analysis.errors]
    model = compile_graph(graph, analysis=analysis).eval()
    seen: dict[str, list[tuple[int, ...]]] = {}
    for name, module in model.named_children():
        module.register_forward_hook(
            lambda m, i, o, name=name: seen.__setitem__(
                name, [tuple(t.shape) for t in (o if isinstance(o, tuple) else (o,))]
            )
        )
    with torch.no_grad():
        model(*example_inputs(graph, batch=2))
    for name, module in model.named_children():
        expected = [(2, *shape) for shape in analysis.nodes[name].shapes.values()]
        assert seen[name] == expected, name
        assert sum(p.numel() for p in module.parameters()) == analysis.nodes[name].params, name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), start=st.sampled_from(sorted(STARTS)))
def test_random_chains_match_torch(data: st.DataObject, start: str) -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": data.draw(STARTS[start])})
    tip = grow(data, graph, "input", data.draw(st.integers(1, 6)))
    graph.add_node("Output", "output")
    graph.connect(first_output(graph, tip), PortRef("output", "in"))
    check_against_torch(graph)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    start=st.sampled_from(sorted(STARTS)),
    merge=st.sampled_from(["Add", "Multiply", "Concat"]),
)
def test_random_branching_graphs_match_torch(data: st.DataObject, start: str, merge: str) -> None:
    """Two branches from a common trunk, merged again: shape-preserving layers keep them compatible."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": data.draw(STARTS[start])})
    trunk = grow(data, graph, "input", data.draw(st.integers(0, 3)))
    keep = ["ReLU", "Tanh", "Dropout", "Identity", "GELU", "LayerNorm", "Sigmoid"]
    branches = []
    for _ in range(data.draw(st.integers(2, 3))):
        node = graph.add_node(data.draw(st.sampled_from(keep)))
        graph.connect(first_output(graph, trunk), PortRef(node.id, "in"))
        branches.append(node.id)
    merged = graph.add_node(merge, params={"axis": 0} if merge == "Concat" else {})
    for branch in branches:
        graph.connect(PortRef(branch, "out"), PortRef(merged.id, "in"))
    graph.add_node("Output", "output")
    graph.connect(PortRef(merged.id, "out"), PortRef("output", "in"))
    check_against_torch(graph)


@settings(max_examples=20, deadline=None)
@given(length=st.integers(2, 12), vocab=st.integers(2, 40), heads=st.sampled_from([1, 2, 4]))
def test_token_models_match_torch(length: int, vocab: int, heads: int) -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [length], "dtype": "int64"})
    graph.add_node("Embedding", "embed", {"num_embeddings": vocab, "embedding_dim": 8})
    graph.add_node("PositionalEncoding", "positions")
    graph.add_node(
        "TransformerEncoderLayer", "encoder", {"num_heads": heads, "dim_feedforward": 16}
    )
    graph.add_node("MultiheadAttention", "attention", {"num_heads": heads})
    graph.add_node("SequencePool", "pool")
    graph.add_node("Output", "output")
    ids = list(graph.nodes)
    for a, b in zip(ids, ids[1:]):
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    check_against_torch(graph)


PROTOTYPES = ([24], [3, 12, 12], [4, 16], [6, 16], [2, 4, 6, 6])


def default_graph(name: str, shape: list[int]) -> Graph:
    """Input -> the layer with its defaults -> Output: a layer of two ports reads the Input on
    both (optional ports are left unwired); a layer with no input is added to an Input of its own shape."""
    layer = CATALOGUE[name]
    graph = Graph()
    dtype = "int64" if name == "Embedding" else "float32"
    graph.add_node("Input", "input", {"shape": shape, "dtype": dtype})
    graph.add_node(name, "layer")
    graph.add_node("Output", "output")
    for port in layer.inputs:
        if not port.optional:  # an attention layer's padding mask stays unwired
            graph.connect(PortRef("input", "out"), PortRef("layer", port.name))
    tip = first_output(graph, "layer")
    if not layer.inputs:
        graph.add_node("Add", "join")
        graph.connect(tip, PortRef("join", "in"))
        graph.connect(PortRef("input", "out"), PortRef("join", "in"))
        tip = PortRef("join", "out")
    graph.connect(tip, PortRef("output", "in"))
    return graph


def test_every_layer_type_matches_torch_with_its_defaults() -> None:
    """Each catalogue layer, with default parameters, on the first prototype input it accepts
    (a layer with no input: on its own default shape)."""
    untested = []
    for name in CATALOGUE:
        if name in ("Input", "Output"):
            continue
        own = CATALOGUE[name].resolved({}).get("shape")
        prototypes = PROTOTYPES if CATALOGUE[name].inputs else (own,)
        for shape in prototypes:
            graph = default_graph(name, list(shape))
            if analyse(graph).ok:
                check_against_torch(graph)
                break
        else:
            untested.append(name)
    assert untested == []


BROADCASTING = ["Add", "Multiply", "Subtract", "Divide", "Power", "Maximum", "Minimum"]


@st.composite
def broadcastable(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Two per-sample shapes numpy broadcasts: a common shape, each input keeping its last
    axes, some of them size 1."""
    full = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    shapes = []
    for _ in range(2):
        kept = full[len(full) - draw(st.integers(1, len(full))) :]
        shapes.append([1 if draw(st.booleans()) else n for n in kept])
    return shapes[0], shapes[1]


@settings(max_examples=40, deadline=None)
@given(shapes=broadcastable(), name=st.sampled_from(BROADCASTING))
def test_broadcasting_between_two_inputs_matches_numpy(
    shapes: tuple[list[int], list[int]], name: str
) -> None:
    """Two Inputs of different shapes into one arithmetic layer: the shape on the wire is
    numpy's broadcast of the samples, and the numbers are numpy's on the whole batches."""
    import numpy as np

    a, b = shapes
    graph = Graph()
    graph.add_node("Input", "a", {"shape": a})
    graph.add_node("Input", "b", {"shape": b})
    graph.add_node(name, "op")
    graph.add_node("Output", "output")
    ports = [p.name for p in CATALOGUE[name].inputs]
    for source, port in zip(("a", "b"), ports * 2 if len(ports) == 1 else ports):
        graph.connect(PortRef(source, "out"), PortRef("op", port))
    graph.connect(PortRef("op", "out"), PortRef("output", "in"))
    analysis = analyse(graph)
    assert analysis.nodes["op"].shape == tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    check_against_torch(graph)
    x, y = (t.abs() + 0.5 for t in example_inputs(graph, batch=3))  # powers of positive bases
    with torch.no_grad():
        got = compile_graph(graph).eval()(x, y).numpy()
    lined = [t.numpy().reshape(3, *[1] * (len(got.shape) - t.dim()), *t.shape[1:]) for t in (x, y)]
    numpy_op = {
        "Add": np.add,
        "Multiply": np.multiply,
        "Subtract": np.subtract,
        "Divide": np.divide,
        "Power": np.power,
        "Maximum": np.maximum,
        "Minimum": np.minimum,
    }[name]
    np.testing.assert_allclose(got, numpy_op(*lined), rtol=1e-5)


def test_ceil_mode_pooling_drops_a_window_that_starts_in_the_padding() -> None:
    """Found by the branching property: torch's ceil_mode rule for the last window."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [1, 1, 1]})
    graph.add_node("AvgPool2d", "pool", {"kernel_size": 4, "padding": 2, "ceil_mode": True})
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef("pool", "in"))
    graph.connect(PortRef("pool", "out"), PortRef("output", "in"))
    assert analyse(graph).nodes["pool"].shape == (1, 1, 1)
    check_against_torch(graph)
