"""The document: one project, its undo history, and its latest analysis.

Every edit the user makes goes through a method here, which pushes a small
undo command; the commands call the graph's methods and the scene repaints
from the graph's signals. The engine's analysis is the only source of shapes
and diagnostics: it re-runs after edits, coalesced by a zero-timer so a burst
of changes (a paste, an undo of a big delete) is analysed once.

A project of several networks (a GAN) is edited one network at a time: the
document shows one (`network`, `graph`), `show_network` switches, and every
network's edits share the one undo stack. Each command holds the graph it
changes, so undo first shows that command's network, then undoes it there.

Blocks are edited the same way: entering a block node (`enter_block`) makes the
document show its definition (`trail` is the way in, one `Level` per block
node entered), so every edit method works inside unchanged, and undo first
goes to the graph a command changed (designer/grouping.py builds the group and
ungroup steps). `analysis` is the shown graph's (inside a block: the analysis
of the definition at the use entered through); `network_analysis()` is the
network's.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from designer import block_library, grouping
from designer import commands as cmd
from engine.analysis import Analysis, Diagnostic, analyse, analyse_block
from engine.block_library import LibraryBlock
from engine.block_params import (
    BlockParamError,
    ParamChange,
    ParamUsage,
    change_default,
    remove_param,
    rename_param,
    still_referred,
    usage,
)
from engine.blocks import (
    BLOCK,
    PARAM_KINDS,
    REFERENCE,
    block_problem,
    declared,
    definition_of,
    param_name_problem,
    reference,
    uses_of,
)
from engine.costs import NetworkCost
from engine.device_memory import cost_problems, project_cost
from engine.graph import Edge, Graph, GraphError, Node, PortRef, id_problem
from engine.layers import layer_type
from engine.layout import layered_positions
from engine.problems import ProjectReport, project_problems
from engine.project import Project
from engine.repeats import Proposal, apply_repeats, known_blocks_for
from engine.settings import settings_problems


@dataclass(frozen=True)
class Level:
    """One step into a block: the definition shown, and the block node entered through
    (None when undo went to a definition no node on the way uses)."""

    block: str
    node: str | None


class Document(QObject):
    """Owns the Project and the QUndoStack; the single way to edit the graph."""

    analysed = Signal(object)  # Analysis, after every (coalesced) re-analysis
    project_replaced = Signal()  # a different project (or graph) is now open
    modified_changed = Signal(bool)
    read_only_changed = Signal(bool)
    message = Signal(str)  # a short note for the status bar (refusals, locks)
    network_shown = Signal(str)  # another network of a multi-network project is now shown
    trail_changed = Signal()  # a block was entered or left: another graph is shown

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.undo_stack.indexChanged.connect(self._stepped)
        self.trail: tuple[Level, ...] = ()  # the blocks entered, outermost first
        self._watched: list[Graph] = []  # the definitions whose edits re-run the analysis
        self._network_analysis = Analysis()
        self._read_only = False
        self._analysis = Analysis()
        self._costs: tuple[tuple[int, str], NetworkCost] | None = None
        self._whole_costs: tuple[tuple[int, str], NetworkCost] | None = None
        self.training_device: str | None = None  # where the window trains; None: the project's
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.analyse_now)
        self.project = project or Project(name="untitled")
        self.network = _first_network(self.project)  # the network shown; None with only one
        self._report: ProjectReport | None = None
        self._listen(self.project)
        self.analyse_now()

    # ------------------------------------------------------------- project
    @property
    def graph(self) -> Graph:
        """The graph being edited: the network shown, or inside a block its definition."""
        if self.trail and self.trail[-1].block in self.project.blocks:
            return self.project.blocks[self.trail[-1].block]
        return self.network_graph

    @property
    def network_graph(self) -> Graph:
        """The project's one network, or the shown one of several (whatever block is entered)."""
        if self.network is not None and self.network in self.project.networks:
            return self.project.networks[self.network]
        return self.project.graph

    def load(self, project: Project) -> None:
        """Open another project in this document; history starts afresh."""
        self._unlisten(self.project)
        self.project = project
        self.network = _first_network(project)
        self.trail = ()
        self._listen(project)
        self.undo_stack.clear()
        self.analyse_now()
        self.project_replaced.emit()
        self.analysed.emit(self._analysis)
        self.modified_changed.emit(False)

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def _listen(self, project: Project) -> None:
        for graph in project.named_graphs().values():  # a join between networks may change
            graph.changed.connect(self.schedule_analysis)
        project.value_changed.connect(self._value_changed)
        self._watch_definitions()

    def _unlisten(self, project: Project) -> None:
        for graph in project.named_graphs().values():
            graph.changed.disconnect(self.schedule_analysis)
        project.value_changed.disconnect(self._value_changed)
        for graph in self._watched:
            graph.changed.disconnect(self.schedule_analysis)
        self._watched = []

    def _watch_definitions(self) -> None:
        """Listen to every definition the project has now (grouping adds some, undo drops)."""
        for graph in self.project.blocks.values():
            if not any(graph is w for w in self._watched):
                graph.changed.connect(self.schedule_analysis)
                self._watched.append(graph)

    def _stepped(self, _index: int) -> None:
        """After any undo step: new definitions are watched, a block gone is left."""
        self._watch_definitions()
        self.schedule_analysis()
        self._set_trail(self._repaired_trail())

    def _repaired_trail(self) -> tuple[Level, ...]:
        """The trail after an edit: a renamed definition followed, a vanished one left."""
        graph, kept = self.network_graph, []
        for level in self.trail:
            node = graph.nodes.get(level.node) if level.node is not None else None
            found = definition_of(node, self.project.blocks) if node is not None else None
            if found is not None:
                kept.append(Level(found[0], level.node))
                graph = found[1]
            elif level.block in self.project.blocks:
                kept.append(level)
                graph = self.project.blocks[level.block]
            else:
                break
        return tuple(kept)

    def _value_changed(self, path: str, value: Any) -> None:
        self.schedule_analysis()  # settings and data have problems of their own

    # ------------------------------------------------------------ networks
    def show_network(self, name: str) -> bool:
        """Show (and edit) another network of a multi-network project; False if there is none."""
        if name not in self.project.networks:
            return False
        if name != self.network or self.trail:
            self.network = name
            self.trail = ()
            self.trail_changed.emit()
            self._analyse()
            self.network_shown.emit(name)  # the scene mirrors the new graph
            self.analysed.emit(self._analysis)
        return True

    def network_of(self, graph: Graph | None) -> str | None:
        """The name of a graph of this project (None for a single-network project's graph)."""
        return next((n for n, g in self.project.networks.items() if g is graph), None)

    def _show_command(self, index: int) -> None:
        """Before undoing or redoing the command at `index`: show the network (or the block
        definition) it changes."""
        if not 0 <= index < self.undo_stack.count():
            return
        graph = cmd.graph_of(self.undo_stack.command(index))
        if graph is None or graph is self.graph:
            return
        name = self.network_of(graph)
        if self.project.is_multi_network and name is not None:
            self.show_network(name)
        elif graph is self.network_graph:
            self._set_trail(())
        else:
            block = next((n for n, g in self.project.blocks.items() if g is graph), None)
            if block is not None:
                self._set_trail(self._way_to(block))

    # -------------------------------------------------------------- blocks
    def enter_block(self, node_id: str) -> bool:
        """Show the definition of block node `node_id` of the shown graph, to edit it there."""
        node = self.graph.nodes.get(node_id)
        found = definition_of(node, self.project.blocks) if node is not None else None
        if node is None or node.type != BLOCK:
            self.message.emit("Double-click a block node to open its definition")
            return False
        if found is None:
            self.message.emit(f"The project has no block '{node.params.get('block')}'")
            return False
        self._set_trail((*self.trail, Level(found[0], node_id)))
        return True

    def leave_block(self, depth: int | None = None) -> bool:
        """Go back out: one level, or to `depth` blocks deep (0: the network)."""
        if not self.trail:
            return False
        depth = len(self.trail) - 1 if depth is None else max(0, min(depth, len(self.trail)))
        self._set_trail(self.trail[:depth])
        return True

    def enter_path(self, path: tuple[str, ...]) -> bool:
        """From the network, enter block node after block node (a problem's way in)."""
        self._set_trail(())
        return all(self.enter_block(node_id) for node_id in path)

    def uses(self, block: str) -> int:
        """How many block nodes (in every network and definition) use definition `block`."""
        return uses_of(self.project.blocks, self.project.named_graphs()).get(block, 0)

    def _set_trail(self, trail: tuple[Level, ...]) -> None:
        if trail == self.trail:
            return
        self.trail = trail
        if self._timer.isActive():  # an edit not analysed yet: the shapes inside need it
            self._timer.stop()
            self._analyse_network()
        self._analysis = self._inside(self._network_analysis)
        self.trail_changed.emit()  # the scene mirrors the definition now shown
        self.analysed.emit(self._analysis)

    def _way_to(self, block: str) -> tuple[Level, ...]:
        """The trail to definition `block`: back along the trail, else the first way in
        from the network through block nodes, else the definition on its own."""
        for i, level in enumerate(self.trail):
            if level.block == block:
                return self.trail[: i + 1]
        queue: list[tuple[Graph, tuple[Level, ...]]] = [(self.network_graph, ())]
        while queue:
            graph, trail = queue.pop(0)
            for node in graph:
                found = definition_of(node, self.project.blocks)
                if found is None or any(lv.block == found[0] for lv in trail):
                    continue
                way = (*trail, Level(found[0], node.id))
                if found[0] == block:
                    return way
                queue.append((found[1], way))
        return (Level(block, None),)

    def _inside(self, analysis: Analysis) -> Analysis:
        """The analysis of the graph shown: inside a block, its definition's at the use
        entered through (on its own, shapes unknown, when there is none)."""
        for level in self.trail:
            info = analysis.nodes.get(level.node) if level.node is not None else None
            if info is not None and info.inner is not None and info.block == level.block:
                analysis = info.inner
            elif level.block in self.project.blocks:
                analysis = analyse_block(level.block, self.project.blocks[level.block])
        return analysis

    # ------------------------------------------------------------ analysis
    @property
    def analysis(self) -> Analysis:
        return self._analysis

    def set_training_device(self, device: str) -> None:
        """The device the window trains on (its toolbar's): the does-not-fit warning asks it."""
        if device != self.training_device:
            self.training_device = device
            self.schedule_analysis()

    @property
    def costs(self) -> NetworkCost:
        """The shown network's memory and arithmetic at the project's batch size; kept until
        the next analysis or a change of the batch size or optimizer."""
        key = (id(self._analysis), repr(self.project.training))
        if self._costs is None or self._costs[0] != key:
            self._costs = (key, project_cost(self.project, self._analysis, graph=self.graph))
        return self._costs[1]

    @property
    def network_costs(self) -> NetworkCost:
        """The whole network's costs, also while a block is entered (what a run needs)."""
        if self._analysis is self._network_analysis:
            return self.costs
        key = (id(self._network_analysis), repr(self.project.training))
        if self._whole_costs is None or self._whole_costs[0] != key:
            whole = project_cost(self.project, self._network_analysis, graph=self.network_graph)
            self._whole_costs = (key, whole)
        return self._whole_costs[1]

    def network_analysis(self, name: str | None = None) -> Analysis:
        """The analysis of network `name` of a multi-network project; the shown one's otherwise
        (the network's, also while a block is entered)."""
        if self._report is not None and name is not None and name != self.network:
            return self._report.analyses.get(name, Analysis())
        return self._network_analysis

    def schedule_analysis(self) -> None:
        self._timer.start()

    def analyse_now(self) -> Analysis:
        self._timer.stop()
        self._analyse()
        self.analysed.emit(self._analysis)
        return self._analysis

    def _analyse(self) -> None:
        self._analyse_network()
        self._analysis = self._inside(self._network_analysis)

    def _analyse_network(self) -> None:
        if not self.project.is_multi_network:
            self._report = None
            self._network_analysis = analyse(self.project.graph)
            return
        # every network, the recipe and the shapes joining the networks (engine.problems);
        # the shown network's analysis carries the joins' problems too, so its nodes show them
        self._report = project_problems(self.project)
        own = self._report.analyses.get(self.network or "", Analysis())
        joins = [
            d
            for d in self._report.problems
            if d.network == self.network
            and d.node is not None
            and replace(d, network=None) not in own.diagnostics
        ]
        self._network_analysis = replace(own, diagnostics=[*own.diagnostics, *joins])

    def problems(self) -> list[Diagnostic]:
        """Every diagnostic: the graph's, then the training settings' (of a multi-network
        project: every network's, each tagged with its network, and the recipe's)."""
        if self._report is not None:
            return list(self._report.problems)
        network = self._network_analysis
        return (
            list(network.diagnostics)
            + settings_problems(self.project, network)
            + cost_problems(self.project, network, self.network_costs, self.training_device)
        )

    # ----------------------------------------------------------- read-only
    @property
    def read_only(self) -> bool:
        return self._read_only

    def set_read_only(self, locked: bool) -> None:
        """Lock the graph (while training runs): every edit, undo and redo is refused."""
        if locked == self._read_only:
            return
        self._read_only = locked
        self.read_only_changed.emit(locked)

    def _editable(self) -> bool:
        if self._read_only:
            self.message.emit("The graph is locked while training runs; stop training to edit it.")
        return not self._read_only

    def _push(self, command: QUndoCommand) -> bool:
        if not self._editable():
            return False
        self.undo_stack.push(command)
        return True

    def undo(self) -> None:
        if self._editable():
            self._show_command(self.undo_stack.index() - 1)
            self.undo_stack.undo()

    def redo(self) -> None:
        if self._editable():
            self._show_command(self.undo_stack.index())
            self.undo_stack.redo()

    # --------------------------------------------------------------- edits
    def add_node(
        self,
        type_name: str,
        position: tuple[float, float] = (0.0, 0.0),
        params: dict[str, Any] | None = None,
        node_id: str | None = None,
    ) -> str | None:
        """Add a layer of `type_name`; returns its id, or None when refused."""
        if node_id is not None and node_id in self.graph:
            self.message.emit(f"a layer named '{node_id}' already exists")
            return None
        node = Node(node_id or self._fresh_id(type_name), type_name, dict(params or {}), position)
        return node.id if self._push(cmd.AddNode(self.graph, node)) else None

    def remove_nodes(self, node_ids: Iterable[str]) -> None:
        """Delete layers with their wires, as one step."""
        ids = [n for n in dict.fromkeys(node_ids) if n in self.graph]
        if not ids:
            return
        if len(ids) == 1:
            self._push(cmd.RemoveNode(self.graph, ids[0]))
            return
        macro = cmd.Macro(f"Delete {len(ids)} layers")
        claimed: set[Edge] = set()
        for node_id in ids:
            edges = [e for e in self.graph.edges_of(node_id) if e not in claimed]
            claimed.update(edges)
            cmd.RemoveNode(self.graph, node_id, edges, macro)
        self._push(macro)

    def remove(self, node_ids: Iterable[str], edges: Iterable[Edge]) -> None:
        """Delete a selection of layers and wires as one step."""
        ids = [n for n in dict.fromkeys(node_ids) if n in self.graph]
        loose = [e for e in dict.fromkeys(edges) if e in self.graph.edges and not _touches(e, ids)]
        if not loose:
            self.remove_nodes(ids)
            return
        if not ids and len(loose) == 1:
            self._push(cmd.Disconnect(self.graph, loose[0]))
            return
        macro = cmd.Macro(f"Delete {len(ids) + len(loose)} items")
        for edge in loose:
            cmd.Disconnect(self.graph, edge, macro)
        claimed: set[Edge] = set()
        for node_id in ids:
            own = [e for e in self.graph.edges_of(node_id) if e not in claimed]
            claimed.update(own)
            cmd.RemoveNode(self.graph, node_id, own, macro)
        self._push(macro)

    def add_wire(self, source: PortRef, target: PortRef, replacing: Edge | None = None) -> bool:
        """Draw a wire (re-plugging `replacing` when given) as one step."""
        edge = Edge(source, target)
        if edge in self.graph.edges:
            return False
        if replacing is None or replacing not in self.graph.edges:
            return self._push(cmd.Connect(self.graph, edge))
        macro = cmd.Macro(f"Reconnect {source.node} → {target.node}")
        cmd.Disconnect(self.graph, replacing, macro)
        cmd.Connect(self.graph, edge, macro)
        return self._push(macro)

    def remove_wire(self, edge: Edge) -> None:
        if edge in self.graph.edges:
            self._push(cmd.Disconnect(self.graph, edge))

    def set_param(self, node_id: str, name: str, value: Any, merge: bool = False) -> bool:
        """Change a parameter; `merge` folds consecutive edits of one field into one step."""
        node = self.graph.nodes.get(node_id)
        if node is None or node.params.get(name) == value:
            return False
        return self._push(cmd.SetParam(self.graph, node_id, name, value, merge))

    def set_value(
        self, path: str, value: Any, merge: bool = False, text: str | None = None
    ) -> bool:
        """Change a project setting (``training.optimizer.lr``, ``dataset.source``) as one step;
        `merge` folds consecutive edits of one field into one step. False when nothing changed
        or editing is locked."""
        if self.project.value(path) == value:
            return False
        label = text or f"Set {path} to {_short(value)}"
        return self._push(cmd.SetValue(self.project, path, value, label, merge))

    def set_many(
        self,
        values: dict[str, Any],
        params: dict[tuple[str, str], Any],
        text: str,
        extra: Iterable[cmd.Command] = (),
    ) -> bool:
        """Change several settings (by path) and layer parameters (by (node, parameter)) as
        one step (Apply Best of a search); `extra` commands join the step. False when nothing
        changed or editing is locked."""
        macro = cmd.Macro(text)
        for path, value in values.items():
            if self.project.value(path) != value:
                cmd.SetValue(self.project, path, value, f"Set {path}", parent=macro)
        for (node_id, name), value in params.items():
            node = self.graph.nodes.get(node_id)
            if node is not None and node.params.get(name) != value:
                cmd.SetParam(self.graph, node_id, name, value, parent=macro)
        macro.children.extend(extra)
        return bool(macro.children) and self._push(macro)

    def replace_contents(
        self,
        graphs: dict[str, Graph],
        values: dict[str, Any],
        text: str,
        extra: Iterable[cmd.Command] = (),
    ) -> bool:
        """Replace networks (by name: "network" for a project of one) and settings (by path,
        MISSING removes) as one step: restoring a recorded run. `extra` commands join it."""
        macro = cmd.Macro(text)
        targets = self.project.named_graphs()
        for name, replacement in graphs.items():
            graph = targets.get(name)
            if graph is None:
                continue
            _replace_contents(graph, replacement, macro)
        for path, value in values.items():
            if self.project.value(path) != value:
                cmd.SetValue(self.project, path, value, f"Set {path}", parent=macro)
        macro.children.extend(extra)
        return self._push(macro)

    def end_merge(self) -> None:
        """The editor lost focus: the next edit of the same field is a new step."""
        top = self.undo_stack.command(self.undo_stack.index() - 1)
        if isinstance(top, (cmd.SetParam, cmd.SetValue, cmd.SetDefault)):
            top.open = False

    def move_nodes(
        self, positions: dict[str, tuple[float, float]], text: str | None = None
    ) -> bool:
        moves = {
            node_id: (self.graph.node(node_id).position, (float(x), float(y)))
            for node_id, (x, y) in positions.items()
            if node_id in self.graph and self.graph.node(node_id).position != (x, y)
        }
        return bool(moves) and self._push(cmd.MoveNodes(self.graph, moves, text))

    def rename(self, old_id: str, new_id: str) -> str | None:
        """Rename a layer; returns why not (shown to the user) or None when done."""
        if new_id == old_id:
            return None
        problem = id_problem(new_id)
        if problem is None and new_id in self.graph:
            problem = f"a layer named '{new_id}' already exists"
        if problem:
            self.message.emit(problem)
            return problem
        self._push(cmd.RenameNode(self.graph, old_id, new_id))
        return None

    def auto_layout(self) -> None:
        """Lay the network out left to right by depth (engine/layout.py), one undo step."""
        self.move_nodes(layered_positions(self.graph), "Auto-layout")

    def insert_into_wire(
        self, type_name: str, edge: Edge, position: tuple[float, float]
    ) -> str | None:
        """Add a layer and splice it into `edge`, as one step; None if it has no in/out port."""
        layer = layer_type(type_name)
        if layer is None or not layer.inputs or not layer.outputs or edge not in self.graph.edges:
            return None
        node = Node(self._fresh_id(type_name), type_name, {}, position)
        out = layer.outputs_for(layer.resolved({}))[0]
        macro = cmd.Macro(f"Insert {type_name} into {edge.source.node} → {edge.target.node}")
        cmd.AddNode(self.graph, node, macro)
        cmd.Disconnect(self.graph, edge, macro)
        cmd.Connect(self.graph, Edge(edge.source, PortRef(node.id, layer.inputs[0].name)), macro)
        cmd.Connect(self.graph, Edge(PortRef(node.id, out.name), edge.target), macro)
        return node.id if self._push(macro) else None

    def paste(self, nodes: list[Node], edges: list[Edge], offset: tuple[float, float]) -> list[str]:
        """Add copies of `nodes` (fresh ids) and the wires among them; returns the new ids."""
        if not nodes:
            return []
        renamed: dict[str, str] = {}
        taken = set(self.graph.nodes)
        macro = cmd.Macro(f"Paste {len(nodes)} layer" + ("s" if len(nodes) != 1 else ""))
        for node in nodes:
            new_id = grouping.free_id(node.id, taken)
            taken.add(new_id)
            renamed[node.id] = new_id
            x, y = node.position
            copied = Node(
                new_id,
                node.type,
                copy.deepcopy(node.params),
                (x + offset[0], y + offset[1]),
                copy.deepcopy(node.extra),
            )
            cmd.AddNode(self.graph, copied, macro)
        for edge in edges:
            if edge.source.node in renamed and edge.target.node in renamed:
                new_edge = Edge(
                    PortRef(renamed[edge.source.node], edge.source.port),
                    PortRef(renamed[edge.target.node], edge.target.port),
                )
                cmd.Connect(self.graph, new_edge, macro)
        return list(renamed.values()) if self._push(macro) else []

    # --------------------------------------------------------- block edits
    def group(self, node_ids: Iterable[str]) -> str | None:
        """Turn layers into one block node of a new definition ("Block1"), wires kept, as one
        step; the new node's id, or None (the reason goes to the status bar)."""
        graph = self.graph
        ids = [n for n in graph.nodes if n in set(node_ids)]
        problem = grouping.group_problem(graph, ids)
        if problem is not None:
            self.message.emit(problem)
            return None
        use_id = grouping.numbered("block", graph.nodes)
        known = self._known_block_for(ids, use_id)
        if known is not None:
            name, values = known
            made = grouping.group(graph, ids, name, use_id, values)
            if not self._push(made.command):
                return None
            self.message.emit(
                f"Grouped {len(ids)} layers as a use of block '{name}': they are its layers "
                f"(now used {self.uses(name)} times); right-click it > Make Unique for a copy"
            )
            return made.node
        name = grouping.numbered("Block", self.project.blocks)
        made = grouping.group(graph, ids, name, use_id)
        if not self._push(made.command):
            return None
        self.message.emit(
            f"Grouped {len(ids)} layers into block '{name}': double-click it to open it, "
            "right-click it to rename the block"
        )
        return made.node

    def _known_block_for(self, ids: list[str], use_id: str) -> tuple[str, dict[str, Any]] | None:
        """A definition the project has that the layers are a use of (as ungrouping a use
        leaves them), with the values the use sets: tried on a copy of the network and kept
        only when it computes the same. At a network's top (inside a block its network would
        have to be rebuilt for the check)."""
        if self.trail:
            return None
        candidates = known_blocks_for(self.graph, ids)
        if not candidates:
            return None
        from engine.weights_follow import layer_census, network_labels  # torch: loaded late

        now = layer_census(network_labels(self.graph))
        for name, values in candidates:
            trial = self.graph.copy()
            grouping.group(trial, ids, name, use_id, values).command.redo()
            if now and layer_census(network_labels(trial)) == now:
                return name, values
        return None

    def ungroup(self, node_ids: Iterable[str]) -> list[str]:
        """Put a block node's layers back in its place, wires kept, as one step; their ids."""
        graph = self.graph
        ids = [n for n in dict.fromkeys(node_ids) if n in graph]
        problem = grouping.ungroup_problem(graph, ids)
        if problem is not None:
            self.message.emit(problem)
            return []
        block = str(graph.node(ids[0]).params["block"])
        macro, made = grouping.ungroup(graph, ids[0], self.uses(block) == 1)
        return made if self._push(macro) else []

    def make_unique(self, node_id: str) -> str | None:
        """Give block node `node_id` a copy of its definition of its own ("BasicBlock2"), so
        edits inside it change only this node; the copy's name, or None."""
        node = self.graph.nodes.get(node_id)
        found = definition_of(node, self.project.blocks) if node is not None else None
        if found is None:
            self.message.emit("Select a block node to make it unique")
            return None
        name, definition = found
        if self.uses(name) == 1:
            self.message.emit(f"'{node_id}' is already the only use of block '{name}'")
            return None
        stem = re.sub(r"\d+$", "", name) or "Block"
        new = grouping.numbered(stem, self.project.blocks, start=2)
        copied = definition.copy()
        macro = cmd.Macro(f"Make '{node_id}' unique: block '{new}'")
        cmd.AddDefinition(self.project.blocks, new, copied, macro)
        cmd.SetParam(self.graph, node_id, "block", new, parent=macro)
        if not self._push(macro):
            return None
        self.message.emit(f"'{node_id}' now uses its own copy, block '{new}'")
        return new

    def rename_block(self, old: str, new: str) -> str | None:
        """Rename a definition and every use of it, as one step; why not, or None when done."""
        problem = block_problem(new) if new != old else None
        if problem is None and new != old and new in self.project.blocks:
            problem = f"the project already has a block named '{new}'"
        if problem is None and old not in self.project.blocks:
            problem = f"the project has no block '{old}'"
        if problem:
            self.message.emit(problem)
            return problem
        if new == old:
            return None
        graphs = [*self.project.named_graphs().values(), *self.project.blocks.values()]
        uses = [
            (g, n.id) for g in graphs for n in g if n.type == BLOCK and n.params.get("block") == old
        ]
        command = cmd.RenameDefinition(self.project.blocks, old, new, uses)
        return None if self._push(command) else "editing is locked"

    def add_library_block(self, block: LibraryBlock, position: tuple[float, float]) -> str | None:
        """Add a library block: its definition (reused when the project has the same one,
        renamed when the name is taken by another) and a node using it, as one step."""
        node_id = grouping.numbered("block", self.graph.nodes)
        macro, name = block_library.add_command(self.graph, block, node_id, position)
        if not self._push(macro):
            return None
        self.message.emit(f"Added block '{name}' from the library: double-click it to open it")
        return node_id

    def fold_repeats(self, proposals: Sequence[Proposal]) -> list[str]:
        """Fold each proposal's runs into uses of one new definition (Find Repeated Blocks),
        as one step; the new block nodes' ids."""
        if not proposals:
            return []
        graph = self.graph
        folded = apply_repeats(graph, proposals).graph
        macro = cmd.Macro(f"Fold repeated layers into {len(proposals)} block(s)")
        for name, definition in folded.blocks.items():
            if name not in self.project.blocks:
                cmd.AddDefinition(self.project.blocks, name, definition, macro)
        _replace_contents(graph, folded, macro)
        before = {n.id for n in graph if n.type == BLOCK}
        if not self._push(macro):
            return []
        return [n.id for n in folded if n.type == BLOCK and n.id not in before]

    # ------------------------------------------------------ per-use values
    @property
    def block_shown(self) -> str | None:
        """The name of the definition shown (a block entered), None at a network's top."""
        if self.trail and self.trail[-1].block in self.project.blocks:
            return self.trail[-1].block
        return None

    def link_param(
        self, node_id: str, name: str, block_param: str, default: Any = None
    ) -> str | None:
        """Make parameter `name` of layer `node_id` (inside the definition shown) take block
        parameter `block_param` from each use, declaring it with `default` first when the
        definition does not have it, as one step; why not, or None when done."""
        block = self.block_shown
        node = self.graph.nodes.get(node_id)
        if block is None or node is None:
            return "open a block (double-click its node) to make its parameters per use"
        definition = self.graph
        params = declared(definition)
        if block_param not in params:
            problem = param_name_problem(definition, block_param)
            if problem is None and type(default) not in PARAM_KINDS:
                problem = f"'{block_param}' needs a number, text or true/false as its default"
            if problem:
                self.message.emit(problem)
                return problem
        if reference(node.params.get(name)) == block_param:
            return None
        macro = cmd.Macro(f"Set {node_id}.{name} per use: block parameter '{block_param}'")
        if block_param not in params:
            cmd.SetDeclared(definition, {**params, block_param: default}, macro)
        cmd.SetParam(definition, node_id, name, {REFERENCE: block_param}, parent=macro)
        if not self._push(macro):
            return "editing is locked"
        self.message.emit(
            f"{node_id}.{name} is now per use: each node of block '{block}' sets "
            f"'{block_param}' in its inspector"
        )
        return None

    def unlink_param(self, node_id: str, name: str, value: Any, merge: bool = False) -> bool:
        """Give a layer parameter that refers to a block parameter a fixed value again, as one
        step (`merge`: further edits of the same field join it)."""
        node = self.graph.nodes.get(node_id)
        linked = reference(node.params.get(name)) if node is not None else None
        if linked is None:
            return self.set_param(node_id, name, value, merge)
        command = cmd.SetParam(self.graph, node_id, name, value, merge)
        command.setText(f"Unlink {node_id}.{name} from '{linked}': fixed at {value}")
        if not self._push(command):
            return False
        if not still_referred(self.graph, linked):
            self.message.emit(
                f"No layer uses block parameter '{linked}' now; it stays declared (unused) "
                "under Block parameters, shown when nothing is selected, to remove or reuse"
            )
        return True

    # --------------------------------------------------- block parameters
    def block_param_usage(self) -> list[ParamUsage]:
        """The parameters the definition shown declares, with who uses each; [] at the top."""
        block = self.block_shown
        if block is None:
            return []
        return usage(block, self.project.blocks, self.project.named_graphs().values())

    def rename_block_param(self, old: str, new: str) -> str | None:
        """Rename parameter `old` of the definition shown, its references inside and every
        use's value, as one step; why not, or None when done."""
        try:
            change = self._param_change(
                lambda b, blocks, nets: rename_param(b, blocks, nets, old, new)
            )
        except BlockParamError as error:
            return self._param_refused(str(error))
        if new == old:
            return None
        return self._push_param_change(change, f"Rename block parameter '{old}' to '{new}'")

    def remove_block_param(self, name: str) -> str | None:
        """Stop declaring parameter `name` of the definition shown: the layers that refer to
        it keep its default as a fixed value, the uses' own values go; one step."""
        try:
            change = self._param_change(lambda b, blocks, nets: remove_param(b, blocks, nets, name))
        except BlockParamError as error:
            return self._param_refused(str(error))
        return self._push_param_change(change, f"Remove block parameter '{name}'")

    def set_block_param_default(self, name: str, value: Any, merge: bool = False) -> str | None:
        """Give parameter `name` of the definition shown a new default (the uses without a
        value of their own take it); `merge`: further edits of the same field join the step."""
        try:
            change = self._param_change(
                lambda b, blocks, _nets: change_default(b, blocks, name, value)
            )
        except BlockParamError as error:
            return self._param_refused(str(error))
        if change.declared == declared(self.graph):
            return None
        command = cmd.SetDefault(self.graph, change.declared or {}, name, merge)
        return None if self._push(command) else "editing is locked"

    def _param_change(
        self, make: Callable[[str, dict[str, Graph], list[Graph]], ParamChange]
    ) -> ParamChange:
        block = self.block_shown
        if block is None:
            raise BlockParamError("open a block (double-click its node) to edit its parameters")
        return make(block, self.project.blocks, list(self.project.named_graphs().values()))

    def _param_refused(self, problem: str) -> str:
        self.message.emit(problem)
        return problem

    def _push_param_change(self, change: ParamChange, text: str) -> str | None:
        """The definition's new declaration first (so undo opens the block), then every layer
        and use parameter, as one step."""
        macro = cmd.Macro(text)
        cmd.SetDeclared(self.graph, change.declared, macro)
        for edit in change.sets:
            cmd.SetParam(edit.graph, edit.node, edit.param, edit.value, parent=macro)
        return None if self._push(macro) else "editing is locked"

    def _fresh_id(self, type_name: str) -> str:
        return self.graph.unique_id(type_name)


def _first_network(project: Project) -> str | None:
    return next(iter(project.networks), None)


def _touches(edge: Edge, node_ids: list[str]) -> bool:
    return edge.source.node in node_ids or edge.target.node in node_ids


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", value.get("metric", "…")))
    return "off" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


__all__ = ["Document", "GraphError"]


def _replace_contents(graph: Graph, replacement: Graph, macro: cmd.Macro) -> None:
    """Commands in `macro` that make `graph` hold `replacement`'s nodes and wires (each wire
    removed once, with the first of its two nodes), undone in one step with the rest."""
    claimed: set[Edge] = set()
    for node_id in list(graph.nodes):
        edges = [e for e in graph.edges_of(node_id) if e not in claimed]
        claimed.update(edges)
        cmd.RemoveNode(graph, node_id, edges, macro)
    for node in replacement:
        cmd.AddNode(graph, node, macro)
    for edge in replacement.edges:
        cmd.Connect(graph, edge, macro)
