"""Trained weights follow their layers when the network is only regrouped.

Grouping layers into a block (Ctrl+G), ungrouping, Find Repeated Blocks, Make Unique and
renaming a block or a layer move layers to new module paths (``conv1.weight`` becomes
``stem.conv1.weight``) without changing what the network computes. Weights keyed by the old
paths then no longer load, and the user would have to train again for an edit that changed
nothing. Here every layer of a compiled network gets a label from what it is (its module and
the shapes of its weights) and where it sits among the other layers, blocks opened and their
boundaries wired through: the same in two networks exactly when the layer computes the same
thing from the same place. Weights move from the old path to the new path of the layer with
the same label, or not at all when any layer differs. Weights files carry their labels
(engine/weights.py), so a file follows too.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from graphlib import TopologicalSorter
from typing import TypeVar

import torch
from torch import nn

from engine.compiler import BlockModule, CompileError, GraphModule, Step, compile_graph
from engine.graph import Graph

Value = tuple[str, str]  # (layer path, output): where a tensor comes from
Wire = tuple[Value, str, int]  # (source, target path, place among the target's inputs)
T = TypeVar("T")
INPUT_END, OUTPUT_END = "\0input", "\0output"


def module_labels(module: nn.Module) -> dict[str, str]:
    """Every layer's module path (``layer1.0.conv1``) -> its label: the same for two layers
    exactly when they are the same module with weights of the same shapes, fed and feeding
    alike. Several networks in one (a GAN's ModuleDict): each under its name."""
    if isinstance(module, nn.ModuleDict):
        return {
            f"{name}.{path}": f"{name}:{label}"
            for name, network in module.items()
            for path, label in module_labels(network).items()
        }
    if not isinstance(module, GraphModule):
        return {}
    layers: dict[str, str] = {}
    wires: list[Wire] = []
    # the network's own ends, named so no layer can be (a layer may be called input)
    inputs = [(INPUT_END, str(k)) for k in range(len(module.input_ids))]
    outputs = _open(module, "", inputs, layers, wires)
    wires += [(value, OUTPUT_END, place) for place, value in enumerate(outputs)]
    into: dict[str, list[Wire]] = defaultdict(list)
    out_of: dict[str, list[Wire]] = defaultdict(list)
    for wire in wires:
        into[wire[1]].append(wire)
        out_of[wire[0][0]].append(wire)
    order = _order(list(layers), [(w[0][0], w[1]) for w in wires])
    up: dict[str, str] = {}
    for path in order:
        fed = sorted((place, up.get(src[0], src[0]), src[1]) for src, _, place in into[path])
        up[path] = _digest((layers[path], fed))
    down: dict[str, str] = {}
    for path in reversed(order):
        feeding = sorted((src[1], down.get(to, to), place) for src, to, place in out_of[path])
        down[path] = _digest((layers[path], feeding))
    return {path: _digest((up[path], down[path])) for path in order}


def network_labels(graph: Graph) -> dict[str, str]:
    """`module_labels` of the network `graph` describes, built on torch's meta device (the
    shapes without making a single weight); {} when it does not compile."""
    try:
        with torch.device("meta"):
            return module_labels(compile_graph(graph))
    except (CompileError, RuntimeError, NotImplementedError, TypeError, ValueError):
        return {}


def layer_census(labels: Mapping[str, str]) -> Counter[str]:
    """How many layers of each label: two networks with the same census are the same layers,
    fed and feeding alike, however grouped into blocks (one's weights compute the same in the
    other)."""
    return Counter(labels.values())


def same_computation(first: Graph, second: Graph) -> bool:
    """Whether two networks compute the same with the same weights (see `layer_census`)."""
    census = layer_census(network_labels(first))
    return bool(census) and census == layer_census(network_labels(second))


def follow(
    states: Mapping[str, T], trained: Mapping[str, str], now: Mapping[str, str]
) -> dict[str, T] | None:
    """`states` (keyed ``PATH.weight``, labelled by `trained`) re-keyed for the layers `now`
    labels, or None when the two networks' layers differ (then the weights do not follow)."""
    if layer_census(trained) != layer_census(now):
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
    module: GraphModule,
    prefix: str,
    fed: Sequence[Value],
    layers: dict[str, str],
    wires: list[Wire],
) -> list[Value]:
    """Add `module`'s layers (block uses opened) under `prefix`; `fed`: what feeds each of its
    inputs. Returns what each of its outputs gives."""
    values: dict[str, Value] = dict(zip(module.input_ids, fed))
    for step in module.steps:
        layer = getattr(module, step.node)
        reads = [values.get(name, (prefix + name, "")) for name in step.inputs]
        if isinstance(layer, BlockModule):
            given = _open(layer, f"{prefix}{step.node}.", reads, layers, wires)
        else:
            path = prefix + step.node
            layers[path] = _describe(step, layer)
            wires.extend((value, path, place) for place, value in enumerate(reads))
            # a piece of a multi-output layer by its port alone (``sp:out1`` -> ``out1``)
            given = [(path, name.rsplit(":", 1)[-1]) for name in step.outputs] or [(path, "")]
        if step.outputs:
            values.update(zip(step.outputs, given))
        else:
            values[step.node] = given[0]
    return [values.get(name, (prefix + name, "")) for name in module.output_sources]


def _describe(step: Step, layer: nn.Module) -> str:
    """What a layer computes: its type and settings as the compiler recorded them (a module's
    repr leaves many out: heads, a reduction, which element-wise function), the module, and
    the shapes of its weights."""
    shapes = sorted((k, tuple(v.shape)) for k, v in layer.state_dict().items())
    return repr((step.settings, type(layer).__qualname__, repr(layer), shapes))


def _order(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """The layers in an order where each comes after those feeding it."""
    feeding: dict[str, set[str]] = {n: set() for n in nodes}
    for source, target in edges:
        if source in feeding and target in feeding:
            feeding[target].add(source)
    return list(TopologicalSorter(feeding).static_order())


def _digest(value: object) -> str:
    return hashlib.sha1(repr(value).encode(), usedforsecurity=False).hexdigest()[:20]
