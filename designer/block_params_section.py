"""The inspector's Block parameters: inside a block with nothing selected, each parameter it
declares with its default (an editor of its kind), which layers it sets and which nodes set
their own value, and Rename… / Remove in a menu beside it; each edit one undo step through
the document (docs/blocks.md, per-use parameters)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer import theme
from designer.document import Document
from designer.form_parts import form_box, set_text, text_label
from designer.param_editors import ParamEditor, restyle
from engine.block_params import ParamUsage
from engine.blocks import use_param


class BlockParamsSection(QWidget):
    """The section, built for the block shown; `refused` shows why an edit was not applied."""

    def __init__(self, document: Document, block: str, refused: Callable[[str], None]) -> None:
        super().__init__()
        self.document = document
        self.block = block
        self.refused = refused
        self.rows: dict[str, BlockParamRow] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(text_label("Block parameters", "InspectorSection"))
        # the inspector shows refusals here (its problem note) while the section is up
        self.problem_note = text_label("", "InspectorRefusal")
        self.problem_note.hide()
        usage = document.block_param_usage()
        if not usage:
            layout.addWidget(
                text_label(
                    f"Block '{block}' has no per-use parameters. To add one, select a layer "
                    "and choose Set per use… in the menu beside one of its fields.",
                    "InspectorDim",
                )
            )
        else:
            layout.addWidget(
                text_label(
                    f"Each node using block '{block}' may set its own value of these; the "
                    "others take the default shown.",
                    "InspectorDim",
                )
            )
            box, form = form_box(top=0)
            for found in usage:
                row = BlockParamRow(self, block, found)
                self.rows[found.name] = row
                form.addRow(row.label, row.box)
            layout.addWidget(box)
        layout.addWidget(self.problem_note)

    def refresh(self) -> bool:
        """Update the rows in place (a field being typed in keeps its text); False when the
        block shown or the parameters it declares changed and the section must be built anew."""
        usage = self.document.block_param_usage()
        if self.document.block_shown != self.block or [u.name for u in usage] != list(self.rows):
            return False
        for found in usage:
            self.rows[found.name].update(self.block, found)
        return True

    def rename(self, name: str) -> None:
        """Ask for a new name of block parameter `name`; a refused one says why."""
        block = self.document.block_shown
        chosen, ok = QInputDialog.getText(
            self,
            f"Rename parameter '{name}'",
            f"New name of parameter '{name}' of block '{block}'.\n"
            "The layers that refer to it and every node's own value follow:",
            QLineEdit.EchoMode.Normal,
            name,
        )
        chosen = chosen.strip()
        if not ok or not chosen or chosen == name:
            return
        problem = self.document.rename_block_param(name, chosen)
        if problem:
            self.refused(problem)

    def remove(self, name: str) -> None:
        """Remove block parameter `name`; asks first when layers refer to it or nodes set it."""
        found = next((u for u in self.document.block_param_usage() if u.name == name), None)
        if found is None:
            return
        if found.layers or found.own:
            if not self._confirm_remove(found):
                return
        problem = self.document.remove_block_param(name)
        if problem:
            self.refused(problem)

    def _confirm_remove(self, found: ParamUsage) -> bool:
        lines = []
        if found.layers:
            lines.append(
                f"{_listed([f'{n}.{k}' for n, k in found.layers])} will be fixed at "
                f"{found.default} (the default) for every node."
            )
        if found.own:
            lines.append(
                f"The value{'s' if len(found.own) > 1 else ''} set on "
                f"{_listed(found.own)} will be dropped."
            )
        answer = QMessageBox.question(
            self,
            f"Remove parameter '{found.name}'",
            f"Remove parameter '{found.name}' of block '{self.document.block_shown}'?\n\n"
            + "\n".join(lines)
            + "\n\nUndo brings it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def edit_default(self, name: str, value: object, merge: bool) -> None:
        self.problem_note.hide()
        problem = self.document.set_block_param_default(name, value, merge)
        if problem:
            self.refused(problem)


class BlockParamRow:
    """One row of Block parameters: the name, the default's editor, the ⋯ menu (Rename…,
    Remove) and a line saying which layers it sets and which nodes set their own value."""

    def __init__(self, section: BlockParamsSection, block: str, found: ParamUsage) -> None:
        document = section.document
        self.name = found.name
        param = use_param(block, document.graph, found.name, found.default)
        self.editor = ParamEditor(param, found.default)
        self.editor.setEnabled(not document.read_only)
        self.editor.edited.connect(
            lambda value, merge: section.edit_default(found.name, value, merge)
        )
        self.editor.refused.connect(section.refused)
        self.editor.finished.connect(document.end_merge)
        self.label = QLabel(found.name)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.label.setContentsMargins(0, 5, 0, 0)
        self.button = QToolButton()
        self.button.setObjectName("InspectorPerUse")
        self.button.setAutoRaise(True)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setEnabled(not document.read_only)
        self.button.setIcon(theme.layer_icon("mdi6.dots-horizontal", theme.current().text_dim))
        self.button.setToolTip(f"Rename or remove parameter '{found.name}'")
        self.menu = QMenu(self.button)
        self.rename_action = self.menu.addAction("Rename…")
        self.rename_action.triggered.connect(lambda: section.rename(self.name))
        self.remove_action = self.menu.addAction("Remove")
        self.remove_action.triggered.connect(lambda: section.remove(self.name))
        self.button.setMenu(self.menu)
        self.usage = text_label("", "InspectorLinked")
        self.box = QWidget()
        column = QVBoxLayout(self.box)
        column.setContentsMargins(0, 0, 0, 4)
        column.setSpacing(2)
        field_row = QHBoxLayout()
        field_row.setSpacing(4)
        field_row.addWidget(self.editor, 1)
        field_row.addWidget(self.button)
        column.addLayout(field_row)
        column.addWidget(self.usage)
        self.update(block, found)

    def update(self, block: str, found: ParamUsage) -> None:
        if not self.editor.field.hasFocus():
            self.editor.set_value(found.default)
        set_text(self.usage, usage_text(found))
        if bool(self.usage.property("unused")) != found.unused:
            self.usage.setProperty("unused", found.unused)
            restyle(self.usage)
        asks = bool(found.layers or found.own)
        self.remove_action.setText("Remove…" if asks else "Remove")
        self.remove_action.setToolTip(
            "The layers that refer to it keep its default as a fixed value; nodes' own values go"
            if asks
            else "Nothing uses it"
        )
        tip = (
            f"The default of '{found.name}': what a node using block '{block}' takes while it "
            f"sets no value of its own.\nAccepts: {self.editor.param.describe()}"
        )
        self.editor.field.setToolTip(tip)
        self.label.setToolTip(tip)


def usage_text(found: ParamUsage) -> str:
    """``default · sets conv.out_channels, conv2.out_channels · 1 of 2 nodes set their own``;
    an unused parameter says so first."""
    if found.unused:
        first = "unused: no layer refers to it"
    else:
        first = "default · sets " + _listed([f"{n}.{k}" for n, k in found.layers])
    if not found.uses:
        second = "no node uses the block"
    elif not found.own:
        second = "every node takes the default" if found.uses > 1 else "its node takes the default"
    else:
        second = f"{len(found.own)} of {found.uses} nodes set their own ({_listed(found.own)})"
    return f"{first} · {second}"


def _listed(names: list[str] | tuple[str, ...], most: int = 3) -> str:
    """``a, b and c``; beyond `most`, ``a, b, c and 2 more``."""
    names = list(names)
    if not names:
        return "nothing"
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
