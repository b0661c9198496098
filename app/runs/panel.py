"""The Runs panel: every recorded run of the open project, compared and restored.

A sortable table (name, date, status, best validation loss and accuracy,
parameters, epochs, time, note); beside it the selected runs' curves on one
chart, and for two runs the comparison (settings that differ, layers added,
removed or changed, marked on the canvas). Restore puts a run's networks,
settings and weights back into the editor as one undo step; Delete removes
runs from disk. Keys: Delete, F2 (note), Enter (restore); the same and more in
the context menu. The list follows the project: another project or Save As
shows that project's runs, a run that ends appears at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.runs import model as columns
from app.runs.canvas_marks import CanvasMarks
from app.runs.compare_view import comparison_html
from app.runs.curves import METRICS, RunCurves
from app.runs.model import RunsModel
from app.runs.restore import RestoreError, restore_run
from designer import theme
from engine.experiments.compare import compare
from engine.experiments.history import RunHistory, RunRecord
from engine.experiments.location import runs_folder

if TYPE_CHECKING:
    from app.training.weights_keeper import WeightsKeeper
    from designer.document import Document
    from designer.scene import GraphScene

TABLE_KEYS = (
    Qt.Key.Key_Delete,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_F2,
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
)
LIVE_REFRESH_MS = 1500  # while a run trains, its row follows its epochs this often


class RunsTable(QTableView):
    """The table; it takes Delete, F2 and Enter before the window's shortcuts do (the canvas's
    Delete would otherwise delete layers while the table has the focus)."""

    key_pressed = Signal(int)
    menu_asked = Signal(object)  # the global position

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.key() in TABLE_KEYS and self.state() != QAbstractItemView.State.EditingState:
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in TABLE_KEYS and self.state() != QAbstractItemView.State.EditingState:
            self.key_pressed.emit(int(event.key()))
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.menu_asked.emit(event.globalPos())


class RunsPanel(QWidget):
    restored = Signal(str)  # the run id, once it is in the editor
    changed = Signal()  # the list was read again

    def __init__(
        self,
        document: Document,
        scene: GraphScene,
        keeper: WeightsKeeper | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("RunsPanel")
        self.document = document
        self.keeper = keeper
        self.quiet = False  # no modal questions (screenshots): delete asks nothing then
        self.marks = CanvasMarks(scene)
        self.model = RunsModel()
        self.sorted = QSortFilterProxyModel(self)
        self.sorted.setSourceModel(self.model)
        self.sorted.setSortRole(columns.SORT_ROLE)
        self.history: RunHistory | None = None
        self.comparison: tuple[str, str] | None = None
        self._build()
        self.live = QTimer(self)
        self.live.setInterval(LIVE_REFRESH_MS)
        self.live.timeout.connect(self._live_refresh)
        document.project_replaced.connect(self.refresh)
        document.project_replaced.connect(self.marks.clear)
        self.refresh()

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 8, 4)
        self.summary = QLabel("")
        self.summary.setObjectName("RunsSummary")
        header.addWidget(self.summary, 1)
        self.record_box = QCheckBox("Record new runs")
        self.record_box.setChecked(True)
        self.record_box.setToolTip(
            "Keep every run started from this window in the project's run history"
        )
        header.addWidget(self.record_box)
        header.addSpacing(8)
        header.addWidget(QLabel("Curves"))
        self.metric_box = QComboBox()
        for key, label in METRICS.items():
            self.metric_box.addItem(label, key)
        self.metric_box.currentIndexChanged.connect(lambda _i: self._show_curves())
        header.addWidget(self.metric_box)
        self.buttons: dict[str, QPushButton] = {}
        for name, text, tip, slot in (
            (
                "compare",
                "Compare",
                "Compare the two selected runs: settings and layers",
                self.compare_selected,
            ),
            (
                "restore",
                "Restore",
                "Put this run's network, settings and weights into the editor (Enter; undoable)",
                self.restore_selected,
            ),
            (
                "delete",
                "Delete",
                "Delete the selected runs from disk (Delete)",
                self.delete_selected,
            ),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, s=slot: s())
            header.addWidget(button)
            self.buttons[name] = button
        refresh = QPushButton(theme.layer_icon("mdi6.refresh", theme.current().text_dim), "")
        refresh.setObjectName("RefreshRuns")
        refresh.setToolTip("Read the run history again (runs from the command line appear)")
        refresh.setFixedWidth(32)
        refresh.clicked.connect(lambda _c=False: self.refresh())
        header.addWidget(refresh)

        self.table = RunsTable()
        self.table.setObjectName("RunsTable")
        self.table.setModel(self.sorted)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(columns.STARTED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        head.setStretchLastSection(True)
        for column, width in ((columns.NAME, 110), (columns.STARTED, 122), (columns.STATUS, 96)):
            self.table.setColumnWidth(column, width)
        for column in (
            columns.LOSS,
            columns.ACCURACY,
            columns.PARAMETERS,
            columns.EPOCHS,
            columns.TIME,
        ):
            self.table.setColumnWidth(column, 84)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.table.key_pressed.connect(self._key)
        self.table.menu_asked.connect(self._menu)

        self.curves = RunCurves()
        self.details = QTextBrowser()
        self.details.setObjectName("RunComparison")
        self.details.setOpenLinks(False)
        compare_page = QWidget()
        compare_layout = QVBoxLayout(compare_page)
        compare_layout.setContentsMargins(0, 0, 0, 0)
        compare_layout.addWidget(self.details, 1)
        marks_row = QHBoxLayout()
        marks_row.setContentsMargins(6, 2, 6, 4)
        self.mark_button = QPushButton("Mark on Canvas")
        self.mark_button.setToolTip("Outline the layers the second run added or changed")
        self.mark_button.clicked.connect(lambda _c=False: self.mark_on_canvas())
        clear = QPushButton("Clear Marks")
        clear.clicked.connect(lambda _c=False: self.marks.clear())
        marks_row.addStretch(1)
        marks_row.addWidget(self.mark_button)
        marks_row.addWidget(clear)
        compare_layout.addLayout(marks_row)
        self.details.setPlaceholderText(
            "Select two runs and press Compare (or Compare in the table's menu): the settings "
            "that differ and the layers added, removed or changed, marked on the canvas."
        )
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.curves)
        split.addWidget(compare_page)
        for index, stretch in enumerate((5, 3, 3)):
            split.setStretchFactor(index, stretch)
        split.setSizes([700, 420, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(split, 1)
        self._update_buttons()

    # ------------------------------------------------------------- reading
    def folder(self) -> Path:
        project = self.document.project
        return runs_folder(project.path, project.name)

    def refresh(self) -> None:
        """Read the project's history again, keeping the selection."""
        chosen = {r.id for r in self.selected()}
        self.history = RunHistory(self.folder())
        self.model.load(self.history)
        self._reselect(chosen)
        self._update_summary()
        self._show_curves()
        self.changed.emit()

    def _live_refresh(self) -> None:
        if self.isVisible() and not self.model.follow():
            self.refresh()

    def follow_run(self, running: bool) -> None:
        """While a run trains (or a search), its row follows it."""
        if running:
            self.live.start()
        else:
            self.live.stop()
            self.refresh()

    def _update_summary(self) -> None:
        runs = self.model.runs
        project = self.document.project.name
        if not runs:
            self.summary.setText(
                f"<b>{project}</b> · no runs yet: press Train (F5) and each run is kept here"
            )
            return
        size = sum(r.size() for r in runs) / 1e6
        self.summary.setText(
            f"<b>{project}</b> · {len(runs)} run{'s' if len(runs) != 1 else ''} · {size:.1f} MB"
        )
        self.summary.setToolTip(str(self.folder()))

    def runs(self) -> list[RunRecord]:
        return list(self.model.runs)

    def selected(self) -> list[RunRecord]:
        """The selected runs, in the table's order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [
            self.model.run(self.sorted.mapToSource(self.sorted.index(r, 0)).row()) for r in rows
        ]

    def select(self, run_ids: list[str]) -> None:
        self.table.clearSelection()
        self._reselect(set(run_ids))

    def _reselect(self, chosen: set[str]) -> None:
        selection = self.table.selectionModel()
        for row, run in enumerate(self.model.runs):
            if run.id in chosen:
                index = self.sorted.mapFromSource(self.model.index(row, 0))
                selection.select(
                    index,
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )

    # ---------------------------------------------------------- selection
    def _selection_changed(self) -> None:
        self._update_buttons()
        self._show_curves()

    def _update_buttons(self) -> None:
        count = len(self.selected()) if hasattr(self, "table") else 0
        self.buttons["compare"].setEnabled(count == 2)
        self.buttons["restore"].setEnabled(count == 1 and not self.document.read_only)
        self.buttons["delete"].setEnabled(count >= 1)

    def _show_curves(self) -> None:
        if not self.isVisible() and self.curves.chart is None:
            return  # drawn when shown (pyqtgraph loads after the first paint)
        chosen = self.selected()[:8]
        colours = self.curves.show_runs(chosen, str(self.metric_box.currentData()))
        self.model.set_colours(colours)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self, self._show_curves)  # dropped if the panel goes first

    # -------------------------------------------------------------- actions
    def compare_selected(self) -> bool:
        chosen = self.selected()
        if len(chosen) != 2:
            return False
        before, after = sorted(chosen, key=lambda r: (r.data.get("started_at") or 0.0, r.started))
        result = compare(before.data, after.data)
        self.comparison = (before.id, after.id)
        self.last_comparison = result
        self.details.setHtml(comparison_html(before, after, result))
        self.mark_on_canvas()
        return True

    def mark_on_canvas(self) -> int:
        comparison = getattr(self, "last_comparison", None)
        if comparison is None:
            return 0
        network = self.document.network or "network"
        return self.marks.show(comparison.layers, network)

    def restore_selected(self) -> bool:
        chosen = self.selected()
        if len(chosen) != 1:
            return False
        run = chosen[0]
        if self.document.read_only:
            self.document.message.emit("Stop training to restore a run.")
            return False
        try:
            done = restore_run(self.document, self.keeper, run)
        except RestoreError as error:
            self.document.message.emit(f"Cannot restore {run.name}: {error}")
            return False
        if done:
            self.marks.clear()
            self.document.message.emit(
                f"Restored {run.name}: Ctrl+Z puts the previous network back"
            )
            self.restored.emit(run.id)
        return done

    def delete_selected(self) -> int:
        chosen = [r for r in self.selected() if r.finished]
        if not chosen or self.history is None:
            return 0
        names = ", ".join(r.name for r in chosen[:4]) + (" …" if len(chosen) > 4 else "")
        if not self.quiet:
            answer = QMessageBox.question(
                self,
                "Delete runs",
                f"Delete {len(chosen)} run{'s' if len(chosen) > 1 else ''} ({names}) from disk? "
                "Their curves, settings and weights are removed; this cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        removed = self.history.delete(r.id for r in chosen)
        self.refresh()
        return len(removed)

    def edit_note(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.table.edit(index.siblingAtColumn(columns.NOTE))

    def toggle_pin(self) -> None:
        if self.history is None:
            return
        for run in self.selected():
            self.history.update(run.id, pinned=not run.pinned)
        self.refresh()

    def _key(self, key: int) -> None:
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif key == Qt.Key.Key_F2:
            self.edit_note()
        else:
            self.restore_selected()

    def _menu(self, position: Any) -> None:
        chosen = self.selected()
        menu = QMenu(self)
        add = self._menu_action
        add(menu, "Restore into Editor", "Return", self.restore_selected, len(chosen) == 1)
        add(menu, "Compare", None, self.compare_selected, len(chosen) == 2)
        menu.addSeparator()
        add(menu, "Edit Note", "F2", self.edit_note, len(chosen) >= 1)
        pinned = bool(chosen) and all(r.pinned for r in chosen)
        add(
            menu,
            "Unpin" if pinned else "Pin (Never Delete Automatically)",
            None,
            self.toggle_pin,
            bool(chosen),
        )
        add(menu, "Copy Run Id", None, lambda: self._copy_ids(chosen), bool(chosen))
        add(menu, "Open Run Folder", None, lambda: self._open_folder(chosen), len(chosen) == 1)
        menu.addSeparator()
        add(menu, "Delete…", "Del", self.delete_selected, bool(chosen))
        menu.exec(position)

    def _menu_action(
        self, menu: QMenu, text: str, keys: str | None, slot: Any, enabled: bool
    ) -> QAction:
        action = menu.addAction(text)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.setEnabled(enabled)
        action.triggered.connect(lambda _c=False: slot())
        return action

    def _copy_ids(self, chosen: list[RunRecord]) -> None:
        QGuiApplication.clipboard().setText("\n".join(r.id for r in chosen))

    def _open_folder(self, chosen: list[RunRecord]) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(chosen[0].folder)))

    def index_of(self, run_id: str) -> QModelIndex:
        for row, run in enumerate(self.model.runs):
            if run.id == run_id:
                return self.sorted.mapFromSource(self.model.index(row, 0))
        return QModelIndex()


__all__ = ["RunsPanel", "RunsTable"]
