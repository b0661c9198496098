"""Adds seeing inside to the main window: the Inside tab, its look into runs, and Explain.

`install_inside(window)` is the one call MainWindow makes (after training and
the GAN page). It adds the Inside tab to the dashboard (its views are made
with the other charts, after the window's first paint: they need pyqtgraph),
registers the tab's look with the training controller, feeds the tab from
the controller's 25 Hz frame, and opens the Explain dialog from a sample in
the Results tab or the Data tab. The network an explanation looks at is the
one the last run left in memory while it still fits the graph, else the
project's saved weights, else (said so) its initial ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.inside.look import inside_look
from app.training.buffer import Drained

if TYPE_CHECKING:
    from app.inside.explain_dialog import ExplainDialog
    from app.inside.jobs import Jobs
    from app.inside.page import InsidePage
    from app.main_window import MainWindow

TAB_TITLE = "Inside"


class Inside:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        controller = window.training
        self.controller = controller
        self.wanted = threading.Event()
        self._page: InsidePage | None = None
        self._dialog: ExplainDialog | None = None
        self._jobs: Jobs | None = None
        self.holder = QWidget()
        QVBoxLayout(self.holder).setContentsMargins(0, 0, 0, 0)
        dashboard = controller.dashboard
        self.tabs = dashboard.tabs
        self.index = self.tabs.addTab(self.holder, TAB_TITLE)
        self.tabs.setTabToolTip(self.index, "What each layer makes of the data, as it learns")
        controller.looks.append(inside_look(self.wanted))
        controller.run_started.connect(self._started)
        controller.frame.connect(self._frame)
        controller.run_finished.connect(lambda _o: self.forget_subject())
        dashboard.built.connect(self._charts_built)
        if dashboard.is_built:
            self._charts_built()
        document = window.document
        self.tabs.setTabVisible(self.index, not document.project.is_multi_network)  # a GAN: no
        document.project_replaced.connect(self._project_replaced)
        document.undo_stack.indexChanged.connect(lambda _i: self.forget_subject())
        controller.data_panel.explain_requested.connect(self.explain_raw)

    # ---------------------------------------------------------------- the tab
    @property
    def page(self) -> InsidePage:
        if self._page is None:
            from app.inside.page import InsidePage

            self._page = InsidePage(self.wanted)
            layout = self.holder.layout()
            assert layout is not None
            layout.addWidget(self._page)
            self._page.look_requested.connect(self.look_at_saved_weights)
            self._offer_saved()
        return self._page

    def _charts_built(self) -> None:
        self.page  # noqa: B018  (made with the other charts, after the first paint)
        results = self.controller.dashboard.results
        results.predictions.explain_requested.connect(self.explain_validation)

    def _started(self) -> None:
        self.page.begin_run()

    def _frame(self, new: Drained) -> None:
        if not new.inside and (self._page is None or not self._page.isVisible()):
            return
        page = self.page
        for frame in new.inside:
            page.add(frame)
        if page.isVisible():
            page.refresh()

    def _project_replaced(self) -> None:
        self.forget_subject()
        gan = self.window.document.project.is_multi_network  # the GAN page stands in for it
        self.tabs.setTabVisible(self.index, not gan)
        if self._page is not None:
            self._page.begin_run()
            self._page.status.setText("")
            self._offer_saved()

    def _offer_saved(self) -> None:
        project = self.window.document.project
        path = project.weights_path()
        saved = path is not None and path.is_file()
        self.page.offer_saved(not project.is_multi_network and (saved or self.has_kept_weights))

    @property
    def has_kept_weights(self) -> bool:
        keeper = self.controller.weights
        return keeper.has_weights and keeper.fits()

    # ---------------------------------------------------------- the network
    def subject_maker(self) -> Callable[[], Any]:
        """A function (run on a job's thread) giving the network to explain, built from what the
        window holds now: a copy of the project and the kept weights, if they fit."""
        from app.training.controller import snapshot

        project = snapshot(self.window.document.project)
        keeper = self.controller.weights
        state = dict(keeper.state) if keeper.state is not None and keeper.fits() else None

        def make() -> Any:
            from engine.explain.subject import load_subject, subject_from_state

            if state is not None:
                return subject_from_state(project, state, "the weights of this session's run")
            return load_subject(project)

        return make

    def forget_subject(self) -> None:
        if self._dialog is not None:
            self._dialog.forget()  # the next explanation takes the project as it is then

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            from app.inside.jobs import Jobs

            self._jobs = Jobs()
        return self._jobs

    def look_at_saved_weights(self) -> None:
        """The Inside tab for a network trained before (no run in this window)."""
        make = self.subject_maker()
        page = self.page
        page.status.setText("Looking inside the trained network…")

        def work() -> Any:
            from app.inside.look import frame_from_subject

            return frame_from_subject(make())

        def done(frame: Any) -> None:
            page.add(frame)
            page.refresh(everything=True)

        self.jobs.start(work, done, lambda message: page.status.setText(message))

    # ---------------------------------------------------------------- explain
    @property
    def dialog(self) -> ExplainDialog:
        if self._dialog is None:
            from app.inside.explain_dialog import ExplainDialog

            self._dialog = ExplainDialog(self.window, self.subject_maker)
        return self._dialog

    def explain_validation(self, index: int) -> None:
        self.dialog.explain_validation(int(index))

    def explain_raw(self, raw: Any, where: str) -> None:
        self.dialog.explain_raw(np.asarray(raw), str(where))

    def shutdown(self) -> None:
        """Wait for any explanation still computing (the window is closing)."""
        if self._dialog is not None:
            self._dialog.done_waiting()
        if self._jobs is not None:
            self._jobs.wait()


def install_inside(window: MainWindow) -> Inside:
    return Inside(window)
