"""The editor: document, scene and view together, with the Edit-menu operations.

The main window builds its menus from these methods; tests drive them
directly. Nothing here edits the graph except through the document.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QObject, QPoint, QPointF
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QWidget

from designer import block_library, clipboard, repeats_dialog
from designer.breadcrumbs import BreadcrumbBar
from designer.document import Document
from designer.node_item import NODE_HEIGHT, NODE_WIDTH
from designer.scene import GRID, GraphScene
from designer.view import GraphView
from engine.blocks import definition_of
from engine.project import Project, ProjectError
from engine.repeats import find_repeats

PASTE_OFFSET = (2 * GRID, 2 * GRID)


class Editor(QObject):
    """Owns the document, its scene and its view."""

    def __init__(self, project: Project | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = Document(project, self)
        self.scene = GraphScene(self.document)
        self.view = GraphView(self.scene, parent)
        self.breadcrumbs = BreadcrumbBar(self.document, self.view)
        self.document.read_only_changed.connect(self._locked)
        self.view.block_opened.connect(self.document.enter_block)
        self.view.block_left.connect(lambda: self.document.leave_block())
        self.view.menu_requested.connect(self.context_menu)

    def set_read_only(self, locked: bool) -> None:
        """Lock or unlock editing (training runs on a snapshot of this graph)."""
        self.document.set_read_only(locked)

    def _locked(self, locked: bool) -> None:
        self.view.viewport().update()

    # ------------------------------------------------------------ clipboard
    def copy(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        data = clipboard.fragment(self.document.graph, ids)
        QApplication.clipboard().setMimeData(clipboard.to_mime(data))
        self.document.message.emit(f"Copied {len(ids)} layer" + ("s" if len(ids) > 1 else ""))
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selected()

    def paste(self) -> list[str]:
        try:
            found = clipboard.from_mime(QApplication.clipboard().mimeData())
        except ProjectError as error:
            self.document.message.emit(f"Cannot paste: {error}")
            return []
        if not found:
            self.document.message.emit("The clipboard holds no layers to paste")
            return []
        nodes, edges = found
        return self._place(nodes, edges, self._paste_offset(nodes))

    def duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        nodes, edges = clipboard.parse_fragment(
            json.dumps(clipboard.fragment(self.document.graph, ids))
        )
        return self._place(nodes, edges, PASTE_OFFSET)

    def _paste_offset(self, nodes: list) -> tuple[float, float]:
        """Paste under the cursor when it is over the canvas, else beside the originals."""
        view = self.view
        local = view.viewport().mapFromGlobal(view.cursor().pos())
        if not view.viewport().rect().contains(local):
            return PASTE_OFFSET
        target = view.mapToScene(local) - QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2)
        x, y = clipboard.top_left(nodes)
        sx, sy = self.scene.snap_point(target)
        return (sx - x, sy - y)

    def _place(self, nodes: list, edges: list, offset: tuple[float, float]) -> list[str]:
        new_ids = self.document.paste(nodes, edges, offset)
        if new_ids:
            self.scene.select_nodes(new_ids)
        return new_ids

    # ---------------------------------------------------------------- edits
    def delete_selected(self) -> None:
        self.document.remove(self.scene.selected_node_ids(), self.scene.selected_edges())

    def select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    def rename_selected(self, parent: QWidget | None = None) -> None:
        ids = self.scene.selected_node_ids()
        if len(ids) != 1:
            self.document.message.emit("Select one layer to rename it")
            return
        new_id, ok = QInputDialog.getText(parent, "Rename layer", "New name:", text=ids[0])
        if ok and new_id.strip():
            self.document.rename(ids[0], new_id.strip())

    def auto_layout(self) -> None:
        self.document.auto_layout()
        self.view.zoom_to_fit()

    def align(self, edge: str) -> None:
        """Line the selected layers up: 'left', 'top', or spread evenly ('row', 'column')."""
        ids = self.scene.selected_node_ids()
        if len(ids) < 2:
            self.document.message.emit("Select two or more layers to align them")
            return
        graph = self.document.graph
        pos = {n: graph.node(n).position for n in ids}
        if edge == "left":
            x = min(p[0] for p in pos.values())
            target = {n: (x, p[1]) for n, p in pos.items()}
        elif edge == "top":
            y = min(p[1] for p in pos.values())
            target = {n: (p[0], y) for n, p in pos.items()}
        elif edge == "row":
            ordered = sorted(ids, key=lambda n: pos[n][0])
            x0, y = pos[ordered[0]][0], min(p[1] for p in pos.values())
            target = {n: (x0 + i * (NODE_WIDTH + 4 * GRID), y) for i, n in enumerate(ordered)}
        else:
            ordered = sorted(ids, key=lambda n: pos[n][1])
            x, y0 = min(p[0] for p in pos.values()), pos[ordered[0]][1]
            target = {n: (x, y0 + i * (NODE_HEIGHT + 2 * GRID)) for i, n in enumerate(ordered)}
        self.document.move_nodes(target, f"Align {len(ids)} layers")

    # --------------------------------------------------------------- blocks
    def group_selected(self) -> str | None:
        """Ctrl+G: the selected layers become one block node (a new definition)."""
        node_id = self.document.group(self.scene.selected_node_ids())
        if node_id is not None:
            self.scene.select_nodes([node_id])
        return node_id

    def ungroup_selected(self) -> list[str]:
        """Ctrl+Shift+G: the selected block node becomes its layers again."""
        ids = self.document.ungroup(self.scene.selected_node_ids())
        if ids:
            self.scene.select_nodes(ids)
        return ids

    def open_selected_block(self) -> bool:
        ids = self.scene.selected_node_ids()
        if len(ids) != 1:
            self.document.message.emit("Select one block node to open it")
            return False
        return self.document.enter_block(ids[0])

    def make_unique_selected(self) -> str | None:
        ids = self.scene.selected_node_ids()
        if len(ids) != 1:
            self.document.message.emit("Select one block node to make it unique")
            return None
        return self.document.make_unique(ids[0])

    def rename_block(self, node_id: str, parent: QWidget | None = None) -> None:
        """Ask for a new name for the definition block node `node_id` uses."""
        block = str(self.document.graph.node(node_id).params.get("block", ""))
        new, ok = QInputDialog.getText(parent, "Rename block", "Block name:", text=block)
        if ok and new.strip():
            self.document.rename_block(block, new.strip())

    def save_to_library(self, node_id: str, parent: QWidget | None = None) -> None:
        """Right-click a block node > Save to Library…: its definition (and the definitions
        it uses) into the user's library, shared by every project."""
        document = self.document
        node = document.graph.nodes.get(node_id)
        found = definition_of(node, document.project.blocks) if node is not None else None
        if node is None or found is None:
            document.message.emit("Select a block node to save it to the library")
            return
        name, definition = found
        info = document.analysis.nodes.get(node_id)
        fits = block_library.input_shape(info.inner if info else None, definition)
        block = block_library.library_block(document.graph, node_id, name, "", fits)
        if block is not None:
            document.message.emit(block_library.save_to_library(block, parent)[1])

    def find_repeated_blocks(self, parent: QWidget | None = None) -> list[str]:
        """Edit > Find Repeated Blocks: show the repeated runs of layers (selected on the
        canvas and listed), fold them on OK as one step; the new block nodes."""
        proposals = find_repeats(self.document.graph)
        if not proposals:
            self.document.message.emit("No repeated runs of layers to fold into blocks")
            return []
        self.scene.select_nodes([n for p in proposals for use in p.uses for n in use])
        if not repeats_dialog.confirm_repeats(proposals, parent or self.view):
            self.document.message.emit("Nothing folded")
            return []
        made = self.document.fold_repeats(proposals)
        if made:
            self.scene.select_nodes(made)
            names = ", ".join(p.name for p in proposals)
            self.document.message.emit(f"Folded {len(made)} uses of block(s) {names}")
        return made

    def block_menu(self, node_id: str | None) -> QMenu:
        """The canvas's right-click menu: block commands for a block node, Group for layers."""
        menu = QMenu(self.view)
        graph = self.document.graph
        node = graph.nodes.get(node_id) if node_id is not None else None
        if node is not None and not self.scene.nodes[node.id].isSelected():
            self.scene.select_nodes([node.id])
        if node is not None and node.type == "Block":
            block = node.params.get("block")
            count = self.document.uses(str(block))
            menu.addAction("Open Block\tEnter", lambda: self.document.enter_block(node.id))
            menu.addAction("Rename Block…", lambda: self.rename_block(node.id, self.view))
            unique = menu.addAction(
                f"Make Unique (used {count} times)" if count > 1 else "Make Unique",
                lambda: self.document.make_unique(node.id),
            )
            unique.setEnabled(count > 1)
            menu.addAction("Ungroup\tCtrl+Shift+G", self.ungroup_selected)
            menu.addAction("Save to Library…", lambda: self.save_to_library(node.id, self.view))
        if self.scene.selected_node_ids():
            menu.addAction("Group into Block\tCtrl+G", self.group_selected)
        if self.document.trail:
            menu.addSeparator()
            menu.addAction("Leave Block\tEsc", lambda: self.document.leave_block())
        return menu

    def context_menu(self, node_id: str, at: QPoint) -> None:
        menu = self.block_menu(node_id or None)
        if menu.actions():
            menu.exec(at)
