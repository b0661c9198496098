"""The Search panel: what to vary, the budget, the trials as they finish, and Apply Best.

Dimensions are written as on the command line (`lr` = ``1e-4..1e-2:log``,
`batch_size` = ``32,64,128``, `conv1.out_channels` = ``8..64``); the Add menu
offers every training setting and layer parameter with a range around the
project's own value. Start runs the search in the training worker (the graph
is locked, the dashboard shows the current trial live, Stop and Pause work as
for a run); the trial table, the objective over trials and the importances
fill as trials end. Apply Best sets the best trial's values in the project as
one undo step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.runs.model import status_colour
from app.search.charts import ImportanceBars, ObjectiveChart
from designer import theme
from engine.experiments.dimensions import Dimension, DimensionError, candidates, parse_dimension
from engine.settings import TrainingSettings

if TYPE_CHECKING:
    from app.search.worker import SearchSummary, SearchWorker
    from app.training.controller import TrainingController
    from designer.document import Document

OBJECTIVES = {
    "val_loss": "Validation loss",
    "val_accuracy": "Validation accuracy",
    "train_loss": "Training loss",
}
STARTING = ("lr", "batch_size")


class SearchPanel(QWidget):
    applied = Signal(int)  # the trial number whose values were applied
    trial_finished = Signal(object)  # TrialOutcome (the Runs panel reads its history again)

    def __init__(
        self, document: Document, controller: TrainingController, record: Any = None
    ) -> None:
        super().__init__()
        self.setObjectName("SearchPanel")
        self.document = document
        self.controller = controller
        self.record = record  # the window's RecordLook: its switch decides whether trials are kept
        self.worker: SearchWorker | None = None
        self.outcomes: list[Any] = []
        self.summary: SearchSummary | None = None
        self.searched: list[Dimension] = []  # the dimensions of the search that ran
        self._build()
        document.project_replaced.connect(self._project_replaced)
        document.read_only_changed.connect(lambda _locked: self._update_buttons())
        self._project_replaced()

    # ----------------------------------------------------------------- build
    def _build(self) -> None:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(_heading("What to search"))
        self.dimension_table = QTableWidget(0, 3)
        self.dimension_table.setObjectName("SearchDimensions")
        self.dimension_table.setHorizontalHeaderLabels(["Vary", "Values", ""])
        self.dimension_table.setToolTip(
            "A training setting (lr, batch_size, …) or a layer's node.param"
        )
        head = self.dimension_table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.dimension_table.setColumnWidth(0, 118)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.dimension_table.setColumnWidth(2, 26)
        self.dimension_table.verticalHeader().hide()
        self.dimension_table.setMaximumHeight(150)
        self.dimension_table.itemChanged.connect(lambda _i: self._check_dimensions())
        layout.addWidget(self.dimension_table)
        row = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add ▾")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        row.addWidget(self.add_button)
        hint = QLabel("LOW..HIGH, LOW..HIGH:log or A,B,C")
        hint.setObjectName("HintLabel")
        row.addWidget(hint, 1)
        layout.addLayout(row)
        self.problem = QLabel("")
        self.problem.setObjectName("InspectorRefusal")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)

        form = QGridLayout()
        form.setContentsMargins(0, 4, 0, 4)
        form.setHorizontalSpacing(8)
        self.trials_box = QSpinBox()
        self.trials_box.setRange(1, 10_000)
        self.trials_box.setValue(20)
        self.minutes_box = QSpinBox()
        self.minutes_box.setRange(0, 100_000)
        self.minutes_box.setSpecialValueText("no limit")
        self.minutes_box.setSuffix(" min")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1_000_000)
        self.objective_box = QComboBox()
        for key, label in OBJECTIVES.items():
            self.objective_box.addItem(label, key)
        self.epochs_box.setToolTip("Epochs each trial trains (early stopping still applies)")
        self.minutes_box.setToolTip("No trial starts after this long (0: no limit)")
        for index, (text, box) in enumerate(
            (
                ("Trials", self.trials_box),
                ("Epochs", self.epochs_box),
                ("Budget", self.minutes_box),
                ("Objective", self.objective_box),
            )
        ):
            row_, column = divmod(index, 2)
            form.addWidget(QLabel(text), row_, 2 * column)
            form.addWidget(box, row_, 2 * column + 1)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 2)
        layout.addLayout(form)

        layout.addStretch(1)
        setup = QScrollArea()
        setup.setWidgetResizable(True)
        setup.setFrameShape(QScrollArea.Shape.NoFrame)
        setup.setWidget(inner)

        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(6, 6, 6, 6)
        self.trial_table = QTableWidget(0, 4)
        self.trial_table.setObjectName("SearchTrials")
        self.trial_table.setHorizontalHeaderLabels(["#", "Objective", "State", "Values"])
        self.trial_table.verticalHeader().hide()
        self.trial_table.verticalHeader().setDefaultSectionSize(22)
        self.trial_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.trial_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trial_table.setSortingEnabled(True)
        self.trial_table.setWordWrap(False)
        trial_head = self.trial_table.horizontalHeader()
        for column in (0, 1, 2):
            trial_head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        trial_head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        results_layout.addWidget(self.trial_table, 3)
        results_layout.addWidget(_heading("Objective over trials"))
        self.chart = ObjectiveChart()
        results_layout.addWidget(self.chart, 2)
        results_layout.addWidget(_heading("Importance"))
        self.importance = ImportanceBars()
        results_layout.addWidget(self.importance)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(setup, "Set-up")
        self.tabs.addTab(results, "Trials")

        buttons = QHBoxLayout()
        buttons.setContentsMargins(8, 6, 8, 0)
        self.start_button = QPushButton("Start Search")
        self.start_button.setObjectName("StartSearch")
        self.start_button.clicked.connect(lambda _c=False: self.start())
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(lambda _c=False: self.controller.stop())
        self.apply_button = QPushButton("Apply Best")
        self.apply_button.setToolTip("Set the best trial's values in the project (one undo step)")
        self.apply_button.clicked.connect(lambda _c=False: self.apply_best())
        for button in (self.start_button, self.stop_button, self.apply_button):
            buttons.addWidget(button)
        self.status = QLabel(
            "Each trial trains the project with values the search proposes; the first is the "
            "project's own."
        )
        self.status.setWordWrap(True)
        self.status.setObjectName("SearchStatus")
        self.status.setContentsMargins(8, 2, 8, 4)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(buttons)
        outer.addWidget(self.status)
        outer.addWidget(self.tabs, 1)
        self._update_buttons()

    # ------------------------------------------------------------ dimensions
    def _project_replaced(self) -> None:
        project = self.document.project
        settings = TrainingSettings.from_project(project)
        self.epochs_box.setValue(settings.epochs)
        self.dimension_table.setRowCount(0)
        if not project.is_multi_network:
            offered = {d.name: d for d in candidates(project)}
            for name in STARTING:
                if name in offered:
                    self.add_dimension(offered[name].spec())
        self.setEnabled(not project.is_multi_network)
        self.status.setText(
            "A GAN has no validation figure to search on."
            if project.is_multi_network
            else "Each trial trains the project with values the search proposes; the first is the project's own."
        )

    def add_dimension(self, spec: str) -> None:
        """A row for `spec` (``lr=1e-4..1e-2:log``); an existing row of that name is replaced."""
        name, _eq, values = spec.partition("=")
        for row in range(self.dimension_table.rowCount()):
            item = self.dimension_table.item(row, 0)
            if item is not None and item.text() == name:
                self.dimension_table.item(row, 1).setText(values)  # type: ignore[union-attr]
                return
        row = self.dimension_table.rowCount()
        self.dimension_table.insertRow(row)
        label = QTableWidgetItem(name)
        label.setFlags(label.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.dimension_table.setItem(row, 0, label)
        self.dimension_table.setItem(row, 1, QTableWidgetItem(values))
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip(f"Stop searching {name}")
        remove.clicked.connect(lambda _c=False, n=name: self.remove_dimension(n))
        self.dimension_table.setCellWidget(row, 2, remove)
        self._check_dimensions()

    def remove_dimension(self, name: str) -> None:
        for row in range(self.dimension_table.rowCount()):
            item = self.dimension_table.item(row, 0)
            if item is not None and item.text() == name:
                self.dimension_table.removeRow(row)
                break
        self._check_dimensions()

    def specs(self) -> list[str]:
        found = []
        for row in range(self.dimension_table.rowCount()):
            name, values = self.dimension_table.item(row, 0), self.dimension_table.item(row, 1)
            if name is not None and values is not None:
                found.append(f"{name.text()}={values.text().strip()}")
        return found

    def dimensions(self) -> list[Dimension]:
        """The dimensions as written; raises DimensionError naming the first bad one."""
        return [parse_dimension(spec, self.document.project) for spec in self.specs()]

    def _check_dimensions(self) -> bool:
        try:
            found = self.dimensions()
        except DimensionError as error:
            self.problem.setText(str(error))
            self._update_buttons(False)
            return False
        self.problem.setText(
            "" if found else "Add at least one setting or layer parameter to vary."
        )
        self._update_buttons(bool(found))
        return bool(found)

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        offered = candidates(self.document.project)
        settings = self.add_menu.addMenu("Training settings")
        layers: dict[str, QMenu] = {}
        for dimension in offered:
            if dimension.setting is not None:
                menu = settings
            else:
                node = dimension.node or ""
                if node not in layers:
                    layers[node] = self.add_menu.addMenu(
                        f"{node} ({self.document.graph.node(node).type})"
                    )
                menu = layers[node]
            action = menu.addAction(f"{dimension.name}    {dimension.values_text()}")
            spec = dimension.spec()
            action.triggered.connect(lambda _c=False, s=spec: self.add_dimension(s))

    # ---------------------------------------------------------------- search
    def _update_buttons(self, valid: bool | None = None) -> None:
        if valid is None:
            valid = bool(self.specs()) and not self.problem.text().startswith("'")
        running = self.controller.running
        self.start_button.setEnabled(valid and not running)
        self.stop_button.setEnabled(self.worker is not None and running)
        best = self.summary.best if self.summary is not None else None
        self.apply_button.setEnabled(
            best is not None and not self.document.read_only and not running
        )

    def start(self) -> bool:
        """Start the search in the training worker; False when it cannot start."""
        if self.controller.running or not self._check_dimensions():
            return False
        dimensions = self.dimensions()
        minutes = self.minutes_box.value()
        record = self.record.enabled if self.record is not None else True

        def make_worker(project: Any, settings: Any) -> SearchWorker:
            from app.search.worker import SearchWorker

            worker = SearchWorker(
                project,
                settings,
                self.controller.buffer,
                self.controller.looks,
                dimensions=dimensions,
                trials=self.trials_box.value(),
                timeout=minutes * 60.0 if minutes else None,
                epochs=self.epochs_box.value(),
                objective=str(self.objective_box.currentData()),
                record=record,
            )
            worker.trial_started.connect(self._trial_started)
            worker.trial_finished.connect(self._trial_finished)
            worker.search_ended.connect(self._search_ended)
            worker.finished.connect(self._ended)
            self.worker = worker
            return worker

        self.outcomes, self.summary, self.searched = [], None, dimensions
        self.trial_table.setRowCount(0)
        self.importance.set_values({})
        started = self.controller.train(make_worker=make_worker)
        if started:
            self.tabs.setCurrentIndex(1)
        self.status.setText(
            "Preparing the first trial…" if started else "Could not start the search."
        )
        self._update_buttons()
        return started

    def _trial_started(self, number: int, params: dict[str, Any]) -> None:
        text = ", ".join(f"{k} {_show(v)}" for k, v in params.items())
        self.status.setText(f"Trial {number + 1} of {self.trials_box.value()}: {text}")
        self.controller.log.say(f"Search: trial {number} — {text}")

    def _trial_finished(self, outcome: Any) -> None:
        self.outcomes.append(outcome)
        self._add_trial_row(outcome)
        self.chart.show_trials(self.outcomes, str(self.objective_box.currentData()))
        value = f" {outcome.value:.4f}" if outcome.value is not None else ""
        self.controller.log.say(
            f"Search: trial {outcome.number} {outcome.state}{value}"
            + (f" ({outcome.message})" if outcome.message else "")
        )
        self.trial_finished.emit(outcome)

    def _add_trial_row(self, outcome: Any) -> None:
        table = self.trial_table
        table.setSortingEnabled(False)
        row = table.rowCount()
        table.insertRow(row)
        value = outcome.value
        objective = f"{value:.4f}" if value is not None else "–"
        ranked = value if value is not None else float("inf")
        if outcome.state != "complete":  # a pruned trial's figure is where it stood: after any
            ranked = float("inf") if value is None else 1e9 + value
        cells = [
            (outcome.number, str(outcome.number)),
            (ranked, objective),
            (outcome.state, outcome.state),
            (outcome.params_text(), outcome.params_text()),
        ]
        seconds = f"{outcome.seconds:.1f} s" if outcome.seconds is not None else ""
        tip = "; ".join(t for t in (outcome.params_text(), seconds, outcome.message) if t)
        for column, (key, text) in enumerate(cells):
            item = _SortItem(text, key)
            if column in (1, 2):
                item.setForeground(QColor(status_colour(outcome.state)))
            item.setToolTip(tip)
            table.setItem(row, column, item)
        table.setSortingEnabled(True)

    def _search_ended(self, summary: SearchSummary) -> None:
        self.summary = summary
        self.trial_table.sortItems(1, Qt.SortOrder.AscendingOrder)  # the best first
        self.importance.set_values(summary.importances)
        best = summary.best
        if best is None:
            self.status.setText(f"The search ended ({summary.reason}) with no complete trial.")
        else:
            self.status.setText(
                f"<b>Best: trial {best.number}</b>, {self.objective_box.currentText().lower()} "
                f"{best.value:.4f} — {best.params_text()}. The search ended: {summary.reason}."
            )
            self._bold_best(best.number)

    def _bold_best(self, number: int) -> None:
        for row in range(self.trial_table.rowCount()):
            item = self.trial_table.item(row, 0)
            if item is not None and item.text() == str(number):
                for column in range(self.trial_table.columnCount()):
                    cell = self.trial_table.item(row, column)
                    if cell is not None:
                        font = QFont(cell.font())
                        font.setBold(True)
                        cell.setFont(font)
                        cell.setBackground(QColor(theme.current().accent).darker(260))

    def _ended(self) -> None:
        self.worker = None
        self._update_buttons()

    def apply_best(self) -> bool:
        """The best trial's values into the project, as one undo step."""
        best = self.summary.best if self.summary is not None else None
        if best is None:
            return False
        values: dict[str, Any] = {}
        params: dict[tuple[str, str], Any] = {}
        for dimension in self.searched:
            if dimension.name not in best.params:
                continue
            value = best.params[dimension.name]
            if dimension.setting is not None:
                values[dimension.path] = value
            else:
                assert dimension.node is not None and dimension.param is not None
                params[(dimension.node, dimension.param)] = value
        done = self.document.set_many(values, params, f"Apply best trial {best.number}")
        if done:
            self.applied.emit(best.number)
            self.status.setText(
                f"Applied trial {best.number}: {best.params_text()}. Ctrl+Z undoes it."
            )
        return done


class _SortItem(QTableWidgetItem):
    """A cell sorted by its value, not its text."""

    def __init__(self, text: str, value: Any) -> None:
        super().__init__(text)
        self.value = value

    def __lt__(self, other: QTableWidgetItem) -> bool:
        theirs = getattr(other, "value", None)
        try:
            return bool(self.value < theirs)
        except TypeError:
            return super().__lt__(other)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("SectionHeading")
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
