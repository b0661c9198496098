"""Undo commands: each one a few lines calling the graph's own methods.

The scene never edits the graph; it listens. So a command only has to change
the model, and redo/undo repaint themselves through the graph's signals.
Removing a node carries its wires as child commands so undo brings them back,
in their old order.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from engine.graph import Edge, Graph, Node
from engine.project import Project
from engine.settings import MISSING

SET_PARAM_ID = 1001
SET_VALUE_ID = 1002
SET_DEFAULT_ID = 1003


class Command(QUndoCommand):
    """An undo command whose child commands are run by Python, in order.

    Children are kept in a Python list rather than handed to Qt as C++
    children: PySide would otherwise let Python and C++ both own (and free)
    them. `redo` runs the children first to last, `undo` last to first.
    """

    def __init__(self, text: str, parent: Command | None = None) -> None:
        super().__init__(text)
        self.children: list[Command] = []
        if parent is not None:
            parent.children.append(self)

    def redo(self) -> None:
        for child in self.children:
            child.redo()

    def undo(self) -> None:
        for child in reversed(self.children):
            child.undo()


class AddNode(Command):
    """Add one layer; the id is fixed up front so redo recreates the same node."""

    def __init__(self, graph: Graph, node: Node, parent: Command | None = None) -> None:
        super().__init__(f"Add {node.type} '{node.id}'", parent)
        self.graph = graph
        self.node = copy.deepcopy(node)

    def redo(self) -> None:
        n = self.node
        self.graph.add_node(n.type, n.id, copy.deepcopy(n.params), n.position, n.extra)
        super().redo()

    def undo(self) -> None:
        super().undo()
        self.graph.remove_node(self.node.id)


class Connect(Command):
    """Add a wire; `index` places it among the wires (the order of a Concat's inputs), so a
    wire re-attached to a block node keeps the place of the wire it stands for."""

    def __init__(
        self, graph: Graph, edge: Edge, parent: Command | None = None, index: int | None = None
    ) -> None:
        super().__init__(f"Connect {edge.source.node} → {edge.target.node}", parent)
        self.graph = graph
        self.edge = edge
        self.index = index

    def redo(self) -> None:
        self.graph.connect(self.edge.source, self.edge.target, self.index)

    def undo(self) -> None:
        self.graph.disconnect(self.edge)


class Disconnect(Command):
    """Remove a wire, remembering its place among the wires for undo."""

    def __init__(self, graph: Graph, edge: Edge, parent: Command | None = None) -> None:
        super().__init__(f"Disconnect {edge.source.node} → {edge.target.node}", parent)
        self.graph = graph
        self.edge = edge
        self.index: int | None = None

    def redo(self) -> None:
        self.index = self.graph.edges.index(self.edge)
        self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.connect(self.edge.source, self.edge.target, self.index)


class RemoveNode(Command):
    """Remove a layer; `edges` (its wires not already removed) become child commands."""

    def __init__(
        self,
        graph: Graph,
        node_id: str,
        edges: list[Edge] | None = None,
        parent: Command | None = None,
    ) -> None:
        super().__init__(f"Delete '{node_id}'", parent)
        self.graph = graph
        self.node = copy.deepcopy(graph.node(node_id))
        self.index: int | None = None
        for edge in graph.edges_of(node_id) if edges is None else edges:
            Disconnect(graph, edge, self)

    def redo(self) -> None:
        super().redo()  # the wires first, so no wire is left dangling
        self.index = list(self.graph.nodes).index(self.node.id)
        self.graph.remove_node(self.node.id)

    def undo(self) -> None:
        n = self.node
        self.graph.add_node(n.type, n.id, copy.deepcopy(n.params), n.position, n.extra, self.index)
        super().undo()


class SetParam(Command):
    """Change one parameter. Consecutive edits of the same field merge into one step."""

    def __init__(
        self,
        graph: Graph,
        node_id: str,
        name: str,
        value: Any,
        merge: bool = False,
        parent: Command | None = None,
    ) -> None:
        super().__init__(f"Set {node_id}.{name} to {_short(value)}", parent)
        self.graph = graph
        self.node_id = node_id
        self.name = name
        self.old = copy.deepcopy(graph.node(node_id).params.get(name))
        self.new = copy.deepcopy(value)
        self.open = merge  # still accepting merges from the same editor

    def id(self) -> int:
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (
            isinstance(other, SetParam)
            and self.open
            and other.open
            and (other.node_id, other.name) == (self.node_id, self.name)
        ):
            return False
        self.new = other.new
        self.setText(f"Set {self.node_id}.{self.name} to {_short(self.new)}")
        return True

    def redo(self) -> None:
        self.graph.set_param(self.node_id, self.name, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.graph.set_param(self.node_id, self.name, copy.deepcopy(self.old))


class SetValue(Command):
    """Change one project setting ("training.optimizer.lr", "dataset.source"). Typing into one
    field merges into one step; undo removes what the edit created (a whole new section)."""

    def __init__(
        self,
        project: Project,
        path: str,
        value: Any,
        text: str,
        merge: bool = False,
        parent: Command | None = None,
    ) -> None:
        super().__init__(text, parent)
        self.project = project
        self.path = path
        self.old = copy.deepcopy(project.value(path))
        self.new = copy.deepcopy(value)
        self.created = _first_missing(project, path)  # what undo removes again, if anything
        self.open = merge

    def id(self) -> int:
        return SET_VALUE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (
            isinstance(other, SetValue) and self.open and other.open and other.path == self.path
        ):
            return False
        self.new = other.new
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self.project.set_value(self.path, copy.deepcopy(self.new))

    def undo(self) -> None:
        if self.created is not None:
            self.project.set_value(self.created, MISSING)
        else:
            self.project.set_value(self.path, copy.deepcopy(self.old))


def _first_missing(project: Project, path: str) -> str | None:
    """The shortest part of `path` (below its section) that the project does not have yet."""
    section, *keys = path.split(".")
    for end in range(1, len(keys) + 1):
        part = ".".join([section, *keys[:end]])
        if project.value(part) is MISSING:
            return part
    return None


class MoveNodes(Command):
    """Move any number of layers as one step (a drag, an auto-layout, an alignment)."""

    def __init__(
        self,
        graph: Graph,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        text: str | None = None,
    ) -> None:
        count = len(moves)
        default = f"Move '{next(iter(moves))}'" if count == 1 else f"Move {count} layers"
        super().__init__(text or default)
        self.graph = graph
        self.moves = dict(moves)

    def redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            self.graph.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            self.graph.move_node(node_id, old)


class RenameNode(Command):
    def __init__(self, graph: Graph, old_id: str, new_id: str) -> None:
        super().__init__(f"Rename '{old_id}' to '{new_id}'")
        self.graph = graph
        self.old_id = old_id
        self.new_id = new_id

    def redo(self) -> None:
        self.graph.rename_node(self.old_id, self.new_id)

    def undo(self) -> None:
        self.graph.rename_node(self.new_id, self.old_id)


class AddDefinition(Command):
    """Add a block definition to the project's shared `blocks` (grouping, Make Unique)."""

    def __init__(
        self,
        blocks: dict[str, Graph],
        name: str,
        definition: Graph,
        parent: Command | None = None,
    ) -> None:
        super().__init__(f"Add block '{name}'", parent)
        self.blocks = blocks
        self.name = name
        self.definition = definition

    def redo(self) -> None:
        self.definition.blocks = self.blocks
        self.blocks[self.name] = self.definition

    def undo(self) -> None:
        del self.blocks[self.name]


class RemoveDefinition(Command):
    """Drop a definition no node uses any more (ungrouping its last use); undo puts it back
    at its place in the project's order."""

    def __init__(self, blocks: dict[str, Graph], name: str, parent: Command | None = None) -> None:
        super().__init__(f"Remove block '{name}'", parent)
        self.blocks = blocks
        self.name = name
        self.definition = blocks[name]
        self.index = list(blocks).index(name)

    def redo(self) -> None:
        del self.blocks[self.name]

    def undo(self) -> None:
        items = list(self.blocks.items())
        items.insert(self.index, (self.name, self.definition))
        self.blocks.clear()  # the dict is shared by every graph of the project: edit in place
        self.blocks.update(items)


class RenameDefinition(Command):
    """Rename a definition in place (its order kept) and every use of it (child SetParams)."""

    def __init__(
        self, blocks: dict[str, Graph], old: str, new: str, uses: list[tuple[Graph, str]]
    ) -> None:
        super().__init__(f"Rename block '{old}' to '{new}'")
        self.blocks = blocks
        self.old = old
        self.new = new
        self.uses = uses

    def _rename(self, old: str, new: str) -> None:
        items = [(new if k == old else k, v) for k, v in self.blocks.items()]
        self.blocks.clear()
        self.blocks.update(items)
        for graph, node_id in self.uses:
            graph.set_param(node_id, "block", new)

    def redo(self) -> None:
        self._rename(self.old, self.new)

    def undo(self) -> None:
        self._rename(self.new, self.old)


class SetDeclared(Command):
    """Change the parameters a block definition declares (`"params"`, kept in its graph's
    `extra`); None removes the key. The definition's `changed` re-runs the analysis."""

    def __init__(
        self, graph: Graph, params: dict[str, Any] | None, parent: Command | None = None
    ) -> None:
        super().__init__("Change the block's parameters", parent)
        self.graph = graph
        self.old = copy.deepcopy(graph.extra.get("params"))
        self.new = copy.deepcopy(params)

    def _set(self, params: dict[str, Any] | None) -> None:
        if params is None:
            self.graph.extra.pop("params", None)
        else:
            self.graph.extra["params"] = copy.deepcopy(params)
        self.graph.changed.emit()

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


class SetDefault(SetDeclared):
    """Change the default of block parameter `name`: typing or scrolling in its field merges
    into one step until the field loses focus, as `SetParam` does."""

    def __init__(
        self, graph: Graph, params: dict[str, Any], name: str, merge: bool = False
    ) -> None:
        super().__init__(graph, params)
        self.name = name
        self.open = merge
        self.setText(f"Set the default of '{name}' to {_short(params.get(name))}")

    def id(self) -> int:
        return SET_DEFAULT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (
            isinstance(other, SetDefault)
            and self.open
            and other.open
            and other.graph is self.graph
            and other.name == self.name
        ):
            return False
        self.new = other.new
        self.setText(other.text())
        return True


class Macro(Command):
    """Several commands that undo as one step (paste, delete many, insert into a wire)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)


def graph_of(command: QUndoCommand | None) -> Graph | None:
    """The graph a command changes (a macro's: its first child's); None for non-graph edits
    (training settings, data). The document uses it to show a command's network on undo."""
    graph = getattr(command, "graph", None)
    if isinstance(graph, Graph):
        return graph
    for child in getattr(command, "children", []):
        found = graph_of(child)
        if found is not None:
            return found
    return None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:21] + "..."
