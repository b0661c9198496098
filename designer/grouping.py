"""Group layers into a block node (Ctrl+G) and ungroup a block node back (Ctrl+Shift+G).

Both build one undo macro from the graph as it is and never edit it themselves:
the document pushes the macro. Grouping turns the wires that cross the
selection's boundary into the block's ports (a `BlockInput` per outside output
feeding the selection, a `BlockOutput` per inside output read outside, named as
docs/blocks.md says), so every outside wire is kept, re-attached to the block
node at its old place among the wires (a Concat's input order holds). Ungrouping puts the
layers where the block was, their top-left corner at the block's, and moves aside only the
nodes they would cover (engine/layout.py `make_room`), in the same undo step.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from designer import commands as cmd
from designer.block_node import BLOCK_HEIGHT
from designer.node_item import NODE_HEIGHT, NODE_WIDTH
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
from engine.graph import Edge, Graph, Node, PortRef, id_problem
from engine.layout import COLUMN_WIDTH, ROW_HEIGHT, Box, make_room

GAP = 260.0  # the distance between a boundary node and the layers inside (a layer's pitch)
ROOM = (COLUMN_WIDTH - NODE_WIDTH, ROW_HEIGHT - NODE_HEIGHT)  # the space kept between cards
SNAP = 20.0  # the canvas grid


@dataclass(frozen=True)
class Grouping:
    """A prepared group: the macro to push, the new block node and its definition's name."""

    command: cmd.Macro
    node: str
    block: str


def free_id(base: str, taken: Collection[str]) -> str:
    """A free id near `base`: ``conv1`` -> ``conv1_2`` when taken."""
    if base not in taken and id_problem(base) is None:
        return base
    stem = re.sub(r"_\d+$", "", base) or "node"
    if id_problem(stem):
        stem = "node"
    n = 2
    while f"{stem}_{n}" in taken or id_problem(f"{stem}_{n}"):
        n += 1
    return f"{stem}_{n}"


def numbered(stem: str, taken: Collection[str], start: int = 1) -> str:
    """``Block1``, ``Block2``...: the first of `stem` + a number from `start` not in `taken`."""
    n = start
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def group_problem(graph: Graph, ids: list[str]) -> str | None:
    """Why these layers cannot become one block node, in the user's words; None when they can."""
    if not ids:
        return "Select the layers to group first (drag a box around them), then press Ctrl+G"
    for node_id in ids:
        kind = graph.node(node_id).type
        if kind in ("Input", "Output"):
            return f"Cannot group '{node_id}': the network's {kind} stays outside every block"
        if kind in (BLOCK_INPUT, BLOCK_OUTPUT):
            side = "enters" if kind == BLOCK_INPUT else "leaves"
            return f"Cannot group '{node_id}': it is where data {side} this block"
    inside = set(ids)
    if not any(e.target.node in inside and e.source.node not in inside for e in graph.edges):
        return "Cannot group: no wire leads into the selected layers (a block needs an input)"
    if not any(e.source.node in inside and e.target.node not in inside for e in graph.edges):
        return "Cannot group: no wire leaves the selected layers (a block needs an output)"
    through = _downstream(graph, inside) & _upstream(graph, inside)
    if through:
        name = sorted(through)[0]
        return (
            f"Cannot group: the wires leave the selection and come back through '{name}', "
            "so the block would feed itself; select that layer too, or fewer layers"
        )
    return None


def group(
    graph: Graph, ids: list[str], name: str, use_id: str, values: dict[str, Any] | None = None
) -> Grouping:
    """The macro that makes `ids` (checked by `group_problem`) definition `name`, used by a
    new block node `use_id` where the layers were. With `values`, `name` is a definition the
    project has and the node is a use of it setting those values (its ports in order: the
    caller checks the network computes the same, designer.document.group)."""
    inside = set(ids)
    edges = graph.edges
    incoming = [e for e in edges if e.target.node in inside and e.source.node not in inside]
    outgoing = [e for e in edges if e.source.node in inside and e.target.node not in inside]
    definition = Graph()
    xs = [graph.node(n).position[0] for n in ids]
    ys = [graph.node(n).position[1] for n in ids]
    left, top = min(xs), min(ys)
    for node_id in ids:
        node = graph.node(node_id)
        x, y = node.position
        definition.add_node(
            node.type,
            node.id,
            copy.deepcopy(node.params),
            (x - left + GAP, y - top),
            copy.deepcopy(node.extra),
        )
    for edge in edges:
        if edge.source.node in inside and edge.target.node in inside:
            definition.connect(edge.source, edge.target)
    outer_sources = _ordered(graph, [e.source for e in incoming])
    inner_sources = _ordered(graph, [e.source for e in outgoing])
    in_ids = _boundary(definition, "x", "in", len(outer_sources))
    out_ids = _boundary(definition, "out", "out", len(inner_sources))
    width = max(xs) - left + 2 * GAP
    for source, boundary in zip(outer_sources, in_ids):
        targets = [e.target for e in incoming if e.source == source]
        y = sum(definition.node(t.node).position[1] for t in targets) / len(targets)
        definition.add_node(BLOCK_INPUT, boundary, {}, (0.0, y))
        for target in targets:
            definition.connect(PortRef(boundary, "out"), target)
    for source, boundary in zip(inner_sources, out_ids):
        y = definition.node(source.node).position[1]
        definition.add_node(BLOCK_OUTPUT, boundary, {}, (width, y))
        definition.connect(source, PortRef(boundary, "in"))
    # boundary nodes in port order, before the layers: the file reads like the block's signature
    _reorder(definition, [*in_ids, *out_ids])
    serving = graph.blocks[name] if values is not None else definition
    in_ports = dict(zip(outer_sources, port_names(serving, BLOCK_INPUT)))
    out_ports = dict(zip(inner_sources, port_names(serving, BLOCK_OUTPUT)))

    macro = cmd.Macro(f"Group {len(ids)} layers into block '{name}'")
    if values is None:
        cmd.AddDefinition(graph.blocks, name, definition, macro)
    _remove_nodes(graph, ids, macro)
    # where the layers began (their top-left corner): ungrouping puts them back exactly there
    position = (round(left / 20) * 20, round(top / 20) * 20)
    cmd.AddNode(graph, Node(use_id, BLOCK, {"block": name, **(values or {})}, position), macro)
    replacements: list[tuple[Edge, Edge]] = []
    for source, port in in_ports.items():
        first = next(e for e in incoming if e.source == source)
        replacements.append((first, Edge(source, PortRef(use_id, port))))
    for edge in outgoing:
        replacements.append((edge, Edge(PortRef(use_id, out_ports[edge.source]), edge.target)))
    _reconnect(graph, inside, replacements, macro)
    return Grouping(macro, use_id, name)


def ungroup_problem(graph: Graph, ids: list[str]) -> str | None:
    """Why the selection cannot be ungrouped; None when it is one block node."""
    if len(ids) != 1 or graph.node(ids[0]).type != BLOCK:
        return "Select one block node to ungroup it (Ctrl+Shift+G)"
    if definition_of(graph.node(ids[0]), graph.blocks) is None:
        block = graph.node(ids[0]).params.get("block")
        return f"Cannot ungroup '{ids[0]}': the project has no block '{block}'"
    return None


def ungroup(graph: Graph, use_id: str, last_use: bool) -> tuple[cmd.Macro, list[str]]:
    """The macro that puts the layers of block node `use_id` back in its place, wires kept,
    moving aside the nodes they would cover (the definition goes too when `last_use`), and
    the new ids of those layers."""
    use = graph.node(use_id)
    found = definition_of(use, graph.blocks)
    assert found is not None
    name, definition = found
    # the layers come back with this use's values in place of the definition's references
    definition, _ = instantiate(definition, use_values(use, definition))
    port_of = dict(zip(boundary_ids(definition, BLOCK_INPUT), port_names(definition, BLOCK_INPUT)))
    port_of.update(
        zip(boundary_ids(definition, BLOCK_OUTPUT), port_names(definition, BLOCK_OUTPUT))
    )
    layers = [n for n in definition if n.type not in (BLOCK_INPUT, BLOCK_OUTPUT)]
    taken = set(graph.nodes) - {use_id}
    renamed: dict[str, str] = {}
    for node in layers:
        renamed[node.id] = free_id(node.id, taken)
        taken.add(renamed[node.id])
    into = {
        p: [e for e in graph.edges_into(use_id) if e.target.port == p] for p in port_of.values()
    }
    out_of = {
        p: [e for e in graph.edges_out_of(use_id) if e.source.port == p] for p in port_of.values()
    }
    # the layers take the block's place, their top-left corner where the block's was, and the
    # nodes they would now cover move aside just enough (engine/layout.py make_room)
    xs = [n.position[0] for n in layers] or [0.0]
    ys = [n.position[1] for n in layers] or [0.0]
    dx = use.position[0] - round(min(xs) / SNAP) * SNAP
    dy = use.position[1] - round(min(ys) / SNAP) * SNAP
    placed = {
        n.id: (round((n.position[0] + dx) / SNAP) * SNAP, round((n.position[1] + dy) / SNAP) * SNAP)
        for n in layers
    }
    region = _extent([(*placed[n.id], *card_size(n)) for n in layers])
    others = {n.id: box_of(n) for n in graph if n.id != use_id}
    pushed = make_room(box_of(use), region, others, ROOM, SNAP) if region else {}

    macro = cmd.Macro(f"Ungroup block '{use_id}' ({name})")
    cmd.RemoveNode(graph, use_id, parent=macro)
    if pushed:
        moves = {n: (graph.node(n).position, p) for n, p in pushed.items()}
        macro.children.append(cmd.MoveNodes(graph, moves, f"Make room for '{use_id}'"))
    for node in layers:
        moved = Node(
            renamed[node.id],
            node.type,
            copy.deepcopy(node.params),
            placed[node.id],
            copy.deepcopy(node.extra),
        )
        cmd.AddNode(graph, moved, macro)
    new_edges: list[tuple[Edge | None, Edge]] = []
    for edge in definition.edges:
        sources = _outer_sources(edge.source, renamed, into, port_of)
        if edge.target.node in renamed:
            target = PortRef(renamed[edge.target.node], edge.target.port)
            new_edges += [(None, Edge(s, target)) for s in sources]
        elif edge.target.node in port_of:  # into a BlockOutput: to what read that port outside
            for wire in out_of[port_of[edge.target.node]]:
                new_edges += [(wire, Edge(s, wire.target)) for s in sources]
    seen: set[Edge] = set()
    replacements = []
    for original, edge in new_edges:
        if edge not in seen:
            seen.add(edge)
            replacements.append((original, edge))
    _reconnect(graph, {use_id}, replacements, macro)
    if last_use:
        cmd.RemoveDefinition(graph.blocks, name, macro)
    return macro, list(renamed.values())


def card_size(node: Node) -> tuple[float, float]:
    """How much canvas a node's card covers (a block node is taller: it shows its inside)."""
    return NODE_WIDTH, BLOCK_HEIGHT if node.type == BLOCK else NODE_HEIGHT


def box_of(node: Node) -> Box:
    return (*node.position, *card_size(node))


def _extent(boxes: list[Box]) -> Box | None:
    """The smallest box around `boxes`; None for none."""
    if not boxes:
        return None
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return (left, top, right - left, bottom - top)


def _outer_sources(
    source: PortRef,
    renamed: dict[str, str],
    into: dict[str, list[Edge]],
    port_of: dict[str, str],
) -> list[PortRef]:
    """What an inner wire's source becomes outside: the renamed layer, or, from a BlockInput,
    whatever fed the block node's matching port."""
    if source.node in renamed:
        return [PortRef(renamed[source.node], source.port)]
    return [e.source for e in into.get(port_of.get(source.node, ""), [])]


def _reconnect(
    graph: Graph,
    removed: set[str],
    replacements: list[tuple[Edge | None, Edge]] | list[tuple[Edge, Edge]],
    macro: cmd.Macro,
) -> None:
    """Connect each new wire where the wire it replaces was among the wires that stay (after
    the nodes in `removed` and their wires went); one with nothing to replace goes last."""
    order = {edge: i for i, edge in enumerate(graph.edges)}
    kept = [order[e] for e in graph.edges if not (removed & {e.source.node, e.target.node})]
    placed: list[float] = []
    end = float(len(order))
    for original, edge in sorted(
        replacements, key=lambda r: order[r[0]] if r[0] is not None else end
    ):
        rank = order[original] if original is not None else end
        index = sum(k < rank for k in kept) + sum(p < rank for p in placed)
        placed.append(rank if original is not None else end + len(placed))
        cmd.Connect(graph, edge, macro, index if original is not None else None)


def _remove_nodes(graph: Graph, ids: list[str], macro: cmd.Macro) -> None:
    claimed: set[Edge] = set()
    for node_id in ids:
        edges = [e for e in graph.edges_of(node_id) if e not in claimed]
        claimed.update(edges)
        cmd.RemoveNode(graph, node_id, edges, macro)


def _ordered(graph: Graph, refs: list[PortRef]) -> list[PortRef]:
    """Distinct ports, top to bottom on the canvas (the block's ports read the same way)."""
    unique = list(dict.fromkeys(refs))
    return sorted(unique, key=lambda r: graph.node(r.node).position[1])


def _boundary(definition: Graph, single: str, stem: str, count: int) -> list[str]:
    names = [single] if count == 1 else [f"{stem}{i + 1}" for i in range(count)]
    return [free_id(n, definition.nodes) for n in names]


def _reorder(definition: Graph, first: list[str]) -> None:
    nodes = definition.nodes
    order = [*first, *(n for n in nodes if n not in first)]
    reordered = {n: nodes[n] for n in order}
    nodes.clear()
    nodes.update(reordered)


def _downstream(graph: Graph, inside: set[str]) -> set[str]:
    return _reach(graph, inside, forward=True)


def _upstream(graph: Graph, inside: set[str]) -> set[str]:
    return _reach(graph, inside, forward=False)


def _reach(graph: Graph, inside: set[str], forward: bool) -> set[str]:
    """Outside nodes reachable from the selection along (or against) the wires."""
    step: dict[str, list[str]] = {}
    for e in graph.edges:
        a, b = (e.source.node, e.target.node) if forward else (e.target.node, e.source.node)
        step.setdefault(a, []).append(b)
    found: set[str] = set()
    stack = [n for s in inside for n in step.get(s, []) if n not in inside]
    while stack:
        node = stack.pop()
        if node in found or node in inside:
            continue
        found.add(node)
        stack.extend(step.get(node, []))
    return found


__all__ = ["BLOCK", "Grouping", "free_id", "group", "group_problem", "ungroup", "ungroup_problem"]
