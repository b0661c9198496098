"""The canvas scene: a mirror of the document's graph.

A node item exists because the graph emitted `node_added`, never the other way
round; nothing here writes to the graph. User gestures (a finished drag, a
wire dropped on a port) become calls on the `Document`, whose undo commands
change the graph, whose signals come back here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneMouseEvent

from designer.block_node import make_item
from designer.document import Document
from designer.edge_item import EdgeItem
from designer.node_item import NodeItem
from designer.overview import Overview
from designer.port_item import PortItem
from designer.wire_drag import WireDrag
from engine.analysis import Analysis, Diagnostic
from engine.blocks import BLOCK
from engine.graph import Edge, Node, PortRef
from engine.layers._shape import fmt

GRID = 20.0
SCENE_EXTENT = 200_000.0


class GraphScene(QGraphicsScene):
    message = Signal(str)
    graph_changed = Signal()  # items added, removed or moved (the minimap listens)
    measured_changed = Signal()  # the measured times shown on the nodes changed (or cleared)

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.snap_to_grid = True
        self.wire_drag: WireDrag | None = None
        self._syncing = False
        self.measured: dict[str, Any] = {}  # node id -> engine.profiling.LayerTime, when profiled
        self.far = False  # zoomed out past OVERVIEW_ZOOM: one picture paints the graph
        self.pictures_held = False  # during a zoom gesture: see hold_pictures
        self.overview = Overview()
        self.setSceneRect(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        document.project_replaced.connect(self.rebuild)
        document.network_shown.connect(self.rebuild)  # another network of the project
        document.trail_changed.connect(self.rebuild)  # a block entered or left
        document.analysed.connect(self.apply_analysis)
        document.read_only_changed.connect(self._set_locked)
        self.graph_changed.connect(self._redraw_overview)
        self.selectionChanged.connect(self._redraw_overview)
        self._graph = document.graph
        self._listen()
        self.rebuild()

    # ------------------------------------------------------------ mirroring
    def _mirrors(self) -> list[tuple[Any, Any]]:
        """Each graph signal with the handler that mirrors it on the canvas."""
        g = self._graph
        return [
            (g.node_added, self._on_node_added),
            (g.node_removed, self._on_node_removed),
            (g.edge_added, self._on_edge_added),
            (g.edge_removed, self._on_edge_removed),
            (g.param_changed, self._on_param_changed),
            (g.node_moved, self._on_node_moved),
            (g.node_renamed, self._on_node_renamed),
        ]

    def _listen(self) -> None:
        for signal, handler in self._mirrors():
            signal.connect(handler)
        for signal in self._edits():
            signal.connect(self._forget_measured)

    def _unlisten(self) -> None:
        for signal, handler in self._mirrors():
            signal.disconnect(handler)
        for signal in self._edits():
            signal.disconnect(self._forget_measured)

    def _edits(self) -> list[Any]:
        """The graph's signals after which measured times no longer describe it (not moves)."""
        g = self._graph
        return [g.node_added, g.node_removed, g.edge_added, g.edge_removed, g.param_changed]

    def rebuild(self) -> None:
        """Throw the items away and mirror the document's (possibly new) graph."""
        if self._graph is not self.document.graph:
            self._unlisten()
            self._graph = self.document.graph
            self._listen()
        self.cancel_wire()
        self.clear()
        self.overview = Overview()  # clear() deleted the old one
        self.overview.setVisible(self.far)
        self.addItem(self.overview)
        self.nodes.clear()
        self._forget_measured()
        self.edges.clear()
        for node in self._graph:
            self._on_node_added(node, notify=False)
        for edge in self._graph.edges:
            self._on_edge_added(edge, notify=False)
        self._set_locked(self.document.read_only)
        self.apply_analysis(self.document.analysis)
        self.graph_changed.emit()

    def _on_node_added(self, node: Node, notify: bool = True) -> None:
        item = make_item(node, self._graph.blocks)
        if self.document.read_only:
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
        self._syncing = True
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, self.far)
        item.hold_picture(self.pictures_held)
        self.addItem(item)
        self._syncing = False
        self.nodes[node.id] = item
        if notify:
            self.graph_changed.emit()

    def _on_node_removed(self, node: Node) -> None:
        item = self.nodes.pop(node.id, None)
        if item is not None:
            self.removeItem(item)
            self.graph_changed.emit()

    def _port(self, ref: PortRef, is_output: bool) -> PortItem | None:
        node = self.nodes.get(ref.node)
        return node.port(ref.port, is_output) if node else None

    def _on_edge_added(self, edge: Edge, notify: bool = True) -> None:
        source, target = self._port(edge.source, True), self._port(edge.target, False)
        if source is None or target is None:
            return  # a wire to a port the layer does not have: the analysis reports it
        item = EdgeItem(edge, source, target)
        item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, self.far)
        self.addItem(item)
        self.edges[edge] = item
        source.node_item.edges.add(item)
        target.node_item.edges.add(item)
        self._redraw_overview()

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is not None:
            item.source.node_item.edges.discard(item)
            item.target.node_item.edges.discard(item)
            self.removeItem(item)
            self._redraw_overview()

    def _on_param_changed(self, node_id: str, name: str, value: object) -> None:
        item = self.nodes.get(node_id)
        if item is None:
            return
        node = self._graph.node(node_id)
        if node.type == BLOCK and name == "block":  # another definition: other ports, picture
            self._remake(node)
            return
        item.set_summary(node)
        if item.refresh_outputs(node):  # new ports: wires leaving the node re-attach by port name
            for edge in [e for e in self._graph.edges if e.source.node == node_id]:
                self._on_edge_removed(edge)
                self._on_edge_added(edge)

    def _remake(self, node: Node) -> None:
        """Replace a node's item (its ports changed) and re-attach its wires by port name."""
        edges = self._graph.edges_of(node.id)
        for edge in edges:
            self._on_edge_removed(edge)
        old = self.nodes.pop(node.id)
        selected = old.isSelected()
        self.removeItem(old)
        self._on_node_added(node)
        self.nodes[node.id].setSelected(selected)
        for edge in edges:
            self._on_edge_added(edge)
        self.apply_analysis(self.document.analysis)

    def _on_node_moved(self, node_id: str, position: tuple[float, float]) -> None:
        item = self.nodes.get(node_id)
        if item is not None and (item.pos().x(), item.pos().y()) != tuple(position):
            self._syncing = True
            item.setPos(QPointF(*position))
            self._syncing = False
        self.graph_changed.emit()

    def _on_node_renamed(self, old_id: str, new_id: str) -> None:
        item = self.nodes.pop(old_id)
        self.nodes[new_id] = item
        item.set_node_id(new_id)
        current = {e for e in self._graph.edges if new_id in (e.source.node, e.target.node)}
        for edge, edge_item in list(self.edges.items()):
            if old_id in (edge.source.node, edge.target.node):
                del self.edges[edge]
                renamed = _renamed(edge, old_id, new_id)
                edge_item.edge = renamed if renamed in current else edge_item.edge
                self.edges[edge_item.edge] = edge_item

    # ------------------------------------------------------------- analysis
    def apply_analysis(self, analysis: Analysis) -> None:
        """Paint every node's state and every wire's shape from the engine's analysis."""
        by_node: dict[str, list[Diagnostic]] = {}
        for d in analysis.diagnostics:
            if d.node is not None:
                by_node.setdefault(d.node, []).append(d)
        costs = self.document.costs.layers if analysis is self.document.analysis else {}
        for node_id, item in self.nodes.items():
            item.set_state(
                analysis.nodes.get(node_id), by_node.get(node_id, []), costs.get(node_id)
            )
        for edge, wire in self.edges.items():
            info = analysis.nodes.get(edge.source.node)
            shape = info.shapes.get(edge.source.port) if info is not None else None
            label = fmt(shape) if shape is not None else ""
            target = self.nodes.get(edge.target.node)
            wire.set_label(label, target is not None and target.severity == "error")
        self._redraw_overview()

    # -------------------------------------------------------------- far out
    def set_far(self, far: bool) -> None:
        """Far out, the items paint nothing (they still take clicks) and the overview paints
        them all in one call (designer.overview); switched only when the level changes."""
        if far == self.far:
            return
        self.far = far
        for item in (*self.nodes.values(), *self.edges.values()):
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, far)
        self.overview.setVisible(far)
        self._redraw_overview()

    def hold_pictures(self, held: bool) -> None:
        """Zooming: every node keeps one picture for the whole gesture (False: back to the
        screen's resolution once it ends); see GraphView.set_zoom."""
        if held == self.pictures_held:
            return
        self.pictures_held = held
        for item in self.nodes.values():
            item.hold_picture(held)

    def _redraw_overview(self) -> None:
        if self.far:
            self.overview.show_items(self.nodes, list(self.edges.values()))

    # ------------------------------------------------------------- measured
    def show_measured(self, profile: Any | None) -> None:
        """Each layer's measured time per batch (an engine.profiling.Profile) on its node, as
        text and a bar against the slowest layer; None takes them away."""
        self.measured = dict(profile.by_node()) if profile is not None else {}
        slowest = max((t.total_ms for t in self.measured.values()), default=0.0) or 1.0
        for node_id, item in self.nodes.items():
            layer = self.measured.get(node_id)
            if layer is None:
                item.set_measured("", 0.0)
            else:
                item.set_measured(time_text(layer.total_ms), layer.total_ms / slowest)
        self.measured_changed.emit()

    def _forget_measured(self, *_args: Any) -> None:
        if self.measured:
            self.show_measured(None)

    # -------------------------------------------------------------- helpers
    def snapped(self, pos: QPointF) -> QPointF:
        if not self.snap_to_grid or self._syncing:
            return pos
        return QPointF(round(pos.x() / GRID) * GRID, round(pos.y() / GRID) * GRID)

    def snap_point(self, pos: QPointF) -> tuple[float, float]:
        if not self.snap_to_grid:
            return (pos.x(), pos.y())
        return (round(pos.x() / GRID) * GRID, round(pos.y() / GRID) * GRID)

    def selected_node_ids(self) -> list[str]:
        """The selected layers, in the graph's order (Qt's selection order is arbitrary)."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self._graph.nodes if n in chosen]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            item = self.nodes.get(node_id)
            if item is not None:
                item.setSelected(True)

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item
            if isinstance(item, NodeItem):
                return None
        return None

    def _set_locked(self, locked: bool) -> None:
        for item in self.nodes.values():
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, not locked)
        if locked:
            self.cancel_wire()

    # ------------------------------------------------------------ wire drags
    def start_wire(self, port: PortItem, pos: QPointF) -> bool:
        """Press on a port: a new wire, or, on a taken single input, lift its wire."""
        if self.document.read_only:
            self.document.message.emit("The graph is locked while training runs.")
            return False
        if not port.is_output and not port.multiple:
            taken = next((e for e in self.edges.values() if e.target is port), None)
            if taken is not None:
                return self.lift_wire_end(taken, True, pos)
        self.cancel_wire()
        self.wire_drag = WireDrag(self, port, pos)
        return True

    def lift_wire_end(self, item: EdgeItem, target_end: bool, pos: QPointF) -> bool:
        """Pick up one end of an existing wire; the other end stays plugged."""
        if self.document.read_only:
            return False
        self.cancel_wire()
        fixed = item.source if target_end else item.target
        item.setOpacity(0.25)
        self.wire_drag = WireDrag(self, fixed, pos, replacing=item.edge)
        return True

    def finish_wire(self, pos: QPointF) -> bool:
        drag, self.wire_drag = self.wire_drag, None
        if drag is None:
            return False
        self._restore_lifted(drag)
        return drag.finish(pos)

    def cancel_wire(self) -> None:
        drag, self.wire_drag = self.wire_drag, None
        if drag is not None:
            drag.cleanup()
            self._restore_lifted(drag)

    def _restore_lifted(self, drag: WireDrag) -> None:
        if drag.replacing is not None and drag.replacing in self.edges:
            self.edges[drag.replacing].setOpacity(1.0)

    # ---------------------------------------------------------------- moves
    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def commit_moves(self) -> None:
        """After a drag: one undo step moving every node whose item left its model position."""
        moved = {}
        for item in self.selectedItems():
            if isinstance(item, NodeItem) and item.node_id in self._graph:
                pos = (item.pos().x(), item.pos().y())
                if pos != self._graph.node(item.node_id).position:
                    moved[item.node_id] = pos
        if moved and not self.document.move_nodes(moved):
            for node_id in moved:  # refused (locked): put the items back
                self._on_node_moved(node_id, self._graph.node(node_id).position)


def _renamed(edge: Edge, old: str, new: str) -> Edge:
    source = PortRef(new, edge.source.port) if edge.source.node == old else edge.source
    target = PortRef(new, edge.target.port) if edge.target.node == old else edge.target
    return Edge(source, target)


def time_text(ms: float) -> str:
    """A measured time, to about three digits: 0.042 ms, 2.95 ms, 31.2 ms, 1.25 s."""
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms" if ms >= 1 else f"{ms:.3f} ms"
