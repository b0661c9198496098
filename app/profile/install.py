"""Adds Analyze > Profile to the window: measured time per layer, on the nodes and in a dock.

`install_profile(window)` is the one call MainWindow makes. Profiling runs on a
ProfileWorker thread with a snapshot of the project, on the project's training
device at its batch size; the result goes on the nodes (a time and a bar) and
in the Profile dock's table, both cleared when the graph changes. It runs on the
device the toolbar chose for training, at the project's batch size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from app.profile.panel import ProfilePanel
from app.profile.worker import ProfileWorker
from app.training.controller import snapshot
from engine.project import Project

if TYPE_CHECKING:
    from app.main_window import MainWindow


class Profiler:
    """The window's profiling: the action, the dock, and the worker while one runs."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.worker: ProfileWorker | None = None
        self.panel = ProfilePanel(window.scene)
        self.panel.profile_asked.connect(self.start)
        self.dock = window.add_dock(
            "Profile", "ProfileDock", self.panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        dashboard = getattr(window, "training", None)
        if dashboard is not None and "dashboard" in dashboard.docks:
            window.tabifyDockWidget(dashboard.docks["dashboard"], self.dock)
            dashboard.docks["dashboard"].raise_()
        menu = window.add_menu("analyze", "&Analyze", before="help")
        action = QAction("&Profile Layers", window)
        action.setStatusTip("Run the network on the training device and time each layer")
        action.triggered.connect(lambda _checked=False: self.start())
        menu.addAction(window.add_action("profile", action))
        onnx = QAction("Profile the Exported &ONNX File", window)
        onnx.setStatusTip("Time each layer of the exported ONNX file in onnxruntime (CPU)")
        onnx.triggered.connect(lambda _checked=False: self.start(onnx=True))
        menu.addAction(window.add_action("profile_onnx", onnx))
        menu.addSeparator()
        menu.addAction(self.dock.toggleViewAction())

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def start(self, onnx: bool = False) -> bool:
        """Profile the project as it is now; False when one is already running or the
        network has errors (the Problems panel says which)."""
        document = self.window.document
        if self.running:
            return False
        if not document.analysis.ok:
            self.window.statusBar().showMessage("Fix the network's problems before profiling", 6000)
            return False
        training = getattr(self.window, "training", None)
        if training is not None and training.running:
            self.window.statusBar().showMessage(
                "Training is running: profile after it, so the two do not slow each other", 6000
            )
            return False
        project = snapshot(document.project)
        if project.is_multi_network:  # a GAN: the network shown, whose nodes get the times
            project = Project(project.name, document.graph.copy(), training=project.training)
        device = (
            training.device if training is not None else str(project.training.get("device", "auto"))
        )
        self.worker = ProfileWorker(project, device, None, onnx)
        self.worker.progressed.connect(self.panel.progressed)
        self.worker.found.connect(self._found)
        self.worker.failed.connect(self.panel.failed)
        self.dock.show()
        self.dock.raise_()
        self.panel.running(True)
        self.worker.start()
        return True

    def _found(self, profile: Any) -> None:
        self.window.scene.show_measured(profile)
        self.panel.show_profile(profile)

    def shutdown(self) -> None:
        """Wait for a profile still running (the window is closing)."""
        if self.worker is not None:
            self.worker.wait(30_000)


def install_profile(window: MainWindow) -> Profiler:
    return Profiler(window)
