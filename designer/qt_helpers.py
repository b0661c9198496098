"""Small typed walks over Qt containers whose accessors may return None (PySide's stubs say so)."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtWidgets import QLayout, QTreeWidget, QTreeWidgetItem


def tree_groups(tree: QTreeWidget) -> Iterator[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
    """Each top-level item of a two-level tree with its children."""
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        if group is None:
            continue
        children = [group.child(j) for j in range(group.childCount())]
        yield group, [child for child in children if child is not None]


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every widget a layout holds."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()  # at once: deleteLater waits for the event loop
            widget.deleteLater()
