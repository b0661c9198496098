"""The Problems list: every diagnostic of the graph and of the training settings.

Rebuilt after each analysis. Clicking a problem that belongs to a layer
selects that layer and brings it into view; in a project of several networks
each problem names its network, and clicking it first shows that network. A
problem inside a block (reported on its block node, `Diagnostic.path` holding
the way in) opens the block, block inside block, and selects the layer there.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from designer import theme
from designer.document import Document
from engine.analysis import Analysis, Diagnostic

NODE_ROLE = Qt.ItemDataRole.UserRole
NETWORK_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2


class ProblemsPanel(QTreeWidget):
    node_chosen = Signal(str)
    count_changed = Signal(int, int)  # errors, warnings

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Problems")
        self.document = document
        self.setColumnCount(3)
        self.setHeaderLabels(["Problem", "Where", "What to do"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(False)
        self.header().setStretchLastSection(True)
        self.setColumnWidth(0, 460)
        self.setColumnWidth(1, 160)
        self._shown: list[str] | None = None
        document.analysed.connect(self.refresh)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.refresh(document.analysis)

    def refresh(self, _analysis: Analysis | None = None, force: bool = False) -> None:
        problems = self.document.problems()
        key = [str(d) for d in problems]
        if key == self._shown and not force:
            return  # most edits change shapes, not problems: leave the list (and its paint) alone
        self._shown = key
        self.clear()
        t = theme.current()
        errors = sum(d.severity == "error" for d in problems)
        for d in sorted(problems, key=lambda d: d.severity != "error"):
            item = QTreeWidgetItem([d.message, _where(d), d.hint or ""])
            icon = "mdi6.close-circle" if d.severity == "error" else "mdi6.alert"
            colour = t.error if d.severity == "error" else t.warning
            item.setIcon(0, theme.layer_icon(icon, colour))
            item.setData(0, NODE_ROLE, d.node)
            item.setData(0, NETWORK_ROLE, d.network)
            item.setData(0, PATH_ROLE, list(d.path))
            item.setToolTip(0, str(d))
            self.addTopLevelItem(item)
        if not problems:
            ready = (
                "the networks are" if self.document.project.is_multi_network else "the network is"
            )
            ok = QTreeWidgetItem([f"No problems: {ready} ready to train", "", ""])
            ok.setIcon(0, theme.layer_icon("mdi6.check-circle", t.ok))
            ok.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addTopLevelItem(ok)
        self.count_changed.emit(errors, len(problems) - errors)

    def diagnostics_shown(self) -> list[str]:
        items = (self.topLevelItem(i) for i in range(self.topLevelItemCount()))
        return [item.text(0) for item in items if item is not None]

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        node_id = item.data(0, NODE_ROLE)
        network = item.data(0, NETWORK_ROLE)
        path = tuple(item.data(0, PATH_ROLE) or ())
        if network:
            self.document.show_network(network)
        if node_id and path:
            # the block nodes on the way in, then the layer inside the last one
            if self.document.enter_path((node_id, *path[:-1])):
                self.node_chosen.emit(path[-1])
        elif node_id:
            self.document.leave_block(0)
            self.node_chosen.emit(node_id)


def _where(d: Diagnostic) -> str:
    place = _place(d)
    if d.network:
        return d.network if place == "network" else f"{d.network} · {place}"
    return place


def _place(d: Diagnostic) -> str:
    if d.node and d.path:
        return " › ".join((d.node, *d.path))
    if d.node and d.param:
        return f"{d.node} · {d.param}"
    if d.node:
        return d.node
    if d.param:
        return d.param
    return "network"
