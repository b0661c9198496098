"""The search's training thread: the one TrainingWorker, running trial after trial.

Each trial is planned and trained like any run from the window (the live
figures and every live view's look included), so the dashboard shows the
current trial as it trains; between trials the worker asks the study for the
next one. Stop ends the trial under way and starts no other; Pause holds the
current one. At the end the best trial's weights come back to the window as a
run's would, and its outcome's message names the search.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal

from app.training.buffer import LiveBuffer
from app.training.worker import (
    LiveFigures,
    Look,
    RunOutcome,
    TrainingWorker,
    sample_predictions,
    started,
)
from engine.experiments.dimensions import Dimension
from engine.project import Project
from engine.settings import TrainingSettings


@dataclasses.dataclass
class SearchSummary:
    """The study as it stood when the search ended."""

    outcomes: list[Any]  # TrialOutcome, every trial of the study
    best: Any  # TrialOutcome | None
    importances: dict[str, float]
    reason: str  # why it ended


class SearchWorker(TrainingWorker):
    trial_started = Signal(int, object)  # number, params
    trial_finished = Signal(object)  # TrialOutcome
    search_ended = Signal(object)  # SearchSummary

    def __init__(
        self,
        project: Project,
        settings: TrainingSettings,
        buffer: LiveBuffer,
        looks: Sequence[Look],
        *,
        dimensions: Sequence[Dimension],
        trials: int,
        timeout: float | None,
        epochs: int | None,
        objective: str,
        record: bool,
    ) -> None:
        own = [look for look in looks if not getattr(look, "records_runs", False)]
        super().__init__(project, settings, buffer, own)
        self.dimensions = list(dimensions)
        self.trials = trials
        self.timeout = timeout
        self.epochs = epochs
        self.objective = objective
        self.record = record
        self.search: Any = None
        self._steps = 1

    def _train(self) -> None:
        from engine.experiments.recorder import history_for
        from engine.experiments.search import COMPLETE, Search, run_trial

        search = Search(
            self.project,
            self.dimensions,
            trials=self.trials,
            timeout=self.timeout,
            epochs=self.epochs,
            objective=self.objective,
            overrides={"device": self.settings.device},
            seed=self.settings.seed,
        )
        self.search = search
        history = history_for(self.project) if self.record else None
        best: tuple[float, RunOutcome] | None = None
        better = min if search.objective.endswith("loss") else max
        reason = "stopped by request"
        while not self._stop_asked:
            setup = search.next_trial()
            if setup is None:
                reason = search.out_of_budget() or "done"
                break
            self.trial_started.emit(setup.number, dict(setup.params))
            done = run_trial(
                search,
                setup,
                history=history,
                callbacks=self._callbacks,
                started=self._started,
                reserve_core_for_ui=True,
            )
            self.trial_finished.emit(done.outcome)
            value = done.outcome.value
            if done.outcome.state == COMPLETE and value is not None:
                if best is None or (value != best[0] and better(value, best[0]) == value):
                    best = (value, self._outcome(done))
        summary = SearchSummary(search.outcomes(), search.best(), search.importances(), reason)
        self.search_ended.emit(summary)
        if best is None:
            self.failed.emit(
                "The search found nothing",
                "No trial completed: each failed or was pruned. The training log has each "
                "trial's reason.",
                "",
            )
            return
        outcome = best[1]
        message = (
            f"search of {len(summary.outcomes)} trials ended ({reason}); the best, trial "
            f"{summary.best.number if summary.best else '?'}, reached {search.objective} "
            f"{best[0]:.4f}"
        )
        outcome.result = dataclasses.replace(outcome.result, message=message)
        self.finished_run.emit(outcome)

    def _callbacks(self, plan: Any, train: Any, val: Any) -> list[Any]:
        self._steps = len(train)
        callbacks: list[Any] = [LiveFigures(self.buffer, len(train), None)]
        for look in self.looks:
            found = look(plan, self.buffer, len(train))
            if found is not None:
                callbacks.append(found)
        return callbacks

    def _started(self, plan: Any, trainer: Any) -> None:
        started(self, plan, trainer, self._steps)

    def _outcome(self, done: Any) -> RunOutcome:
        plan = done.plan
        outcome = RunOutcome(
            done.result,
            {
                name: {k: v.detach().to("cpu").clone() for k, v in network.state_dict().items()}
                for name, network in plan.networks.items()
            },
            plan.project,
            str(plan.device),
            plan.data.class_names,
        )
        outcome.predictions = sample_predictions(plan.model, plan.data, plan.device)
        return outcome
