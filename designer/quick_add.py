"""The quick-add popup: type part of a layer's or a library block's name, press Enter to
place it.

Opened by Tab or a double-click on empty canvas. Matching is fuzzy, as in
modern node editors: ``cv2`` finds Conv2d, ``bn`` finds BatchNorm, ``basic``
the library's BasicBlock, and prefix and word-start matches rank first. The
block library's entries (bundled and the user's own, read when the popup
opens) are listed among the layers, marked as blocks; choosing one emits
`block_chosen` with its file, which the view adds exactly as a palette drop.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer import theme
from engine.block_library import LibraryBlock, bundled_blocks, user_blocks
from engine.layers import CATALOGUE, LayerType, by_category

TYPE_ROLE = Qt.ItemDataRole.UserRole
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 1  # a library block's file path
BLOCKS = "Blocks"  # the palette's section (and colour) of library blocks


def fuzzy_score(query: str, text: str) -> float | None:
    """How well `query` matches `text` (higher is better), or None when it does not.

    Every query letter must appear in order. Matches at the start, at word or
    case boundaries, and in unbroken runs score more.
    """
    q = query.lower().replace(" ", "")
    if not q:
        return 0.0
    t = text.lower()
    if t.startswith(q):
        return 1000.0 - len(t)
    score, position, run = 0.0, -1, 0
    for ch in q:
        found = t.find(ch, position + 1)
        if found < 0:
            return None
        boundary = (
            found == 0
            or not text[found - 1].isalnum()
            or (text[found].isupper() and text[found - 1].islower())
            or (text[found].isdigit() and not text[found - 1].isdigit())
        )
        run = run + 1 if found == position + 1 else 0
        score += 10 + (15 if boundary else 0) + 5 * run - 0.5 * (found - position - 1)
        position = found
    return score - 0.1 * len(t)


def _score(query: str, name: str, category: str) -> float | None:
    """A name match, or (less) a category match; None when neither matches."""
    name_score = fuzzy_score(query, name)
    category_score = fuzzy_score(query, category)
    scores = (name_score, None if category_score is None else category_score - 50)
    return max((s for s in scores if s is not None), default=None)


def search_layers(query: str) -> list[LayerType]:
    """Layer types matching `query`, best first; the whole catalogue for an empty query."""
    return [found for found in search(query, []) if isinstance(found, LayerType)]


def search(query: str, blocks: Sequence[LibraryBlock]) -> list[LayerType | LibraryBlock]:
    """Layer types and library `blocks` matching `query`, best first (a block's category is
    "Blocks"); for an empty query the whole catalogue in palette order, then the blocks."""
    if not query.strip():
        return [layer for _category, layers in by_category() for layer in layers] + [*blocks]
    scored: list[tuple[float, int, LayerType | LibraryBlock]] = []
    for layer in CATALOGUE.values():
        best = _score(query, layer.name, layer.category)
        if best is not None:
            scored.append((best, len(scored), layer))
    for block in blocks:
        best = _score(query, block.name, BLOCKS)
        if best is not None:
            scored.append((best, len(scored), block))
    scored.sort(key=lambda found: (-found[0], found[1]))
    return [found for _best, _order, found in scored]


def library() -> list[LibraryBlock]:
    """The block library as the palette lists it: the bundled blocks, then the user's."""
    return [*bundled_blocks(), *user_blocks()[0]]


class QuickAddPopup(QFrame):
    chosen = Signal(str)  # a layer type
    block_chosen = Signal(str)  # a library block's file path

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("QuickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        title = QLabel("Add a layer or block")
        title.setObjectName("QuickAddTitle")
        self.blocks: list[LibraryBlock] = []  # the library, read when the popup opens
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a layer or block name: conv, relu, basic…")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setIconSize(QSize(18, 18))
        self.results.setUniformItemSizes(True)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        self.resize(300, 360)
        self.search.textChanged.connect(self.refresh)
        self.search.installEventFilter(self)
        self.results.itemActivated.connect(self._activate)
        self.results.itemClicked.connect(self._activate)

    def popup_at(self, global_pos: QPoint) -> None:
        self.blocks = library()  # the user may have saved or removed one since
        self.search.clear()
        self.refresh("")
        self.move(global_pos - QPoint(20, 20))
        self.show()
        self.search.setFocus()

    def refresh(self, query: str) -> None:
        self.results.clear()
        block_colour = theme.category_colour(BLOCKS).name()
        for found in search(query, self.blocks):
            if isinstance(found, LibraryBlock):
                mark = "block" if found.bundled else "my block"
                icon = theme.layer_icon("mdi6.cube-outline", block_colour)
                item = QListWidgetItem(icon, f"{found.name}  ({mark})")
                item.setData(BLOCK_ROLE, str(found.path))
                where = "bundled with Netwright" if found.bundled else "from your library"
                item.setToolTip(f"Block, {where}: {found.description}")
            else:
                colour = theme.category_colour(found.category).name()
                item = QListWidgetItem(theme.layer_icon(found.icon, colour), found.name)
                item.setData(TYPE_ROLE, found.name)
                item.setToolTip(f"{found.category}: {found.help}")
            item.setForeground(theme.current().colour("text"))
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def accept_current(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._activate(item)

    def _activate(self, item: QListWidgetItem) -> None:
        self.hide()
        path = item.data(BLOCK_ROLE)
        if path:
            self.block_chosen.emit(path)
        else:
            self.chosen.emit(item.data(TYPE_ROLE))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down move through results while the cursor stays in the search box."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = min(max(self.results.currentRow() + step, 0), self.results.count() - 1)
                self.results.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.accept_current()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(watched, event)
