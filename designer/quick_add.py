"""The quick-add popup: type part of a layer's name, press Enter to place it.

Opened by Tab or a double-click on empty canvas. Matching is fuzzy, as in
modern node editors: ``cv2`` finds Conv2d, ``bn`` finds BatchNorm, and
prefix and word-start matches rank first.
"""

from __future__ import annotations

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
from engine.layers import CATALOGUE, LayerType, by_category

TYPE_ROLE = Qt.ItemDataRole.UserRole


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


def search_layers(query: str) -> list[LayerType]:
    """Layer types matching `query`, best first; the whole catalogue for an empty query."""
    if not query.strip():
        return [layer for _category, layers in by_category() for layer in layers]
    scored = []
    for layer in CATALOGUE.values():
        name_score = fuzzy_score(query, layer.name)
        category_score = fuzzy_score(query, layer.category)
        best = max(
            (
                s
                for s in (name_score, None if category_score is None else category_score - 50)
                if s is not None
            ),
            default=None,
        )
        if best is not None:
            scored.append((best, layer))
    scored.sort(key=lambda pair: -pair[0])
    return [layer for _score, layer in scored]


class QuickAddPopup(QFrame):
    chosen = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("QuickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        title = QLabel("Add a layer")
        title.setObjectName("QuickAddTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a layer name: conv, relu, lin…")
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
        self.search.clear()
        self.refresh("")
        self.move(global_pos - QPoint(20, 20))
        self.show()
        self.search.setFocus()

    def refresh(self, query: str) -> None:
        self.results.clear()
        for layer in search_layers(query):
            colour = theme.category_colour(layer.category).name()
            item = QListWidgetItem(theme.layer_icon(layer.icon, colour), layer.name)
            item.setData(TYPE_ROLE, layer.name)
            item.setToolTip(f"{layer.category}: {layer.help}")
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
