"""Find Repeated Blocks: show what engine/repeats.py would fold before anything changes.

The dialog lists each proposal (the new definition's name, its layer types, and the
layers of every use); the caller selects those layers on the canvas while it is open so
the user sees where they are. OK folds them all, as one undo step.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.repeats import Proposal


class RepeatsDialog(QDialog):
    """The proposals, one row each with its uses below; Fold or Cancel."""

    def __init__(self, proposals: Sequence[Proposal], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find Repeated Blocks")
        self.resize(620, 360)
        layout = QVBoxLayout(self)
        layers = sum(len(use) for p in proposals for use in p.uses)
        uses = sum(len(p.uses) for p in proposals)
        layout.addWidget(
            QLabel(
                f"{layers} layers repeat: fold them into {uses} uses of "
                f"{len(proposals)} new block definition(s)? The selected layers on the canvas "
                "are the ones that would fold. One undo step takes it back."
            )
        )
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Block", "Layers"])
        self.tree.setColumnWidth(0, 180)
        for proposal in proposals:
            row = QTreeWidgetItem(
                [proposal.name, f"{len(proposal.uses)} uses of {' › '.join(proposal.types)}"]
            )
            for index, use in enumerate(proposal.uses, 1):
                row.addChild(QTreeWidgetItem([f"use {index}", ", ".join(use)]))
            self.tree.addTopLevelItem(row)
        self.tree.expandAll()
        layout.addWidget(self.tree)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("Fold into Blocks")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def confirm_repeats(proposals: Sequence[Proposal], parent: QWidget | None) -> bool:
    """Show the proposals and ask whether to fold them (tests answer this)."""
    return RepeatsDialog(proposals, parent).exec() == QDialog.DialogCode.Accepted
