"""Adds training to the main window: toolbar, Train menu, docks, status, canvas swatches.

`install_training(window)` is the one call MainWindow makes; everything else
about training lives in app/training, app/dashboard and app/panels.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt

from app.dashboard import stylesheet
from app.training.controller import TrainingController
from app.training.multi_gpu import install_multi_gpu

if TYPE_CHECKING:
    from app.main_window import MainWindow

DASHBOARD_HEIGHT = 340


def install_training(window: MainWindow) -> TrainingController:
    controller = TrainingController(window, window.settings)
    install_multi_gpu(controller)  # "Train on N GPUs", shown only with more than one GPU
    if "torch" in sys.modules:  # already loaded (tests, a second window): ask it now; else the
        controller.refresh_devices()  # app loads it after the first paint (app/startup.py)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    settings_dock = window.add_dock(
        "Training", "TrainingSettingsDock", controller.settings_panel, right
    )
    data_dock = window.add_dock("Data", "DataDock", controller.data_panel, right)
    window.tabifyDockWidget(window.inspector_dock, settings_dock)
    window.tabifyDockWidget(settings_dock, data_dock)
    window.inspector_dock.raise_()
    dashboard_dock = window.add_dock("Dashboard", "DashboardDock", controller.dashboard, bottom)
    log_dock = window.add_dock("Training Log", "TrainingLogDock", controller.log, bottom)
    window.tabifyDockWidget(window.problems_dock, dashboard_dock)
    window.tabifyDockWidget(dashboard_dock, log_dock)
    dashboard_dock.raise_()
    window.document.project_replaced.connect(controller.dashboard.forget_regions)
    controller.dashboard.forget_regions()  # the Regions tab waits for a 2-D/3-D classifier
    controller.docks = {
        "settings": settings_dock,
        "data": data_dock,
        "dashboard": dashboard_dock,
        "log": log_dock,
    }
    window.first_painted.connect(controller.dashboard.build)  # the charts: once it is up
    window.first_painted.connect(controller.data_panel.allow_charts)
    controller.run_started.connect(dashboard_dock.raise_)
    controller.run_failed.connect(lambda _m: dashboard_dock.raise_())
    _menu(window, controller)
    window.project_saved.connect(controller.weights.project_saved)
    for name, action in window.named_actions.items():
        if name.startswith("theme_"):
            action.triggered.connect(lambda _c=False: stylesheet.apply(window))
    stylesheet.apply(window)
    window.resizeDocks([dashboard_dock], [DASHBOARD_HEIGHT], Qt.Orientation.Vertical)
    state = window.settings.value("window_state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    return controller


def _menu(window: MainWindow, controller: TrainingController) -> None:
    menu = window.add_menu("train", "&Train", before="help")
    for name in ("train", "pause", "stop"):
        menu.addAction(window.add_action(name, controller.actions[name]))
    menu.addSeparator()
    menu.addAction(window.add_action("save_weights", controller.actions["save_weights"]))
    menu.addSeparator()
    for dock in controller.docks.values():
        menu.addAction(dock.toggleViewAction())
