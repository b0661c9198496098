"""Adds experiments to the window: the Runs dock, the Search dock and the learning-rate finder.

`install_runs(window)` is the one call MainWindow makes (after training is
installed). It adds the recording look to the training controller (every run
from the window is recorded unless "Record new runs" is off: a window
preference), docks the Runs panel beside the dashboard and the Search panel
beside the Training settings, and adds their commands to the Train menu. The
two panels (a tenth of a second of widgets) are made just after the window's
first paint, or as soon as something needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from app.runs.record import RecordLook

if TYPE_CHECKING:
    from app.lr_finder import LRFinderDialog
    from app.main_window import MainWindow
    from app.runs.panel import RunsPanel
    from app.search.panel import SearchPanel

RECORD_KEY = "runs/record"


class Experiments:
    """The window's experiment tools; `panel` and `search` are made on first use."""

    def __init__(self, window: MainWindow, record: RecordLook) -> None:
        self.window = window
        self.record = record
        self.lr_dialog: LRFinderDialog | None = None
        self._panel: RunsPanel | None = None
        self._search: SearchPanel | None = None
        bottom, right = (
            Qt.DockWidgetArea.BottomDockWidgetArea,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        docks = window.training.docks
        self.runs_dock = window.add_dock("Runs", "RunsDock", QWidget(), bottom)
        window.tabifyDockWidget(docks["dashboard"], self.runs_dock)
        self.search_dock = window.add_dock("Search", "SearchDock", QWidget(), right)
        window.tabifyDockWidget(docks["data"], self.search_dock)
        docks["dashboard"].raise_()
        window.inspector_dock.raise_()

    @property
    def panel(self) -> RunsPanel:
        self.build()
        assert self._panel is not None
        return self._panel

    @property
    def search(self) -> SearchPanel:
        self.build()
        assert self._search is not None
        return self._search

    @property
    def is_built(self) -> bool:
        return self._panel is not None

    def build(self) -> None:
        if self._panel is not None:
            return
        from app.runs.panel import RunsPanel
        from app.search.panel import SearchPanel

        window, controller, record = self.window, self.window.training, self.record
        panel = RunsPanel(window.document, window.scene, controller.weights)
        panel.record_box.setChecked(record.enabled)
        panel.record_box.toggled.connect(self.set_recording)
        search = SearchPanel(window.document, controller, record)
        self._panel, self._search = panel, search
        self.runs_dock.setWidget(panel)
        self.search_dock.setWidget(search)
        controller.run_started.connect(lambda: panel.follow_run(True))
        controller.run_finished.connect(lambda _o: panel.follow_run(False))
        controller.run_failed.connect(lambda _m: panel.follow_run(False))
        for signal in (controller.run_started, controller.run_finished, controller.run_failed):
            signal.connect(lambda *_: search._update_buttons())
        search.trial_finished.connect(lambda _o: panel.refresh())
        window.project_saved.connect(lambda _p: panel.refresh())
        window.document.read_only_changed.connect(lambda _l: panel._update_buttons())

    def set_recording(self, on: bool) -> None:
        """Record runs started from this window (remembered), or not."""
        self.record.enabled = on
        self.window.settings.setValue(RECORD_KEY, on)
        self.window.action("record_runs").setChecked(on)
        if self._panel is not None:
            self._panel.record_box.setChecked(on)

    def show_search(self) -> None:
        self.build()
        self.search_dock.show()
        self.search_dock.raise_()

    def find_lr(self, window: MainWindow) -> LRFinderDialog | None:
        from app.lr_finder import find_learning_rate

        self.lr_dialog = find_learning_rate(window)
        return self.lr_dialog


def install_runs(window: MainWindow) -> Experiments:
    controller = window.training
    record = RecordLook()
    remembered = window.settings.value(RECORD_KEY, True)
    record.enabled = remembered not in (False, "false", "0")
    controller.looks.append(record)
    experiments = Experiments(window, record)
    record_action = QAction("&Record Runs in History", window)
    record_action.setCheckable(True)
    record_action.setChecked(record.enabled)
    record_action.setStatusTip("Keep every run in the project's run history (NAME.runs/)")
    record_action.toggled.connect(experiments.set_recording)
    find_lr = QAction("Find &Learning Rate…", window)
    find_lr.setStatusTip(
        "A learning-rate range test: the loss against a growing rate, a rate suggested"
    )
    find_lr.triggered.connect(lambda _c=False: experiments.find_lr(window))
    show_search = QAction("&Search Hyper-parameters…", window)
    show_search.setStatusTip("Search training settings and layer parameters with Optuna")
    show_search.triggered.connect(lambda _c=False: experiments.show_search())
    menu = window.menus["train"]
    menu.addSeparator()
    for name, action in (
        ("record_runs", record_action),
        ("find_lr", find_lr),
        ("search", show_search),
    ):
        menu.addAction(window.add_action(name, action))
    for dock in (experiments.runs_dock, experiments.search_dock):
        menu.addAction(dock.toggleViewAction())
        dock.visibilityChanged.connect(lambda shown: experiments.build() if shown else None)
    window.document.read_only_changed.connect(lambda locked: find_lr.setEnabled(not locked))
    window.first_painted.connect(experiments.build)
    state = window.settings.value("window_state")  # where the user last put these docks
    if isinstance(state, QByteArray):
        window.restoreState(state)
    return experiments
