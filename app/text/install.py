"""Adds the Writing page to the training dashboard for language models.

`install_text(window)` is the one call MainWindow makes (after training is
installed). The page shows beside the usual tabs whenever the open project
is a language model (its loss is next_token); its look (`writing_look`) is one
of the controller's, and it is fed on the controller's frame from the one
live buffer. The Generate box writes with the weights of the latest run, or
else with the project's saved weights file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.training.buffer import Drained, LiveBuffer
from engine.settings.generation import GenerationSettings

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.text.view import WritingView
    from engine.text.generate import Writer

TAB_TITLE = "Writing"


class WritingPage:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.controller = window.training
        self._view: WritingView | None = None  # made the first time a language model opens
        self.page = QWidget()
        QVBoxLayout(self.page).setContentsMargins(0, 0, 0, 0)
        self.tabs = self.controller.dashboard.tabs
        self.index = self.tabs.addTab(self.page, TAB_TITLE)
        self.controller.looks.append(writing_look)
        self.controller.run_started.connect(self._started)
        self.controller.frame.connect(self._frame)
        document = window.document
        document.project_replaced.connect(self.project_changed)
        document.analysed.connect(lambda _analysis: self.project_changed())  # after any edit
        self.project_changed()

    @property
    def view(self) -> WritingView:
        if self._view is None:
            from app.text.view import WritingView

            self._view = WritingView(self._set_value, self.writer)
            layout = self.page.layout()
            assert layout is not None
            layout.addWidget(self._view)
        return self._view

    @property
    def writes(self) -> bool:
        """Whether the open project is a language model."""
        project = self.window.document.project
        return not project.is_multi_network and project.training.get("loss") == "next_token"

    def project_changed(self) -> None:
        """Show the page for a language model, with the project's generation settings."""
        writes = self.writes
        if self.tabs.isTabVisible(self.index) != writes:
            self.tabs.setTabVisible(self.index, writes)
        if writes:
            self.view.show_settings(GenerationSettings.from_project(self.window.document.project))

    def _set_value(self, key: str, value: Any) -> bool:
        return self.window.document.set_value(
            f"generation.{key}",
            value,
            merge=True,
            text=f"Set the generation {key.replace('_', ' ')}",
        )

    def writer(self) -> Writer:
        """The language model to write with: the latest run's weights, else the saved file.
        Runs on the Generate thread; raises GenerationError with what to do."""
        from engine.compiler import compile_graph
        from engine.text.generate import GenerationError, Writer, project_writer

        keeper = self.controller.weights
        project = self.window.document.project
        if keeper.has_weights and keeper.tokenizer is not None:
            if not keeper.fits():
                raise GenerationError("the network changed after training: train it again")
            model = compile_graph(project.graph)
            state = keeper.state
            assert state is not None
            model.load_state_dict(state)
            context = int(self.window.document.network_analysis().input_shape[0])  # type: ignore[index]
            return Writer(model, keeper.tokenizer, context)
        return project_writer(project)

    def _started(self) -> None:
        if self.writes:
            self.view.begin(GenerationSettings.from_project(self.window.document.project))

    def _frame(self, new: Drained) -> None:
        if new.texts and self._view is not None:
            self._view.add(new.texts)


def writing_look(plan: Any, buffer: LiveBuffer, steps_per_epoch: int) -> Any:
    """The page's look into a run: a language model writes every few seconds."""
    if plan.settings.loss != "next_token":
        return None
    from app.text.live import writing_look as look  # loads torch: only once a run needs it

    return look(plan, buffer, steps_per_epoch)


def install_text(window: MainWindow) -> WritingPage:
    return WritingPage(window)
