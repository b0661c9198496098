"""Find Repeated Blocks: repeated identical runs of layers in a graph a user built, proposed
as uses of one block definition before anything changes, and folded on request.

The layers are put in one stable topological order (ties broken by the graph's node order),
and every run of consecutive layers there is a candidate: a run in a topological order is
always convex, so folding it never makes a loop. Runs are the same when their layers have
the same types and parameters in the same order and are wired alike: inside the run by
position, from outside by which distinct outside port feeds them, and out of the run by the
same ports. The proposal covering the most layers wins (fewer layers per use on a tie, so a
chain of four blocks is four uses, not two of a double block); the rest is searched again.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.blocks import (
    BLOCK_INPUT,
    BLOCK_OUTPUT,
    block_problem,
    boundary_ids,
    declared,
    references,
)
from engine.generalise import LOOSE, generalise
from engine.graph import Graph, Node, PortRef, id_problem
from engine.grouping import Fold, cut, fold
from engine.layers import layer_type

_NOT_FOLDED = ("Input", "Output", BLOCK_INPUT, BLOCK_OUTPUT)
_ENDS = (BLOCK_INPUT, BLOCK_OUTPUT)


@dataclass(frozen=True)
class Proposal:
    """One definition to make: `uses[k]` are the node ids of use k, position by position
    (use 0's ids name the layers inside the definition)."""

    name: str
    uses: tuple[tuple[str, ...], ...]
    types: tuple[str, ...]  # the layer types of one use, in order

    def describe(self) -> str:
        where = "; ".join(", ".join(use) for use in self.uses)
        return f"{self.name}: {len(self.uses)} uses of {' > '.join(self.types)} ({where})"


@dataclass(frozen=True)
class Applied:
    """The folded graph, and where each folded layer went (``conv1_2`` -> ``block2.conv1``):
    the new names of its weights."""

    graph: Graph
    renamed: dict[str, str]


def stable_order(graph: Graph) -> list[str]:
    """A topological order of the graph, ready nodes taken in the graph's node order."""
    index = {node_id: i for i, node_id in enumerate(graph.nodes)}
    parents = dict.fromkeys(graph.nodes, 0)
    children: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if edge.source.node in index and edge.target.node in index:
            parents[edge.target.node] += 1
            children[edge.source.node].append(edge.target.node)
    ready = [index[n] for n, count in parents.items() if count == 0]
    heapq.heapify(ready)
    names = list(graph.nodes)
    order: list[str] = []
    while ready:
        node_id = names[heapq.heappop(ready)]
        order.append(node_id)
        for child in children[node_id]:
            parents[child] -= 1
            if parents[child] == 0:
                heapq.heappush(ready, index[child])
    return order  # nodes on a loop (an invalid graph) are left out


def find_repeats(graph: Graph, min_layers: int = 3, max_layers: int = 40) -> list[Proposal]:
    """What Find Repeated Blocks would fold: each proposal a definition and its uses (two or
    more, not overlapping), largest first. The graph is not changed."""
    sequence = [n for n in stable_order(graph) if graph.nodes[n].type not in _NOT_FOLDED]
    into: dict[str, list[tuple[str, PortRef]]] = {n: [] for n in graph.nodes}
    out_of: dict[str, list[tuple[PortRef, str]]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        into[edge.target.node].append((edge.target.port, edge.source))
        out_of[edge.source.node].append((edge.source, edge.target.node))
    kinds = {n: _kind(graph.nodes[n]) for n in sequence}
    sizes = {n: _sizes(graph.nodes[n]) for n in sequence}
    longest = min(max_layers, len(sequence) // 2)
    starts: dict[tuple[int, str], list[int]] = {}
    for length in range(min_layers, longest + 1):
        for start in range(len(sequence) - length + 1):
            key = _run_key(sequence[start : start + length], kinds, into, out_of, sizes)
            if key is not None:
                starts.setdefault((length, key), []).append(start)
    used = [False] * len(sequence)
    proposals: list[Proposal] = []
    taken_names = set(graph.blocks)
    while True:
        best: tuple[int, int, int, list[int]] | None = None
        for (length, _), found in starts.items():
            if len(found) < 2:
                continue
            picked = _apart(found, length, used)
            if len(picked) < 2:
                continue
            score = (len(picked) * length, -length, -picked[0])
            if best is None or score > best[:3]:
                best = (*score, picked)
        if best is None:
            return proposals
        picked, length = best[3], -best[1]
        uses = tuple(tuple(sequence[s : s + length]) for s in picked)
        for s in picked:
            used[s : s + length] = [True] * length
        types = tuple(graph.nodes[n].type for n in uses[0])
        name = _fresh_name(types[0] + "Block", taken_names)
        taken_names.add(name)
        proposals.append(Proposal(name, uses, types))


def _run_key(
    run: Sequence[str],
    kinds: dict[str, str],
    into: dict[str, list[tuple[str, PortRef]]],
    out_of: dict[str, list[tuple[PortRef, str]]],
    sizes: dict[str, list[int]],
) -> str | None:
    """What two runs share when they fold into one definition (None: nothing to fold, a run
    with no way in or out). Channel counts and strides may differ where they are alike
    inside each run (equal where the other run's are), so one definition with parameters
    serves both."""
    position = {n: i for i, n in enumerate(run)}
    outside: list[PortRef] = []
    layers = []
    exits: list[tuple[int, str]] = []
    for node_id in run:
        wires = []
        for port, source in into[node_id]:
            if source.node in position:
                wires.append([port, position[source.node], source.port])
            else:
                if source not in outside:
                    outside.append(source)
                wires.append([port, -1 - outside.index(source), ""])
        layers.append([kinds[node_id], wires])
        for source, target in out_of[node_id]:
            if target not in position and (position[node_id], source.port) not in exits:
                exits.append((position[node_id], source.port))
    if not outside or not exits:
        return None
    values = [v for node_id in run for v in sizes[node_id]]
    pattern = [values.index(v) for v in values]
    return json.dumps([layers, exits, pattern])


def _kind(node: Node) -> str:
    """A layer's type and parameters, whole-number sizes a use may set left out."""
    params = {k: "*" if k in LOOSE and _whole(v) else v for k, v in node.params.items()}
    return json.dumps([node.type, params], sort_keys=True, default=str)


def _sizes(node: Node) -> list[int]:
    return [v for k, v in sorted(node.params.items()) if k in LOOSE and _whole(v)]


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _apart(found: list[int], length: int, used: list[bool]) -> list[int]:
    """Starts of runs, left to right, that overlap neither each other nor folded layers."""
    picked: list[int] = []
    end = -1
    for start in found:
        if start >= end and not any(used[start : start + length]):
            picked.append(start)
            end = start + length
    return picked


def _fresh_name(stem: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "", stem) or "Block"
    if block_problem(stem):
        stem = "Block"
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}{n}", n + 1
    return name


def apply_repeats(graph: Graph, proposals: Sequence[Proposal]) -> Applied:
    """The graph with every proposal folded: use k of a proposal becomes a `Block` node
    (``block1``, ``block2``...), its layers named inside as use 0's are."""
    taken = set(graph.nodes)
    folds: list[Fold] = []
    renamed: dict[str, str] = {}
    definitions: dict[str, Graph] = {}
    for proposal in proposals:
        first = proposal.uses[0]
        found = [cut(graph, use, dict(zip(use, first))).definition for use in proposal.uses]
        widened: Graph | None = found[0]
        values: list[dict[str, Any]] = [{}]
        for other in found[1:]:  # the first use's sizes are the defaults
            assert widened is not None
            step = generalise(widened, other, graph.blocks)
            if step is None:
                raise ValueError(f"the uses of '{proposal.name}' differ in more than sizes")
            widened, given = step
            values.append(given)
        assert widened is not None
        definitions[proposal.name] = widened
        for use, given in zip(proposal.uses, values):
            folded = set(use)
            use_id = _fresh_id("block", taken - folded)
            taken = (taken - folded) | {use_id}
            inner = dict(zip(use, first))
            folds.append(Fold(proposal.name, use_id, tuple(use), inner, given))
            renamed.update({old: f"{use_id}.{new}" for old, new in inner.items()})
    return Applied(fold(graph, folds, definitions), renamed)


def _fresh_id(stem: str, taken: set[str]) -> str:
    n = 1
    while f"{stem}{n}" in taken or id_problem(f"{stem}{n}"):
        n += 1
    return f"{stem}{n}"


def known_blocks_for(graph: Graph, members: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """The definitions `members` could be a use of: the same layer types, as many distinct
    wires in and out, each with the values such a use sets (its layers' settings where the
    definition refers to a parameter, where they differ from its defaults). Grouping layers
    that were a use (ungrouped to look at them) tries these before it makes a new definition;
    the caller checks the network still computes the same (engine.weights_follow)."""
    inside = set(members)
    order = [n for n in stable_order(graph) if n in inside]
    kinds = sorted(graph.node(n).type for n in order)
    ins = {e.source for e in graph.edges if e.target.node in inside and e.source.node not in inside}
    outs = {
        e.source for e in graph.edges if e.source.node in inside and e.target.node not in inside
    }
    found = []
    for name, definition in graph.blocks.items():
        layers = [n for n in stable_order(definition) if definition.node(n).type not in _ENDS]
        if sorted(definition.node(n).type for n in layers) != kinds:
            continue
        if len(boundary_ids(definition, BLOCK_INPUT)) != len(ins):
            continue
        if len(boundary_ids(definition, BLOCK_OUTPUT)) != len(outs):
            continue
        counterpart = dict(zip(layers, order))  # inside the definition -> the member, in flow order
        values: dict[str, Any] = {}
        for (node_id, key), param in references(definition).items():
            member = graph.node(counterpart[node_id])
            layer = layer_type(member.type)
            value = layer.resolved(member.params).get(key) if layer else member.params.get(key)
            if values.setdefault(param, value) != value:
                break  # two layers the parameter sets disagree: not a use of it
        else:
            defaults = declared(definition)
            found.append((name, {k: v for k, v in values.items() if defaults.get(k) != v}))
    return found
