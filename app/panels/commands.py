"""Undo commands for the project's non-graph sections (`training`, `dataset`).

A command sets one value at a key path (``("optimizer", "lr")``) in a section
of the document's project; typing into one field merges into one step, like
the inspector's parameter edits. After each change the document re-analyses,
which refreshes the Problems list and the panels bound to the section.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

SET_PROJECT_VALUE_ID = 2001
MISSING: Any = object()  # the key is absent (undo of an added key removes it again)


def _copied(value: Any) -> Any:
    return value if value is MISSING else copy.deepcopy(value)


def read(section: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = section
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def write(section: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = section
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = _copied(value)


class SetProjectValue(QUndoCommand):
    """Set `project.<section>[path] = value` (e.g. training / optimizer.lr)."""

    def __init__(
        self, document: Any, section: str, path: tuple[str, ...], value: Any, text: str, merge: bool
    ) -> None:
        super().__init__(text)
        self.document = document
        self.section = section
        self.path = path
        self.old = _copied(read(self._section(), path))
        self.new = _copied(value)
        self.open = merge

    def _section(self) -> dict[str, Any]:
        return getattr(self.document.project, self.section)

    def id(self) -> int:
        return SET_PROJECT_VALUE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (
            isinstance(other, SetProjectValue)
            and self.open
            and other.open
            and (other.section, other.path) == (self.section, self.path)
        ):
            return False
        self.new = other.new
        self.setText(other.text())
        return True

    def redo(self) -> None:
        write(self._section(), self.path, self.new)
        self.document.schedule_analysis()

    def undo(self) -> None:
        write(self._section(), self.path, self.old)
        self.document.schedule_analysis()


def close_merging(document: Any) -> None:
    """The field lost focus: the next edit of it is a new undo step."""
    stack = document.undo_stack
    top = stack.command(stack.index() - 1)
    if isinstance(top, SetProjectValue):
        top.open = False
