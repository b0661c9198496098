"""Help > Keyboard Shortcuts: every action of the window with its keys, searchable.

The list is read from the window's real QActions and menus each time it opens,
so it shows exactly what is bound (a key added by the training toolbar or a
menu added later appears on its own); an action without a shortcut shows how
to reach it through the menus with Alt and the underlined letters. Canvas
gestures that are not actions (Tab to quick-add, panning) are listed too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer import theme
from designer.qt_helpers import tree_groups

CANVAS_KEYS = (
    ("Add a layer by typing its name", "Tab"),
    ("Place the chosen layer", "Enter"),
    ("Add a layer where you click", "Double-click empty canvas"),
    ("Pan", "Space+drag, middle-drag"),
    ("Zoom", "Ctrl+wheel, wheel"),
    ("Wire two layers", "Drag from port to port"),
    ("Insert a layer into a wire", "Drop it onto the wire"),
    ("Select several", "Drag on empty canvas"),
    ("Open a block (edit its definition)", "Double-click a block node, Enter"),
    ("Leave the block", "Esc, or a crumb above the canvas"),
    ("Move the gallery or a list's selection", "Arrow keys"),
)


@dataclass(frozen=True)
class Shortcut:
    """One row of the list: where the action lives, its name, its keys."""

    group: str  # the top-level menu ("File"), "Toolbar", "Window" or "Canvas"
    name: str  # e.g. "Align › Left Edges"
    keys: tuple[str, ...]  # portable key names, e.g. ("Ctrl+Shift+Z", "Ctrl+Y")
    menu_path: str = ""  # how to reach it by mnemonics, e.g. "Alt+E, G, L"

    @property
    def keys_text(self) -> str:
        return ", ".join(self.keys)


def clean(text: str) -> str:
    """Menu text as people read it: without the & of the mnemonic or a trailing shortcut tab."""
    return text.split("\t")[0].replace("&&", "\0").replace("&", "").replace("\0", "&")


def mnemonic(text: str) -> str:
    """The underlined letter of a menu text ("Save &As…" -> "A"), or "" when there is none."""
    index = text.replace("&&", "").find("&")
    stripped = text.replace("&&", "")
    return stripped[index + 1].upper() if 0 <= index < len(stripped) - 1 else ""


def keys_of(action: QAction) -> tuple[str, ...]:
    return tuple(
        s.toString(QKeySequence.SequenceFormat.PortableText)
        for s in action.shortcuts()
        if not s.isEmpty()
    )


def collect(window: QMainWindow) -> list[Shortcut]:
    """Every action in the window's menus, then any other action it owns, then the canvas keys."""
    rows: list[Shortcut] = []
    seen: set[int] = set()
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            group = clean(top.text())
            rows += _walk(menu, group, [], [f"Alt+{mnemonic(top.text())}"], seen)
    for action in window.findChildren(QAction):
        if id(action) in seen or action.isSeparator() or action.menu() is not None:
            continue
        if not clean(action.text()).strip():
            continue
        seen.add(id(action))
        in_toolbar = bool(action.associatedObjects()) and not isinstance(
            action.associatedObjects()[0], QMenu
        )
        rows.append(
            Shortcut("Toolbar" if in_toolbar else "Window", clean(action.text()), keys_of(action))
        )
    rows += [Shortcut("Canvas", name, (keys,)) for name, keys in CANVAS_KEYS]
    return rows


def _walk(
    menu: QMenu, group: str, names: list[str], path: list[str], seen: set[int]
) -> list[Shortcut]:
    rows = []
    for action in menu.actions():
        if action.isSeparator() or not action.text():
            continue
        letter = mnemonic(action.text())
        reachable = bool(letter) and bool(path) and path[0] != "Alt+"
        step = [*path, letter] if reachable else []
        sub = action.menu()
        if isinstance(sub, QMenu):
            rows += _walk(sub, group, [*names, clean(action.text())], step, seen)
            continue
        seen.add(id(action))
        name = " › ".join([*names, clean(action.text())])
        menu_path = ", ".join(step)
        if not step and path and path[0] != "Alt+":
            menu_path = ", ".join(path) + ", then arrow keys"
        rows.append(Shortcut(group, name, keys_of(action), menu_path))
    return rows


def matches(row: Shortcut, query: str) -> bool:
    """A key typed whole ("ctrl+s") finds that key only; "ctrl+" finds every Ctrl key;
    words find commands and menus by name."""
    query = query.strip().lower()
    if "+" in query and " " not in query:
        keys = [k.lower() for k in row.keys]
        return any(k == query or (query.endswith("+") and k.startswith(query)) for k in keys)
    text = f"{row.group} {row.name} {row.keys_text} {row.menu_path}".lower()
    return all(word in text for word in query.split())


class ShortcutsDialog(QDialog):
    """The searchable list; typing filters by action name, key or menu."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("ShortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = collect(window)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        heading = QLabel("Keyboard shortcuts")
        heading.setObjectName("ShortcutsHeading")
        note = QLabel(
            "Every command, with its keys. Commands without keys of their own are reached "
            "with Alt and the underlined letters of the menus (shown dimmed)."
        )
        note.setObjectName("ShortcutsNote")
        note.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: a command (undo), a key (Ctrl+S) or a menu (View)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.tree = QTreeWidget()
        self.tree.setObjectName("ShortcutsList")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Command", "Keys"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        self._fill()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for widget in (heading, note, self.search, self.tree, buttons):
            layout.addWidget(widget)
        self.setStyleSheet(_style())
        self.resize(640, 720)
        self.tree.setColumnWidth(0, 340)
        self.search.setFocus()

    def _fill(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        for row in self.rows:
            group = groups.get(row.group)
            if group is None:
                group = QTreeWidgetItem([row.group, ""])
                group.setFirstColumnSpanned(False)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setForeground(0, theme.current().colour("accent"))
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(group)
                groups[row.group] = group
            item = QTreeWidgetItem([row.name, row.keys_text or row.menu_path])
            item.setData(0, Qt.ItemDataRole.UserRole, row)
            if not row.keys:
                item.setForeground(1, theme.current().colour("text_dim"))
                item.setToolTip(
                    1, f"No shortcut: press {row.menu_path} to reach it" if row.menu_path else ""
                )
            item.setToolTip(0, row.name)
            group.addChild(item)
        self.tree.expandAll()

    def filter(self, query: str) -> None:
        for group, items in tree_groups(self.tree):
            shown = 0
            for item in items:
                visible = matches(item.data(0, Qt.ItemDataRole.UserRole), query)
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def visible_rows(self) -> list[Shortcut]:
        return [
            item.data(0, Qt.ItemDataRole.UserRole)
            for group, items in tree_groups(self.tree)
            for item in items
            if not item.isHidden() and not group.isHidden()
        ]


def _style() -> str:
    c = theme.current()
    return (
        f"QLabel#ShortcutsHeading {{ font-size: 15pt; font-weight: bold; color: {c.text}; }}"
        f"QLabel#ShortcutsNote {{ color: {c.text_dim}; }}"
        f"QTreeWidget#ShortcutsList {{ background: {c.canvas}; border: 1px solid {c.node_border};"
        " border-radius: 8px; padding: 4px; }"
        "QTreeWidget#ShortcutsList::item { padding: 3px 6px; }"
    )
