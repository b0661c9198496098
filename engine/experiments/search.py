"""Hyper-parameter search with Optuna: trials are ordinary training runs, one after another.

A `Search` owns one Optuna study and hands out trials; whoever runs them (the
`netwright search` command, the window's training worker) trains each one
through the one Trainer, with the `Pruning` callback reporting the objective
after every epoch so Optuna's median pruner can stop a hopeless trial early,
and hands the result back. The first trial of a new study is the project's
own settings (those that lie inside the dimensions), so a search cannot report
anything worse than where it started.

Scaling out is Optuna's own: with a storage URL (an SQLite file on one machine,
a PostgreSQL or MySQL server for a cluster) any number of processes open the
same study and take trials from it; `trials` is the study's total, so they
finish one study between them. Each process beats a heartbeat for its trial;
a trial whose process died is marked failed by the next process that asks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.experiments.dimensions import Dimension
from engine.project import Project, project_from_json
from engine.settings import TrainingSettings
from engine.training.callbacks import Callback

if TYPE_CHECKING:
    import optuna

    from engine.training.trainer import FitResult, Trainer

OBJECTIVES = {"val_loss": "minimize", "val_accuracy": "maximize", "train_loss": "minimize"}
COMPLETE, PRUNED, FAILED, RUNNING = "complete", "pruned", "failed", "running"
HEARTBEAT_S, GRACE_S = 30, 120
STORAGE_ATTEMPTS = 6

OVER_BUDGET = "netwright_over_budget"  # a trial asked for after the study was full: never run


class SearchError(ValueError):
    """A search that cannot start (a storage that cannot be opened, a project of several
    networks); `code` is the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class TrialOutcome:
    """One finished (or running) trial, as the trial table and the CLI show it."""

    number: int
    state: str  # complete | pruned | failed | running
    value: float | None
    params: dict[str, Any]
    seconds: float | None = None
    epochs: int | None = None
    run_id: str | None = None
    message: str = ""

    def params_text(self) -> str:
        return " ".join(f"{k}={_show(v)}" for k, v in self.params.items())

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrialSetup:
    """What one trial trains: its own copy of the project and its settings."""

    trial: Any  # optuna.Trial
    number: int
    params: dict[str, Any]
    project: Project
    settings: TrainingSettings
    started: float = field(default_factory=time.perf_counter)


class Search:
    """A study over `dimensions` of `project`; `trials` and `timeout` bound it."""

    def __init__(
        self,
        project: Project,
        dimensions: Sequence[Dimension],
        *,
        trials: int,
        timeout: float | None = None,
        epochs: int | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        objective: str = "val_loss",
        overrides: dict[str, Any] | None = None,
        seed: int | None = None,
        baseline: bool = True,
    ) -> None:
        if project.is_multi_network:
            raise SearchError(
                f"{project.name}: the search trains projects of one network; a GAN's two "
                "networks have no validation figure to search on",
                1,
            )
        if objective not in OBJECTIVES:
            raise SearchError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}")
        self.project = project
        self.dimensions = list(dimensions)
        self.trials = trials
        self.timeout = timeout
        self.epochs = epochs
        self.objective = objective
        self.overrides = dict(overrides or {})
        self.study_name = study_name or f"{project.name}-search"
        self.storage_url = storage_url(storage) if storage else None
        self.started = time.perf_counter()
        self._optuna = _quiet_optuna()
        self.study = self._open(seed)
        if baseline:
            self._enqueue_baseline()

    # ------------------------------------------------------------ the study
    def _open(self, seed: int | None) -> optuna.Study:
        optuna = self._optuna
        startup = max(4, min(10, self.trials // 4))
        sampler = optuna.samplers.TPESampler(
            seed=seed if self.storage_url is None else None, n_startup_trials=startup
        )
        pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2)
        last: Exception | None = None
        for attempt in range(STORAGE_ATTEMPTS):  # processes starting together race on tables
            try:
                return optuna.create_study(
                    storage=self._storage(),
                    sampler=sampler,
                    pruner=pruner,
                    study_name=self.study_name,
                    direction=OBJECTIVES[self.objective],
                    load_if_exists=True,
                )
            except ValueError as error:  # a study of the same name, the other direction
                raise SearchError(f"study '{self.study_name}': {error}") from None
            except ImportError as error:
                raise SearchError(
                    f"{self.storage_url}: the database driver is not installed ({error.name}); "
                    "pip install it into Netwright's environment"
                ) from None
            except Exception as error:  # SQLAlchemy's errors: a locked or unreachable database
                last = error
                time.sleep(0.3 * (attempt + 1))
        raise SearchError(f"{self.storage_url}: cannot open the study storage ({last})")

    def _storage(self) -> Any:
        if self.storage_url is None:
            return None
        kwargs: dict[str, Any] = {}
        if self.storage_url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 60}  # wait for another process's write
        return self._optuna.storages.RDBStorage(
            self.storage_url,
            engine_kwargs=kwargs,
            heartbeat_interval=HEARTBEAT_S,
            grace_period=GRACE_S,
        )

    def _enqueue_baseline(self) -> None:
        if self.study.trials:
            return  # an existing study (another process, an earlier search) has its own
        values = {d.name: d.current(self.project) for d in self.dimensions}
        fitting = {k: v for k, v in values.items() if v is not None}
        if fitting:
            self.study.enqueue_trial(fitting, skip_if_exists=True)

    # ------------------------------------------------------------- trials
    def _counted(self) -> int:
        states = self._optuna.trial.TrialState
        wanted = (states.COMPLETE, states.PRUNED, states.FAIL, states.RUNNING)
        return len(self.study.get_trials(deepcopy=False, states=wanted))

    def out_of_budget(self) -> str | None:
        """Why no further trial should start (None: one may)."""
        if self.timeout is not None and time.perf_counter() - self.started >= self.timeout:
            return f"the time budget of {self.timeout:g} s is spent"
        with contextlib.suppress(Exception):  # only an RDB storage knows stale trials
            self._optuna.storages.fail_stale_trials(self.study)
        if self._counted() >= self.trials:
            return f"the study has its {self.trials} trials"
        return None

    def next_trial(self) -> TrialSetup | None:
        """The next trial's project and settings, or None when the budget is spent."""
        if self.out_of_budget() is not None:
            return None
        trial = self.study.ask({d.name: d.distribution() for d in self.dimensions})
        if trial.number >= self.trials:  # another process started the last one meanwhile
            trial.set_user_attr(OVER_BUDGET, f"the study already had its {self.trials} trials")
            self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
            return None
        params = dict(trial.params)
        project = copy_project(self.project)
        for dimension in self.dimensions:
            dimension.apply(project, params[dimension.name])
        overrides = dict(self.overrides)
        if self.epochs is not None:
            overrides["epochs"] = self.epochs
        settings = TrainingSettings.from_project(project, overrides)
        return TrialSetup(trial, trial.number, params, project, settings)

    @contextlib.contextmanager
    def heartbeat(self, setup: TrialSetup) -> Iterator[None]:
        """While a trial trains, tell a shared storage that its process is alive."""
        try:
            from optuna._heartbeat import get_heartbeat_thread  # what study.optimize uses
        except ImportError:
            yield
            return
        with get_heartbeat_thread(setup.trial._trial_id, self.study._storage):
            yield

    def pruning(self, setup: TrialSetup) -> Pruning:
        return Pruning(setup.trial, self.objective)

    def finish(
        self,
        setup: TrialSetup,
        result: FitResult | None,
        pruning: Pruning | None,
        message: str = "",
    ) -> TrialOutcome:
        """Tell Optuna how the trial went: complete with its best objective value, pruned, or
        failed (could not be trained, diverged, stopped by the user)."""
        states = self._optuna.trial.TrialState
        seconds = time.perf_counter() - setup.started
        epochs = result.epochs if result is not None else None
        value = best_value(result, self.objective) if result is not None else None
        if pruning is not None and pruning.pruned:  # its value: the best it reached before
            self.study.tell(setup.trial, state=states.PRUNED)
            state, message = PRUNED, message or f"pruned after epoch {pruning.epoch}"
        elif result is None or value is None or result.status in ("diverged", "stopped"):
            self.study.tell(setup.trial, state=states.FAIL)
            state = FAILED
            if result is not None and not message:
                message = result.message
        else:
            self.study.tell(setup.trial, value)
            state = COMPLETE
        return TrialOutcome(
            setup.number, state, value, setup.params, seconds, epochs, None, message
        )

    # ------------------------------------------------------------ results
    def outcomes(self) -> list[TrialOutcome]:
        """Every trial of the study (all processes'), in number order."""
        states = self._optuna.trial.TrialState
        names = {
            states.COMPLETE: COMPLETE,
            states.PRUNED: PRUNED,
            states.FAIL: FAILED,
            states.RUNNING: RUNNING,
        }
        found = []
        for trial in self.study.get_trials(deepcopy=False):
            if trial.state not in names or OVER_BUDGET in trial.user_attrs:
                continue
            seconds = (
                (trial.datetime_complete - trial.datetime_start).total_seconds()
                if trial.datetime_complete and trial.datetime_start
                else None
            )
            value = trial.value if trial.state == states.COMPLETE else None
            if trial.state == states.PRUNED and trial.intermediate_values:
                pick = min if OBJECTIVES[self.objective] == "minimize" else max
                value = pick(trial.intermediate_values.values())
            found.append(
                TrialOutcome(trial.number, names[trial.state], value, dict(trial.params), seconds)
            )
        return found

    def best(self) -> TrialOutcome | None:
        complete = [o for o in self.outcomes() if o.state == COMPLETE and o.value is not None]
        if not complete:
            return None
        pick = min if OBJECTIVES[self.objective] == "minimize" else max
        return pick(complete, key=lambda o: o.value or 0.0)

    def importances(self) -> dict[str, float]:
        """How much each dimension mattered to the objective (fANOVA), once two or more trials
        are complete; {} before."""
        complete = [o for o in self.outcomes() if o.state == COMPLETE]
        if len(complete) < 2 or len(self.dimensions) < 1:
            return {}
        try:
            evaluator = self._optuna.importance.FanovaImportanceEvaluator(seed=0)
            found = self._optuna.importance.get_param_importances(self.study, evaluator=evaluator)
        except (RuntimeError, ValueError, ZeroDivisionError):
            return {}
        return {k: float(v) for k, v in found.items()}


class Pruning(Callback):
    """Reports the objective after each epoch; stops the run when the pruner says it is
    hopeless (the trial's median rule: worse than the median of earlier trials by then)."""

    def __init__(self, trial: Any, objective: str) -> None:
        self.trial = trial
        self.objective = objective
        self.pruned = False
        self.epoch = 0
        self.best: float | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        value = metrics.get(self.objective)
        if not isinstance(value, (int, float)) or value != value:
            return
        self.trial.report(float(value), epoch)
        self.epoch = epoch
        if self.trial.should_prune():
            self.pruned = True
            trainer.stop()


def best_value(result: FitResult, objective: str) -> float | None:
    """The trial's objective: the best value of `objective` over its epochs."""
    values = [h[objective] for h in result.history if isinstance(h.get(objective), (int, float))]
    values = [float(v) for v in values if v == v]
    if not values:
        return None
    return min(values) if OBJECTIVES[objective] == "minimize" else max(values)


def storage_url(text: str) -> str:
    """An Optuna storage URL; a plain file path means an SQLite file there."""
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def copy_project(project: Project) -> Project:
    """A deep copy a trial can change freely."""
    copied = project_from_json(project.to_json(), project.name)
    copied.path = project.path
    return copied


def _quiet_optuna() -> Any:
    """Optuna, imported on first use, without its log line per trial."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass
class TrialRun:
    """A trial trained: its outcome, and the plan and result when it got that far."""

    outcome: TrialOutcome
    plan: Any = None  # TrainingPlan
    result: Any = None  # FitResult
    recorder: Any = None  # RunRecorder


def run_trial(
    search: Search,
    setup: TrialSetup,
    *,
    history: Any = None,
    callbacks: Any = None,
    started: Any = None,
    reserve_core_for_ui: bool = False,
) -> TrialRun:
    """Plan and train one trial through the one Trainer and tell the study how it went.

    `history` (a RunHistory) records the trial as a run; `callbacks(plan, train, val)` gives
    the caller's own callbacks (the window's live figures); `started(plan, trainer)` is told
    before the fit starts (so the caller can stop or pause it)."""
    from engine.data.dataset import DataError
    from engine.experiments.recorder import RunRecorder
    from engine.training.plan import PlanError, plan_training

    try:
        plan = plan_training(setup.project, setup.settings)
    except (PlanError, DataError) as error:
        return TrialRun(search.finish(setup, None, None, str(error)))
    train, val = plan.batches()
    pruning = search.pruning(setup)
    chosen: list[Callback] = list(callbacks(plan, train, val)) if callbacks else []
    recorder = None
    if history is not None:
        recorder = RunRecorder(
            history,
            setup.project,
            setup.settings,
            plan.start_info(),
            source="search",
            name=f"trial {setup.number}",
            trial={"study": search.study_name, "number": setup.number, "params": setup.params},
        )
        chosen.append(recorder)
    trainer = plan.trainer([*chosen, pruning], reserve_core_for_ui=reserve_core_for_ui)
    if started is not None:
        started(plan, trainer)
    with search.heartbeat(setup):
        result = trainer.fit(train, val)
    outcome = search.finish(setup, result, pruning)
    if recorder is not None:
        if outcome.state == PRUNED:
            recorder.mark("pruned", message=outcome.message)
        outcome.run_id = recorder.run_id
    return TrialRun(outcome, plan, result, recorder)
