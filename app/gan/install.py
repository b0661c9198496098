"""Adds the GAN page to the training dashboard and keeps it in step with the open project.

`install_gan(window)` is the one call MainWindow makes (after training is
installed). A GAN project shows the GAN page in place of the single-network
tabs (curves, activations, weights, results), and the other way round. The
page is fed on the training controller's frame with the figures of the one
live buffer, never by a signal per batch; its look (`cloud_look`) is one of
the controller's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.dashboard.dashboard import TABS
from app.training.buffer import Drained, LiveBuffer

if TYPE_CHECKING:
    from app.gan.view import GanView
    from app.main_window import MainWindow

TAB_TITLE = "GAN"
GAN_DASHBOARD_HEIGHT = 430


class GanPage:
    """The GAN view inside the dashboard, wired to the controller and the document."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        controller = window.training
        self.controller = controller
        self._view: GanView | None = None  # made when a GAN first needs it (pyqtgraph: slow)
        self.page = QWidget()
        QVBoxLayout(self.page).setContentsMargins(0, 0, 0, 0)
        dashboard = controller.dashboard
        self.tabs = dashboard.tabs
        self.index = self.tabs.addTab(self.page, TAB_TITLE)
        dashboard.smoothing.valueChanged.connect(self._smoothing)
        controller.looks.append(cloud_look)
        controller.run_started.connect(self._started)
        controller.run_planned.connect(self._planned)
        controller.frame.connect(self._frame)
        controller.run_finished.connect(self._finished)
        window.document.project_replaced.connect(self.project_changed)
        self.project_changed()

    @property
    def view(self) -> GanView:
        if self._view is None:
            from app.gan.view import GanView

            self._view = GanView(self.controller.log.say)
            layout = self.page.layout()
            assert layout is not None
            layout.addWidget(self._view)
            self._smoothing(self.controller.dashboard.smoothing.value())
        return self._view

    def _smoothing(self, value: int) -> None:
        if self._view is not None:
            self._view.set_smoothing(value / 100.0)

    @property
    def is_gan(self) -> bool:
        return bool(self.window.document.project.is_multi_network)

    def project_changed(self) -> None:
        """Show the GAN page for a GAN project, the single-network tabs otherwise."""
        gan = self.is_gan
        regions = getattr(self.controller.dashboard, "regions_index", None)
        for index in [*range(len(TABS)), self.index]:  # the dashboard's own tabs and this one
            if index == regions and not gan:
                continue  # the dashboard shows Regions when a run sends some
            self.tabs.setTabVisible(index, (index == self.index) == gan)
        self.tabs.setCurrentIndex(self.index if gan else 0)
        dock = self.controller.docks.get("dashboard")
        if gan and dock is not None:
            self.window.resizeDocks([dock], [GAN_DASHBOARD_HEIGHT], Qt.Orientation.Vertical)

    def _started(self) -> None:
        if self.is_gan:
            self.tabs.setCurrentIndex(self.index)
            self.view.begin()

    def _planned(self, info: dict[str, Any]) -> None:
        """After the controller's own banner: the GAN's facts in the user's words."""
        worker = self.controller.worker
        plan = worker.plan if worker is not None else None
        from engine.gan.plan import RealSamples  # loaded with the run
        from engine.gan.step import GanStep

        if plan is None or not isinstance(plan.step, GanStep):
            return
        assert isinstance(plan.data, RealSamples)
        self.view.pick_up(plan.step, plan.data.real, info)
        self.controller.dashboard.set_banner(
            f"Training the GAN on {info.get('device', 'cpu')} · "
            f"{info.get('generator_parameters', 0):,} generator + "
            f"{info.get('discriminator_parameters', 0):,} discriminator parameters · "
            f"{info.get('train_samples', 0):,} real samples",
            "running",
        )

    def _frame(self, new: Drained) -> None:
        if self._view is None:
            return  # no GAN has run in this window
        per_batch = self.controller.dashboard.per_batch
        if per_batch != self.view.per_batch:  # follows the dashboard's Per batch / Per epoch
            self.view.set_per_batch(per_batch)
        self.view.consume(new)

    def _finished(self, outcome: Any) -> None:
        if self._view is not None and self._view.running:
            self._view.finish(outcome)


def is_gan_step(step: Any) -> bool:
    from engine.gan.step import GanStep  # loads torch: only once a run has one

    return isinstance(step, GanStep)


def cloud_look(plan: Any, buffer: LiveBuffer, steps_per_epoch: int) -> Any:
    """The page's look into a run: a GAN on 2-D data (the ring) sends point clouds."""
    if not is_gan_step(plan.step) or tuple(plan.data.real.shape[1:]) != (2,):
        return None
    from app.gan.live import CloudLook

    return CloudLook(buffer, plan.step)


def install_gan(window: MainWindow) -> GanPage:
    return GanPage(window)
