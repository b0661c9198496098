"""Adds experiments to the window: the Runs dock, the Search dock and the learning-rate finder.

`install_runs(window)` is the one call MainWindow makes (after training is
installed). It adds the recording look to the training controller (every run
from the window is recorded unless "Record new runs" is off: a window
preference), docks the Runs panel beside the dashboard and the Search panel
beside the Training settings, and adds their commands to the Train menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from app.runs.panel import RunsPanel
from app.runs.record import RecordLook
from app.search.panel import SearchPanel

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget

    from app.lr_finder import LRFinderDialog
    from app.main_window import MainWindow

RECORD_KEY = "runs/record"


@dataclass
class Experiments:
    panel: RunsPanel
    search: SearchPanel
    record: RecordLook
    runs_dock: QDockWidget
    search_dock: QDockWidget
    lr_dialog: LRFinderDialog | None = None

    def find_lr(self, window: MainWindow) -> LRFinderDialog | None:
        from app.lr_finder import find_learning_rate

        self.lr_dialog = find_learning_rate(window)
        return self.lr_dialog


def install_runs(window: MainWindow) -> Experiments:
    controller = window.training
    record = RecordLook()
    controller.looks.append(record)
    panel = RunsPanel(window.document, window.scene, controller.weights)
    remembered = window.settings.value(RECORD_KEY, True)
    record.enabled = remembered not in (False, "false", "0")
    panel.record_box.setChecked(record.enabled)
    search = SearchPanel(window.document, controller, record)
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    runs_dock = window.add_dock("Runs", "RunsDock", panel, bottom)
    window.tabifyDockWidget(controller.docks["dashboard"], runs_dock)
    search_dock = window.add_dock(
        "Search", "SearchDock", search, Qt.DockWidgetArea.RightDockWidgetArea
    )
    window.tabifyDockWidget(controller.docks["data"], search_dock)
    controller.docks["dashboard"].raise_()
    window.inspector_dock.raise_()
    experiments = Experiments(panel, search, record, runs_dock, search_dock)

    def record_changed(on: bool) -> None:
        record.enabled = on
        window.settings.setValue(RECORD_KEY, on)
        record_action.setChecked(on)

    record_action = QAction("&Record Runs in History", window)
    record_action.setCheckable(True)
    record_action.setChecked(record.enabled)
    record_action.setStatusTip("Keep every run in the project's run history (NAME.runs/)")
    record_action.toggled.connect(panel.record_box.setChecked)
    panel.record_box.toggled.connect(record_changed)
    find_lr = QAction("Find &Learning Rate…", window)
    find_lr.setStatusTip(
        "A learning-rate range test: the loss against a growing rate, a rate suggested"
    )
    find_lr.triggered.connect(lambda _c=False: experiments.find_lr(window))
    show_search = QAction("&Search Hyper-parameters…", window)
    show_search.setStatusTip("Search training settings and layer parameters with Optuna")

    def reveal_search() -> None:
        search_dock.show()
        search_dock.raise_()

    show_search.triggered.connect(lambda _c=False: reveal_search())
    menu = window.menus["train"]
    menu.addSeparator()
    for name, action in (
        ("record_runs", record_action),
        ("find_lr", find_lr),
        ("search", show_search),
    ):
        menu.addAction(window.add_action(name, action))
    menu.addAction(runs_dock.toggleViewAction())
    menu.addAction(search_dock.toggleViewAction())

    controller.run_started.connect(lambda: panel.follow_run(True))
    controller.run_finished.connect(lambda _o: panel.follow_run(False))
    controller.run_failed.connect(lambda _m: panel.follow_run(False))
    controller.run_started.connect(lambda: search._update_buttons())
    controller.run_finished.connect(lambda _o: search._update_buttons())
    controller.run_failed.connect(lambda _m: search._update_buttons())
    search.trial_finished.connect(lambda _o: panel.refresh())
    window.project_saved.connect(lambda _p: panel.refresh())
    window.document.read_only_changed.connect(lambda locked: find_lr.setEnabled(not locked))
    window.document.read_only_changed.connect(lambda _l: panel._update_buttons())
    return experiments
