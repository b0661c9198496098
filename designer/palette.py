"""The layer palette: every layer type by category, searchable, draggable.

Generated from the catalogue's declarations. Drag an entry onto the canvas (or
onto a wire, to insert it there); double-click it to add it at the centre.
Below the layers, the block library: "Blocks" (bundled) and "My blocks" (the
user's saved ones, right-click to remove), dragged in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer import block_library, theme
from designer.layer_help import layer_tooltip
from designer.qt_helpers import tree_groups
from designer.quick_add import fuzzy_score
from designer.view import LAYER_MIME
from engine.block_library import LibraryBlock, bundled_blocks, user_blocks
from engine.layers import by_category

TYPE_ROLE = Qt.ItemDataRole.UserRole
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 1  # a library block's file path
BLOCKS = "Blocks"
MY_BLOCKS = "My blocks"


def layer_mime(type_name: str) -> QMimeData:
    """What a palette drag carries: the layer type's name."""
    data = QMimeData()
    data.setData(LAYER_MIME, QByteArray(type_name.encode("utf-8")))
    data.setText(type_name)
    return data


class _LayerTree(QTreeWidget):
    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        paths = [i.data(0, BLOCK_ROLE) for i in items if i.data(0, BLOCK_ROLE)]
        if paths:
            return block_library.block_mime(Path(paths[0]))
        names = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        return layer_mime(names[0]) if names else QMimeData()

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME, block_library.LIBRARY_MIME]


class Palette(QWidget):
    add_requested = Signal(str)  # a layer type to add at the canvas centre
    block_requested = Signal(str)  # a library block's file to add at the canvas centre

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Palette")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = _LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(18, 18))
        self.tree.setIndentation(10)
        self.tree.setRootIsDecorated(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setUniformRowHeights(True)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.search.installEventFilter(self)
        self.tree.installEventFilter(self)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu_at)
        self.blocks: dict[str, LibraryBlock] = {}  # by file path: the entries listed
        block_library.watcher().changed.connect(self.populate)
        self.populate()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keyboard use: Down from the search box into the list, Enter adds the layer."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.search and (enter or event.key() == Qt.Key.Key_Down):
            shown = [i for i in self.layer_items() if not i.isHidden()]
            if not shown:
                return True
            if enter:  # the best match, as quick-add would choose it
                query = self.search.text()
                best = max(shown, key=lambda i: fuzzy_score(query, i.text(0)) or 0.0)
                self._double_clicked(best, 0)
            else:
                self.tree.setCurrentItem(shown[0])
                self.tree.setFocus()
            return True
        current = self.tree.currentItem()
        if watched is self.tree and enter and current is not None:
            self._double_clicked(current, 0)
            return True
        return False

    def populate(self) -> None:
        """(Re)build the tree; called again when the theme changes the colours."""
        self.tree.clear()
        for category, layers in by_category():
            colour = theme.category_colour(category)
            group = _group(category, colour)
            for layer in layers:
                item = _entry(layer.name, layer.icon, colour, layer_tooltip(layer))
                item.setData(0, TYPE_ROLE, layer.name)
                group.addChild(item)
            self.tree.addTopLevelItem(group)
        self._add_library()
        self.tree.expandAll()
        self.filter(self.search.text())

    def _add_library(self) -> None:
        """The Blocks and My blocks sections: the bundled blocks, then the user's saved ones."""
        colour = theme.category_colour(BLOCKS)
        self.blocks = {}
        mine, problems = user_blocks()
        for title, found in ((BLOCKS, bundled_blocks()), (MY_BLOCKS, mine)):
            group = _group(title, colour)
            for block in found:
                item = _entry(block.name, "mdi6.cube-outline", colour, _block_tooltip(block))
                item.setData(0, BLOCK_ROLE, str(block.path))
                group.addChild(item)
                self.blocks[str(block.path)] = block
            if title == MY_BLOCKS:
                tip = "Right-click a block node on the canvas > Save to Library… to add one here"
                group.setToolTip(0, tip + ("<br>" + "<br>".join(problems) if problems else ""))
            self.tree.addTopLevelItem(group)

    def block_items(self, section: str = BLOCKS) -> list[QTreeWidgetItem]:
        """The entries of the Blocks (or My blocks) section."""
        return next((items for g, items in tree_groups(self.tree) if g.text(0) == section), [])

    def _menu_at(self, at: QPoint) -> None:
        item = self.tree.itemAt(at)
        menu = self.item_menu(item)
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(at))

    def item_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The right-click menu of a library entry: add it; for the user's own, remove it."""
        block = self.blocks.get(item.data(0, BLOCK_ROLE)) if item is not None else None
        if block is None:
            return None
        menu = QMenu(self)
        menu.addAction("Add to Canvas", lambda: self.block_requested.emit(str(block.path)))
        if not block.bundled:
            menu.addAction(
                "Remove from Library…", lambda: block_library.remove_from_library(block, self)
            )
        return menu

    def filter(self, query: str) -> None:
        """Hide entries that do not match; keep categories of the matches open."""
        for group, items in tree_groups(self.tree):
            category_match = bool(query) and fuzzy_score(query, group.text(0)) is not None
            visible = 0
            for item in items:
                show = not query or category_match or fuzzy_score(query, item.text(0)) is not None
                item.setHidden(not show)
                visible += show
            group.setHidden(visible == 0)
            if query:
                group.setExpanded(True)

    def layer_items(self) -> list[QTreeWidgetItem]:
        return [item for _group, items in tree_groups(self.tree) for item in items]

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        path = item.data(0, BLOCK_ROLE)
        if path:
            self.block_requested.emit(path)
            return
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)


def _block_tooltip(block: LibraryBlock) -> str:
    layers = sum(n.type not in ("BlockInput", "BlockOutput") for n in block.definition)
    fits = f"<br>Fits an input of {list(block.fits)}" if block.fits else ""
    where = "bundled with Netwright" if block.bundled else f"saved in {block.path}"
    return (
        f"<b>{block.name}</b> — block, {layers} layers<br>{block.description}{fits}"
        f"<br><i>{where}; drag it onto the canvas</i>"
    )


def _group(title: str, colour: QColor) -> QTreeWidgetItem:
    """A section heading of the palette, bold in its category's colour."""
    group = QTreeWidgetItem([title])
    group.setFlags(Qt.ItemFlag.ItemIsEnabled)
    group.setForeground(0, QBrush(colour))
    font = group.font(0)
    font.setBold(True)
    group.setFont(0, font)
    return group


def _entry(name: str, icon: str, colour: QColor, tooltip: str) -> QTreeWidgetItem:
    """An entry that can be dragged onto the canvas: a layer or a library block."""
    item = QTreeWidgetItem([name])
    item.setIcon(0, theme.layer_icon(icon, colour.name()))
    item.setToolTip(0, tooltip)
    item.setFlags(
        Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
    )
    return item
