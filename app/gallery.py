"""File > New from Example…: every bundled example as a card with a picture of its graph.

Choosing one opens a copy as a new, unsaved project (Save asks where to keep
it), exactly like the default example `make run` starts with. The dialog is
driven by the keyboard as well as the mouse: arrows move between cards, typing
filters by name and description, Enter opens, Esc closes.

Multi-network examples (the GANs) open with a canvas tab per network; a
document that could not edit several networks would show their cards greyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QColor, QFont, QKeyEvent, QKeySequence, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.thumbnails import THUMBNAIL_SIZE, thumbnail
from designer import theme
from engine.project import ProjectError, load_project
from engine.resources import Example, examples

if TYPE_CHECKING:
    from app.main_window import MainWindow

ENTRY_ROLE = Qt.ItemDataRole.UserRole
CARD = QSize(THUMBNAIL_SIZE.width() + 20, THUMBNAIL_SIZE.height() + 100)


@dataclass(frozen=True)
class GalleryEntry:
    """One example as the gallery shows it."""

    name: str
    description: str
    path: Path
    networks: int  # how many networks the project trains together (a GAN has two)
    layers: int


def gallery_entries(found: Sequence[Example] | None = None) -> list[GalleryEntry]:
    """Every example that reads as a project, in the teaching order of `examples()`."""
    entries = []
    for example in examples() if found is None else found:
        try:
            project = load_project(example.path)
        except ProjectError:
            continue  # a broken bundled file is a test failure elsewhere, not a crash here
        count = len(project.networks) if project.is_multi_network else 1
        layers = sum(len(g) for g in project.named_graphs().values())
        entries.append(GalleryEntry(example.name, example.description, example.path, count, layers))
    return entries


def matches(entry: GalleryEntry, query: str) -> bool:
    """Every word typed appears in the name or the description."""
    text = f"{entry.name} {entry.description}".lower()
    return all(word in text for word in query.lower().split())


class _CardDelegate(QStyledItemDelegate):
    """A card: the graph's picture, the example's name, its one-line description."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return CARD

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        entry: GalleryEntry = index.data(ENTRY_ROLE)
        colours = theme.current()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        card = QRect(option.rect).adjusted(5, 5, -5, -5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QPen(
            QColor(colours.accent if selected else colours.node_border), 2 if selected else 1
        )
        painter.setPen(border)
        painter.setBrush(QColor(colours.node_header if selected or hovered else colours.node_body))
        painter.drawRoundedRect(card, 8, 8)
        picture = index.data(Qt.ItemDataRole.DecorationRole)
        frame = QRect(card.left() + 5, card.top() + 5, card.width() - 10, THUMBNAIL_SIZE.height())
        if isinstance(picture, QPixmap) and not picture.isNull():
            painter.drawPixmap(frame, picture)
        else:
            painter.fillRect(frame, QColor(colours.canvas))
        text_left = card.left() + 10
        width = card.width() - 20
        title = QFont(option.font)
        title.setBold(True)
        title.setPointSizeF(option.font.pointSizeF() * 1.12)
        painter.setFont(title)
        painter.setPen(QColor(colours.text))
        top = frame.bottom() + 8
        name = entry.name if entry.networks == 1 else f"{entry.name}  ·  {entry.networks} networks"
        painter.drawText(QRect(text_left, top, width, 20), Qt.AlignmentFlag.AlignLeft, name)
        painter.setFont(option.font)
        painter.setPen(QColor(colours.text_dim))
        body = entry.description
        painter.drawText(
            QRect(text_left, top + 24, width, 58),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
            body,
        )
        painter.restore()


class ExampleGallery(QDialog):
    """Pick an example; `chosen` is its path after the dialog is accepted."""

    def __init__(
        self,
        parent: QWidget | None = None,
        entries: Sequence[GalleryEntry] | None = None,
        thumbnails_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ExampleGallery")
        self.setWindowTitle("New from Example")
        self.entries = list(gallery_entries() if entries is None else entries)
        self.chosen: Path | None = None
        self._folder = thumbnails_folder
        self._pending: list[QListWidgetItem] = []
        self._build()
        self._fill()
        self.resize(4 * CARD.width() + 96, 2 * CARD.height() + 250)
        self.setStyleSheet(_style())

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        heading = QLabel("Start from an example")
        heading.setObjectName("GalleryHeading")
        intro = QLabel(
            "Each example opens as a new, unsaved project: change it freely, "
            "Save asks where to keep your copy. Press F5 to train it."
        )
        intro.setObjectName("GalleryIntro")
        intro.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type to filter: cnn, sequence, digits…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.installEventFilter(self)
        self.cards = QListWidget()
        self.cards.setObjectName("GalleryCards")
        self.cards.setViewMode(QListView.ViewMode.IconMode)
        self.cards.setResizeMode(QListView.ResizeMode.Adjust)
        self.cards.setMovement(QListView.Movement.Static)
        self.cards.setUniformItemSizes(True)
        self.cards.setGridSize(CARD)
        self.cards.setSpacing(0)
        self.cards.setWrapping(True)
        self.cards.setMouseTracking(True)
        self.cards.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.cards.setItemDelegate(_CardDelegate(self.cards))
        self.cards.installEventFilter(self)
        self.cards.itemActivated.connect(lambda _item: self.open_current())
        self.cards.currentItemChanged.connect(lambda *_: self._show_current())
        self.detail = QLabel()
        self.detail.setObjectName("GalleryDetail")
        self.detail.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.open_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.open_button.setDefault(True)
        buttons.accepted.connect(self.open_current)
        buttons.rejected.connect(self.reject)
        for widget in (heading, intro, self.search, self.cards, self.detail, buttons):
            layout.addWidget(widget)
        layout.setStretchFactor(self.cards, 1)
        self.setTabOrder(self.search, self.cards)
        self.setTabOrder(self.cards, self.open_button)

    def _fill(self) -> None:
        for entry in self.entries:
            item = QListWidgetItem(entry.name)
            item.setData(ENTRY_ROLE, entry)
            item.setSizeHint(CARD)
            item.setToolTip(f"{entry.name}: {entry.description}")
            self.cards.addItem(item)
            self._pending.append(item)
        if self.cards.count():
            self.cards.setCurrentRow(0)
        QTimer.singleShot(
            0, self._draw_next
        )  # pictures arrive one by one; the dialog opens at once
        self.cards.setFocus()

    def _draw_next(self) -> None:
        if not self._pending:
            return
        item = self._pending.pop(0)
        entry: GalleryEntry = item.data(ENTRY_ROLE)
        ratio = max(2.0, self.devicePixelRatioF())
        image = thumbnail(entry.path, THUMBNAIL_SIZE, ratio, self._folder)
        if image is not None:
            item.setData(Qt.ItemDataRole.DecorationRole, QPixmap.fromImage(image))
        QTimer.singleShot(0, self._draw_next)

    def draw_all_thumbnails(self) -> None:
        """Finish every picture now (for screenshots and tests)."""
        while self._pending:
            self._draw_next()

    # ------------------------------------------------------------ choosing
    def visible_names(self) -> list[str]:
        return [
            self.cards.item(i).text()
            for i in range(self.cards.count())
            if not self.cards.item(i).isHidden()
        ]

    def filter(self, query: str) -> None:
        first_visible = None
        for i in range(self.cards.count()):
            item = self.cards.item(i)
            hidden = not matches(item.data(ENTRY_ROLE), query)
            item.setHidden(hidden)
            if not hidden and first_visible is None:
                first_visible = item
        current = self.cards.currentItem()
        if (current is None or current.isHidden()) and first_visible is not None:
            self.cards.setCurrentItem(first_visible)
        self._show_current()

    def current_entry(self) -> GalleryEntry | None:
        item = self.cards.currentItem()
        if item is None or item.isHidden():
            return None
        return item.data(ENTRY_ROLE)

    def _show_current(self) -> None:
        entry = self.current_entry()
        if entry is None:
            self.detail.setText("No example matches; clear the filter to see them all.")
            self.open_button.setEnabled(False)
            return
        layers = f"{entry.layers} layers" + (
            f" in {entry.networks} networks" if entry.networks > 1 else ""
        )
        self.detail.setText(f"<b>{entry.name}</b> · {layers} — {entry.description}")
        self.open_button.setEnabled(True)

    def open_current(self) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        self.chosen = entry.path
        self.accept()

    # ------------------------------------------------------------ keyboard
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if watched is self.cards and _is_typing(event):
            self.search.setFocus()
            self.search.insert(event.text())  # type to filter, without reaching for the box
            return True
        if watched is self.search and event.key() in _MOVE_KEYS:
            self.cards.setFocus()
            QListWidget.keyPressEvent(self.cards, event)
            return True
        if watched is self.search and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_current()
            return True
        return False


_MOVE_KEYS = (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp)


def _is_typing(event: QKeyEvent) -> bool:
    text = event.text()
    blocked = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    return (
        bool(text)
        and text.isprintable()
        and not text.isspace()
        and not (event.modifiers() & blocked)
    )


def _style() -> str:
    c = theme.current()
    return (
        f"QLabel#GalleryHeading {{ font-size: 15pt; font-weight: bold; color: {c.text}; }}"
        f"QLabel#GalleryIntro {{ color: {c.text_dim}; }}"
        f"QLabel#GalleryDetail {{ color: {c.text}; background: {c.canvas};"
        f" border: 1px solid {c.node_border}; border-radius: 6px; padding: 8px 10px; }}"
        f"QListWidget#GalleryCards {{ background: {c.canvas}; border: 1px solid {c.node_border};"
        " border-radius: 8px; padding: 6px; }"
        "QListWidget#GalleryCards::item, QListWidget#GalleryCards::item:selected,"
        " QListWidget#GalleryCards::item:hover { background: transparent; }"
    )


# ------------------------------------------------------------------ wiring
def open_example_gallery(window: MainWindow) -> bool:
    """Show the gallery over `window`; open the chosen example as an unsaved copy."""
    if not window.maybe_save():
        return False
    gallery = ExampleGallery(window, gallery_entries())
    if gallery.exec() != QDialog.DialogCode.Accepted or gallery.chosen is None:
        return False
    return window.open_project(gallery.chosen, as_template=True, ask=False)


def gallery_action(window: MainWindow) -> QAction:
    """File > New from Example… (Ctrl+Shift+N), registered with the window by id."""
    action = QAction("New from E&xample…", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+N"))
    action.setStatusTip("Start a new project from one of the bundled examples")
    action.triggered.connect(lambda _checked=False: open_example_gallery(window))
    return window.add_action("new_from_example", action)
