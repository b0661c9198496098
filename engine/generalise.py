"""Two block definitions that differ only in channel counts and strides, as one definition
with parameters (docs/blocks.md, per-use parameters).

Import as blocks and Find Repeated Blocks cut one definition per group of layers; where a
new cut matches a known definition in everything but these sizes, the known definition
gains a parameter for each size that differs (its default the known value, so the uses it
already has keep theirs) and the new use sets its own values.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from engine.blocks import BLOCK, PARAM_KINDS, declared, reference
from engine.graph import Graph

# the layer parameters a use may set, and the block parameter each is named after
LOOSE = {"out_channels": "channels", "out_features": "features", "stride": "stride"}
Position = tuple[str, str]  # (node id, parameter)


def positions(definition: Graph, blocks: Mapping[str, Graph]) -> dict[Position, Any]:
    """The values a use may set: the sizes in `LOOSE`, and each inner block use's parameters
    (its default where it sets none); a reference stays a reference."""
    found: dict[Position, Any] = {}
    for node in definition:
        if node.type == BLOCK:
            used = blocks.get(str(node.params.get("block")))
            for key, default in declared(used).items() if used is not None else ():
                found[(node.id, key)] = node.params.get(key, default)
        else:
            for key in LOOSE:
                if key in node.params:
                    found[(node.id, key)] = node.params[key]
    return found


def loose_signature(definition: Graph, blocks: Mapping[str, Graph]) -> str:
    """What two definitions must share to be one with parameters: ids, types, wires and every
    parameter but the ones a use may set."""
    nodes = []
    for node in definition:
        if node.type == BLOCK:
            params: dict[str, Any] = {"block": node.params.get("block")}
        else:
            params = {k: ("*" if k in LOOSE else v) for k, v in node.params.items()}
        nodes.append([node.id, node.type, params])
    edges = [[e.source.node, e.source.port, e.target.node, e.target.port] for e in definition.edges]
    return json.dumps([nodes, edges], sort_keys=True, default=str)


def generalise(
    known: Graph, found: Graph, blocks: Mapping[str, Graph]
) -> tuple[Graph, dict[str, Any]] | None:
    """`known` widened to serve `found` too, and the values `found`'s use sets (only those
    other than the defaults); None when they differ in more than the sizes a use may set."""
    if loose_signature(known, blocks) != loose_signature(found, blocks):
        return None
    wanted = positions(found, blocks)
    params = declared(known)
    values: dict[str, Any] = {}
    new: dict[tuple[str, str], str] = {}  # (known value, found value) -> new parameter
    changes: dict[Position, str] = {}
    for (node_id, key), value in positions(known, blocks).items():
        other = wanted.get((node_id, key))
        name = reference(value)
        if name is not None:
            if name in values and not _same(values[name], other):
                return None
            values[name] = other
        elif not _same(value, other):
            if type(value) not in PARAM_KINDS or type(other) is not type(value):
                return None  # a list of strides per axis is no block parameter
            pair = (json.dumps(value), json.dumps(other))
            if pair not in new:
                stem = LOOSE.get(key, key)
                name, n = stem, 2
                while name in params:
                    name, n = f"{stem}{n}", n + 1
                params[name], new[pair] = value, name
            changes[(node_id, key)] = new[pair]
            values[new[pair]] = other
    widened = known
    if changes:
        widened = known.copy()
        widened.blocks = known.blocks
        widened.extra = {**copy.deepcopy(known.extra), "params": params}
        for (node_id, key), name in changes.items():
            widened.nodes[node_id].params[key] = {"param": name}
    return widened, {k: v for k, v in values.items() if not _same(v, params.get(k))}


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
