"""Cutting a set of layers out of a graph into a block definition, and folding sets of
layers into uses of definitions (docs/blocks.md).

Shared by import as blocks (one fold per module scope) and Find Repeated Blocks (one fold
per repeat). A fold never edits the graph it is given: it returns a new one, so a caller
can show what would change first and swap the graph (or undo) as one step.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT
from engine.generalise import generalise
from engine.graph import Edge, Graph, Node, PortRef, copy_blocks


@dataclass(frozen=True)
class Cut:
    """A definition made from some layers of a graph, and how its ports meet the rest:
    `inputs[i]` is the outside port feeding BlockInput i, `outputs[j]` the member port
    BlockOutput j carries out (both in the graph's own node ids)."""

    definition: Graph
    inputs: tuple[PortRef, ...]
    outputs: tuple[PortRef, ...]


@dataclass(frozen=True)
class Fold:
    """Members of a graph (ids, in any order) to become one use `use_id` of definition `name`;
    `inner` gives each member's id inside the definition (default: its own id)."""

    name: str
    use_id: str
    members: tuple[str, ...]
    inner: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)  # the use's block parameters


def boundary_names(count: int, stem: str) -> list[str]:
    """Ids of boundary nodes: ``x``, ``x2``, ``x3``... (``out``, ``out2``... for outputs)."""
    return [stem if i == 0 else f"{stem}{i + 1}" for i in range(count)]


def cut(graph: Graph, members: Iterable[str], inner: Mapping[str, str] | None = None) -> Cut:
    """The definition holding `members` (in the order given, renamed by `inner`), its boundary
    and wires ordered by the members' order and each member's wires in wire order, so two
    groups built alike and given alike give identical definitions."""
    ordered = [graph.nodes[m] for m in dict.fromkeys(members)]
    member_set = {n.id for n in ordered}
    inner = inner or {}
    rename = {m: inner.get(m, m) for m in member_set}
    into: dict[str, list[Edge]] = {}
    out_of: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        into.setdefault(edge.target.node, []).append(edge)
        out_of.setdefault(edge.source.node, []).append(edge)
    sources: list[PortRef] = []
    exits: list[PortRef] = []
    for node in ordered:
        for edge in into.get(node.id, []):
            if edge.source.node not in member_set and edge.source not in sources:
                sources.append(edge.source)
        for edge in out_of.get(node.id, []):
            if edge.target.node not in member_set and edge.source not in exits:
                exits.append(edge.source)
    ins = boundary_names(len(sources), "x")
    outs = boundary_names(len(exits), "out")
    nodes = [Node(i, BLOCK_INPUT) for i in ins]
    nodes += [
        Node(rename[n.id], n.type, copy.deepcopy(n.params), n.position, copy.deepcopy(n.extra))
        for n in ordered
    ]
    nodes += [Node(o, BLOCK_OUTPUT) for o in outs]
    edges: list[Edge] = []
    for node in ordered:  # wires by the member they go into, each member's in wire order
        for edge in into.get(node.id, []):
            if edge.source.node in member_set:
                source = PortRef(rename[edge.source.node], edge.source.port)
            else:
                source = PortRef(ins[sources.index(edge.source)], "out")
            edges.append(Edge(source, PortRef(rename[node.id], edge.target.port)))
    for exit_port, out_id in zip(exits, outs):
        edges.append(Edge(PortRef(rename[exit_port.node], exit_port.port), PortRef(out_id, "in")))
    definition = Graph.from_parts(nodes, edges)
    return Cut(definition, tuple(sources), tuple(exits))


def signature(definition: Graph) -> str:
    """What makes two definitions the same: node ids, types, parameters and wires in order
    (positions and unknown keys left out)."""
    nodes = [[n.id, n.type, n.params] for n in definition]
    edges = [[e.source.node, e.source.port, e.target.node, e.target.port] for e in definition.edges]
    return json.dumps([nodes, edges], sort_keys=True, default=str)


def convex(graph: Graph, members: Iterable[str]) -> bool:
    """True when no path leaves the members and comes back (a block there would loop)."""
    member_set = set(members)
    children: dict[str, list[str]] = {}
    for edge in graph.edges:
        children.setdefault(edge.source.node, []).append(edge.target.node)
    # outside nodes reachable from the members; any member among their descendants is a loop
    stack = [c for m in member_set for c in children.get(m, []) if c not in member_set]
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for child in children.get(current, []):
            if child in member_set:
                return False
            stack.append(child)
    return True


def port_of(definition: Graph, kind: str, index: int) -> str:
    """The use's port name for boundary node `index` of `kind` (see blocks.port_names)."""
    ids = [n.id for n in definition if n.type == kind]
    if len(ids) == 1:
        return "in" if kind == BLOCK_INPUT else "out"
    return ids[index]


def fold(
    graph: Graph, folds: Sequence[Fold], definitions: Mapping[str, Graph] | None = None
) -> Graph:
    """A new graph with each fold's members replaced by one `Block` use, wires kept in order.

    Each fold's definition is cut from its members; folds naming one definition must cut the
    same one, up to the fold's `values` for its parameters (else ValueError). `definitions` may give a definition to use for a name (cut
    elsewhere); the new graph's `blocks` are the old ones plus the new definitions."""
    made: dict[str, Graph] = dict(definitions or {})
    cuts: list[Cut] = []
    owner: dict[str, int] = {}
    for index, spec in enumerate(folds):
        found = cut(graph, spec.members, spec.inner)
        known = made.get(spec.name) or graph.blocks.get(spec.name)
        if known is None:
            made[spec.name] = found.definition
        elif not _serves(known, found.definition, spec.values, {**graph.blocks, **made}):
            raise ValueError(f"the layers for use '{spec.use_id}' differ from block '{spec.name}'")
        cuts.append(found)
        for member in spec.members:
            if member in owner:
                raise ValueError(f"'{member}' is in two folds")
            owner[member] = index
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    first_member = {i: min(order[m] for m in f.members) for i, f in enumerate(folds)}
    nodes: list[Node] = []
    for position, node in enumerate(graph):
        held_by = owner.get(node.id)
        if held_by is None:
            nodes.append(copy.deepcopy(node))
        elif first_member[held_by] == position:
            spec = folds[held_by]
            members = [graph.nodes[m] for m in spec.members]
            x = sum(m.position[0] for m in members) / len(members)
            y = sum(m.position[1] for m in members) / len(members)
            params = {"block": spec.name, **spec.values}
            nodes.append(Node(spec.use_id, BLOCK, params, (x, y)))
    edges: list[Edge] = []
    seen: set[Edge] = set()
    for edge in graph.edges:
        source_fold = owner.get(edge.source.node)
        target_fold = owner.get(edge.target.node)
        if source_fold is not None and source_fold == target_fold:
            continue  # inside one definition
        source, target = edge.source, edge.target
        if source_fold is not None:
            found = cuts[source_fold]
            port = port_of(found.definition, BLOCK_OUTPUT, found.outputs.index(source))
            source = PortRef(folds[source_fold].use_id, port)
        if target_fold is not None:
            found = cuts[target_fold]
            port = port_of(found.definition, BLOCK_INPUT, found.inputs.index(edge.source))
            target = PortRef(folds[target_fold].use_id, port)
        new = Edge(source, target)
        if new not in seen:  # one wire per port pair: the definition fans it out inside
            seen.add(new)
            edges.append(new)
    folded = Graph.from_parts(nodes, edges)
    folded.extra = copy.deepcopy(graph.extra)
    blocks = copy_blocks(graph.blocks)  # the given graph's definitions stay as they are
    blocks.update(made)
    for definition in blocks.values():
        definition.blocks = blocks
    folded.blocks = blocks
    return folded


def _serves(
    known: Graph, found: Graph, values: Mapping[str, Any], blocks: Mapping[str, Graph]
) -> bool:
    """Whether a use of `known` with `values` holds the layers `found` cut."""
    widened = generalise(known, found, blocks)
    return widened is not None and widened[0] is known and widened[1] == dict(values)


def layers_of(graph: Graph, prefix: str = "") -> Iterator[tuple[str, Node]]:
    """Every node of the network with its path (``layer1.0.conv1``), the nodes inside each
    block use in place of the use, once per use; the blocks' boundary nodes left out."""
    for node in graph:
        name = node.params.get("block")
        if node.type == BLOCK and isinstance(name, str) and name in graph.blocks:
            yield from layers_of(graph.blocks[name], f"{prefix}{node.id}.")
        elif node.type not in (BLOCK_INPUT, BLOCK_OUTPUT):
            yield prefix + node.id, node
