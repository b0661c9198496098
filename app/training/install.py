"""Adds training to the main window: toolbar, Train menu, docks, status, canvas swatches.

`install_training(window)` is the one call MainWindow makes; everything else
about training lives in app/training, app/dashboard and app/panels.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QMenu

from app.dashboard import stylesheet
from app.panels.data_panel import DataPanel
from app.panels.training_settings import TrainingSettingsPanel
from app.training.controller import TrainingController
from app.training.multi_gpu import install_multi_gpu

DASHBOARD_HEIGHT = 340


def install_training(window: Any) -> TrainingController:
    controller = TrainingController(window, window.settings)
    install_multi_gpu(controller)  # "Train on N GPUs", shown only with more than one GPU
    window.training_settings = TrainingSettingsPanel(window.document)
    window.data_panel = DataPanel(window.document)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    bottom = Qt.DockWidgetArea.BottomDockWidgetArea
    settings_dock = window._dock(
        "Training", "TrainingSettingsDock", window.training_settings, right
    )
    data_dock = window._dock("Data", "DataDock", window.data_panel, right)
    inspector = getattr(window, "inspector_dock", None)
    if inspector is not None:
        window.tabifyDockWidget(inspector, settings_dock)
    window.tabifyDockWidget(settings_dock, data_dock)
    if inspector is not None:
        inspector.raise_()
    dashboard_dock = window._dock("Dashboard", "DashboardDock", controller.dashboard, bottom)
    log_dock = window._dock("Training Log", "TrainingLogDock", controller.log, bottom)
    problems = getattr(window, "problems_dock", None)
    if problems is not None:
        window.tabifyDockWidget(problems, dashboard_dock)
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
    controller.run_started.connect(dashboard_dock.raise_)
    controller.run_failed.connect(lambda _m: dashboard_dock.raise_())
    _menu(window, controller, [settings_dock, data_dock, dashboard_dock, log_dock])
    saved = getattr(window, "project_saved", None)
    if saved is not None:
        saved.connect(controller.weights.project_saved)
    for name, action in getattr(window, "actions", {}).items():
        if name.startswith("theme_"):
            action.triggered.connect(lambda _c=False: stylesheet.apply(window))
    stylesheet.apply(window)
    window.resizeDocks([dashboard_dock], [DASHBOARD_HEIGHT], Qt.Orientation.Vertical)
    state = window.settings.value("window_state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    return controller


def _menu(window: Any, controller: TrainingController, docks: list[QDockWidget]) -> None:
    menu = QMenu("&Train", window)
    for name in ("train", "pause", "stop"):
        menu.addAction(controller.actions[name])
    menu.addSeparator()
    menu.addAction(controller.actions["save_weights"])
    menu.addSeparator()
    for dock in docks:
        menu.addAction(dock.toggleViewAction())
    bar = window.menuBar()
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_action is not None:
        bar.insertMenu(help_action, menu)
    else:
        bar.addMenu(menu)
    window.train_menu = menu
