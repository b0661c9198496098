"""The graph document: nodes, ports, edges, and the signals an editor mirrors.

The graph is a plain Python model with psygnal signals so that the Qt editor
can listen without the engine knowing Qt exists. Every edit goes through a
method here; each method emits exactly one past-tense signal describing it.
"""

from __future__ import annotations

import copy
import keyword
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from psygnal import Signal

# A letter first; or a small whole number, as nn.Sequential names its children (a stage's
# block uses `0`, `1`: weights `layer1.0.conv1.weight`).
NODE_ID_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9_]{0,63}|0|[1-9][0-9]{0,3})$")
# Attributes of torch's nn.Module (and of the compiled module): a node named like one
# would shadow it, because compiled layers are attributes named by node id.
RESERVED_IDS = frozenset(
    "T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda "
    "double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter "
    "get_submodule half input_id input_ids ipu load_state_dict modules mtia named_buffers named_children "
    "named_modules named_parameters output_source parameters register_backward_hook register_buffer "
    "register_forward_hook register_forward_pre_hook register_full_backward_hook "
    "register_full_backward_pre_hook register_load_state_dict_post_hook "
    "register_load_state_dict_pre_hook register_module register_parameter "
    "register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state "
    "set_submodule share_memory state_dict steps to to_empty train training type xpu zero_grad".split()
)


def id_problem(name: str) -> str | None:
    """Why `name` cannot name a node, or None when it can."""
    if not NODE_ID_PATTERN.match(name):
        return (
            f"'{name}' is not a usable name: use up to 64 letters, digits and _, starting with "
            "a letter (or a whole number below 10000)"
        )
    if name in RESERVED_IDS or keyword.iskeyword(name):
        return f"'{name}' is a reserved word; pick another name"
    return None


class GraphError(ValueError):
    """An edit the graph refuses (unknown node, duplicate id, ...)."""


@dataclass(frozen=True)
class PortRef:
    """One end of a wire: a port on a node."""

    node: str
    port: str

    def to_json(self) -> dict[str, str]:
        return {"node": self.node, "port": self.port}


@dataclass(frozen=True)
class Edge:
    """A wire from an output port to an input port."""

    source: PortRef
    target: PortRef

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source.to_json(), "target": self.target.to_json()}


@dataclass
class Node:
    """One layer on the canvas. `extra` keeps keys this version does not know."""

    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(
            {
                "id": self.id,
                "type": self.type,
                "params": copy.deepcopy(self.params),
                "position": [round(self.position[0], 2), round(self.position[1], 2)],
            }
        )
        return data


class Graph:
    """A directed graph of layers. Edits emit signals; reads are plain."""

    node_added = Signal(object)  # Node
    node_removed = Signal(object)  # Node
    edge_added = Signal(object)  # Edge
    edge_removed = Signal(object)  # Edge
    param_changed = Signal(str, str, object)  # node id, parameter, new value
    node_moved = Signal(str, object)  # node id, (x, y)
    node_renamed = Signal(str, str)  # old id, new id
    changed = Signal()  # after any edit: re-run shape inference, mark modified

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        self.extra: dict[str, Any] = {}
        # the project's block definitions by name, one dict shared by its networks and by
        # every definition (so nested uses resolve); see engine/blocks.py
        self.blocks: dict[str, Graph] = {}

    # ----------------------------------------------------------------- reads
    @property
    def nodes(self) -> dict[str, Node]:
        return self._nodes

    @property
    def edges(self) -> list[Edge]:
        return self._edges

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node '{node_id}'") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def edges_into(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if e.target.node == node_id]

    def edges_out_of(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if e.source.node == node_id]

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if node_id in (e.source.node, e.target.node)]

    def unique_id(self, base: str) -> str:
        """A fresh node id derived from `base` (``conv`` -> ``conv``, ``conv_2``...)."""
        stem = re.sub(r"[^A-Za-z0-9_]", "_", base).strip("_").lower()[:50] or "node"
        if not stem[0].isalpha():
            stem = "n_" + stem
        if id_problem(stem):
            stem = stem + "_layer"
        if stem not in self._nodes:
            return stem
        n = 2
        while f"{stem}_{n}" in self._nodes:
            n += 1
        return f"{stem}_{n}"

    def would_create_cycle(self, source_node: str, target_node: str) -> bool:
        """True when a wire source -> target would close a loop."""
        if source_node == target_node:
            return True
        stack, seen = [target_node], set()
        while stack:
            current = stack.pop()
            if current == source_node:
                return True
            if current in seen:
                continue
            seen.add(current)
            stack.extend(e.target.node for e in self._edges if e.source.node == current)
        return False

    # ----------------------------------------------------------------- edits
    def add_node(
        self,
        type_name: str,
        node_id: str | None = None,
        params: dict[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        extra: dict[str, Any] | None = None,
        index: int | None = None,
    ) -> Node:
        """Add a node; `index` puts it back at its old place in the node order (undo), which
        is the order a network reads several Inputs and the order the file lists nodes."""
        node_id = node_id or self.unique_id(type_name)
        if node_id in self._nodes:
            raise GraphError(f"a node named '{node_id}' already exists")
        node = Node(
            id=node_id,
            type=type_name,
            params=dict(params or {}),
            position=(float(position[0]), float(position[1])),
            extra=dict(extra or {}),
        )
        if index is None or index >= len(self._nodes):
            self._nodes[node_id] = node
        else:
            items = list(self._nodes.items())
            items.insert(index, (node_id, node))
            self._nodes = dict(items)
        self.node_added.emit(node)
        self.changed.emit()
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its wires; returns both so an undo can restore them."""
        node = self.node(node_id)
        removed = self.edges_of(node_id)
        for edge in removed:
            self._edges.remove(edge)
            self.edge_removed.emit(edge)
        del self._nodes[node_id]
        self.node_removed.emit(node)
        self.changed.emit()
        return node, removed

    def connect(self, source: PortRef, target: PortRef, index: int | None = None) -> Edge:
        """Add a wire. Only structural nonsense is refused; shape problems are diagnostics.

        `index` puts the wire back where it was (undo): the order of wires into a
        Concat is the order of its inputs.
        """
        edge = Edge(source, target)
        if edge in self._edges:
            raise GraphError("these ports are already connected")
        if index is None:
            self._edges.append(edge)
        else:
            self._edges.insert(index, edge)
        self.edge_added.emit(edge)
        self.changed.emit()
        return edge

    def disconnect(self, edge: Edge) -> None:
        try:
            self._edges.remove(edge)
        except ValueError:
            raise GraphError("that wire does not exist") from None
        self.edge_removed.emit(edge)
        self.changed.emit()

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set a parameter; returns the previous value (a missing one is None)."""
        node = self.node(node_id)
        old = node.params.get(name)
        if value is None:
            node.params.pop(name, None)
        else:
            node.params[name] = value
        self.param_changed.emit(node_id, name, value)
        self.changed.emit()
        return old

    def move_node(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.position = (float(position[0]), float(position[1]))
        self.node_moved.emit(node_id, node.position)

    def rename_node(self, old_id: str, new_id: str) -> None:
        """Give a node a new id; its wires follow it."""
        if old_id == new_id:
            return
        problem = id_problem(new_id)
        if problem:
            raise GraphError(problem)
        if new_id in self._nodes:
            raise GraphError(f"a node named '{new_id}' already exists")
        node = self.node(old_id)
        self._nodes = {(new_id if k == old_id else k): v for k, v in self._nodes.items()}
        node.id = new_id
        self._edges = [_rename_in_edge(e, old_id, new_id) for e in self._edges]
        self.node_renamed.emit(old_id, new_id)
        self.changed.emit()

    # ------------------------------------------------------------ conversion
    def copy(self) -> Graph:
        """A deep copy with no listeners: the immutable snapshot training runs on."""
        clone = Graph()
        clone._nodes = {k: copy.deepcopy(v) for k, v in self._nodes.items()}
        clone._edges = list(self._edges)
        clone.extra = copy.deepcopy(self.extra)
        clone.blocks = copy_blocks(self.blocks)
        return clone

    def _copy_alone(self, blocks: dict[str, Graph]) -> Graph:
        clone = Graph()
        clone._nodes = {k: copy.deepcopy(v) for k, v in self._nodes.items()}
        clone._edges = list(self._edges)
        clone.extra = copy.deepcopy(self.extra)
        clone.blocks = blocks
        return clone

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = copy.deepcopy(self.extra)
        data["nodes"] = [n.to_json() for n in self._nodes.values()]
        data["edges"] = [e.to_json() for e in self._edges]
        return data

    @classmethod
    def from_parts(cls, nodes: Iterable[Node], edges: Iterable[Edge]) -> Graph:
        """Build a graph without emitting signals (loading, snapshots)."""
        graph = cls()
        for node in nodes:
            graph._nodes[node.id] = node
        graph._edges = list(edges)
        return graph


def copy_blocks(blocks: dict[str, Graph]) -> dict[str, Graph]:
    """A deep copy of a project's definitions, each sharing the new dict (so nesting holds)."""
    copied: dict[str, Graph] = {}
    for name, definition in blocks.items():
        copied[name] = definition._copy_alone(copied)
    return copied


def _rename_in_edge(edge: Edge, old: str, new: str) -> Edge:
    source = PortRef(new, edge.source.port) if edge.source.node == old else edge.source
    target = PortRef(new, edge.target.port) if edge.target.node == old else edge.target
    return Edge(source, target)
