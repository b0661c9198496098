"""Trained weights follow their layers when the network is only regrouped.

Grouping layers into a block (Ctrl+G), ungrouping, Find Repeated Blocks, Make Unique and
renaming a block move layers to new module paths (``conv1.weight`` becomes
``stem.conv1.weight``) without changing what the network computes. Weights keyed by the old
paths then no longer load, and the user would have to train again for an edit that changed
nothing. Here every layer gets a label from what it is and where it sits among the other
layers, blocks opened and their boundaries wired through: the same in both networks exactly
when the layer computes the same thing from the same place. Weights move from the old path
to the new path of the layer with the same label, or not at all when any layer differs.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any, TypeVar

from engine.blocks import (
    BLOCK,
    BLOCK_INPUT,
    BLOCK_OUTPUT,
    boundary_ids,
    definition_of,
    instantiate,
    port_names,
    use_values,
)
from engine.graph import Graph, PortRef
from engine.layers import layer_type

Value = tuple[str, str]  # (layer path, output port): where a tensor comes from
Wire = tuple[Value, str, str, int]  # (source, target path, target port, place on the port)
T = TypeVar("T")


def layer_labels(graph: Graph) -> dict[str, str]:
    """Every layer's module path (``layer1.0.conv1``) -> its label: the same for two layers
    exactly when they are the same kind with the same settings, fed and feeding alike."""
    layers: dict[str, str] = {}
    wires: list[Wire] = []
    _open(graph, "", {}, layers, wires)
    into: dict[str, list[Wire]] = defaultdict(list)
    out_of: dict[str, list[Wire]] = defaultdict(list)
    for wire in wires:
        into[wire[1]].append(wire)
        out_of[wire[0][0]].append(wire)
    order = _order(layers, wires)
    up: dict[str, str] = {}
    for path in order:
        feeds = sorted(
            (port, place, up.get(src[0], src[0]), src[1]) for src, _, port, place in into[path]
        )
        up[path] = _digest((layers[path], feeds))
    down: dict[str, str] = {}
    for path in reversed(order):
        feeding = sorted(
            (src[1], down.get(target, ""), port, place) for src, target, port, place in out_of[path]
        )
        down[path] = _digest((layers[path], feeding))
    return {path: _digest((up[path], down[path])) for path in order}


def follow(
    states: Mapping[str, T], trained: Mapping[str, str], now: Mapping[str, str]
) -> dict[str, T] | None:
    """`states` (keyed ``PATH.weight``, labelled by `trained`) re-keyed for the layers `now`
    labels, or None when the two networks' layers differ (then the weights do not follow)."""
    if Counter(trained.values()) != Counter(now.values()):
        return None
    by_label: dict[str, list[str]] = defaultdict(list)
    for path in sorted(now):
        by_label[now[path]].append(path)
    moved: dict[str, str] = {}
    for path in sorted(trained):
        moved[path] = by_label[trained[path]].pop(0)  # alike in every way: any is as good
    result: dict[str, T] = {}
    for key, value in states.items():
        owner = _owner(key, moved)
        result[key if owner is None else moved[owner] + key[len(owner) :]] = value
    return result


def _owner(key: str, paths: Mapping[str, str]) -> str | None:
    """The layer path a state key belongs to: the longest one that prefixes it."""
    parts = key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in paths:
            return candidate
    return None


def _open(
    graph: Graph,
    prefix: str,
    fed: Mapping[str, Value],
    layers: dict[str, str],
    wires: list[Wire],
) -> dict[str, Value]:
    """Add `graph`'s layers (blocks opened) under `prefix`; `fed`: what feeds each of its
    BlockInputs. Returns what each of its BlockOutputs gives."""
    made: dict[tuple[str, str], Value] = {}  # a block use's output port -> the inner value
    given: dict[str, Value] = {}

    def value(ref: PortRef) -> Value:
        return made.get((ref.node, ref.port), (prefix + ref.node, ref.port))

    for node_id in _graph_order(graph):
        node = graph.nodes[node_id]
        incoming: dict[str, list[PortRef]] = defaultdict(list)
        for edge in graph.edges_into(node_id):
            incoming[edge.target.port].append(edge.source)
        if node.type == BLOCK_INPUT:
            if node_id in fed:
                made[(node_id, "out")] = fed[node_id]
        elif node.type == BLOCK_OUTPUT:
            if incoming.get("in"):
                given[node_id] = value(incoming["in"][0])
        elif node.type == BLOCK and (found := definition_of(node, graph.blocks)) is not None:
            definition = found[1]
            inner, _ = instantiate(definition, use_values(node, definition))
            inputs = zip(boundary_ids(definition, BLOCK_INPUT), port_names(definition, BLOCK_INPUT))
            inner_fed = {i: value(incoming[p][0]) for i, p in inputs if incoming.get(p)}
            results = _open(inner, f"{prefix}{node_id}.", inner_fed, layers, wires)
            outputs = zip(
                boundary_ids(definition, BLOCK_OUTPUT), port_names(definition, BLOCK_OUTPUT)
            )
            for inner_id, port in outputs:
                if inner_id in results:
                    made[(node_id, port)] = results[inner_id]
        else:
            path = prefix + node_id
            layers[path] = _describe(node.type, node.params)
            for port, sources in incoming.items():
                wires.extend((value(s), path, port, place) for place, s in enumerate(sources))
    return given


def _describe(kind: str, params: Mapping[str, Any]) -> str:
    layer = layer_type(kind)
    values = layer.resolved(dict(params)) if layer is not None else dict(params)
    return repr((kind, sorted((k, repr(v)) for k, v in values.items())))


def _graph_order(graph: Graph) -> list[str]:
    """The nodes in an order where every node comes after those feeding it (loops last)."""
    edges = [(e.source.node, e.target.node) for e in graph.edges]
    return _kahn(list(graph.nodes), edges)


def _order(layers: Mapping[str, str], wires: list[Wire]) -> list[str]:
    return _kahn(list(layers), [(w[0][0], w[1]) for w in wires if w[0][0] in layers])


def _kahn(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    indegree = dict.fromkeys(nodes, 0)
    children: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        if source in indegree and target in indegree:
            indegree[target] += 1
            children[source].append(target)
    ready = [n for n in nodes if indegree[n] == 0]
    order: list[str] = []
    while ready:
        node = ready.pop()
        order.append(node)
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    ordered = set(order)
    return order + [n for n in nodes if n not in ordered]  # on a loop: the analysis reports it


def _digest(value: object) -> str:
    return hashlib.sha1(repr(value).encode(), usedforsecurity=False).hexdigest()[:20]
