"""The callback that writes a run into its project's history while it trains.

It makes the run's folder when the run starts, appends each epoch to the
metrics stream as it ends, rewrites run.json (atomically) with the figures so
far, and saves the weights whenever the best epoch improves; so a crash costs
at most the epoch under way. A run that cannot be recorded (the disk is full,
the folder cannot be written) still trains: the recorder stops, and the run's
notes say why. At the end the history is pruned to the project's retention.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from engine.experiments.compare import fingerprint
from engine.experiments.history import RUNNING, WEIGHTS_FILE, RunHistory, RunRecord, now
from engine.experiments.retention import Retention
from engine.training.callbacks import Callback
from engine.training.reporting import MetricsWriter

if TYPE_CHECKING:
    from engine.project import Project
    from engine.settings import TrainingSettings
    from engine.training.trainer import FitResult, Trainer

HIGHER_IS_BETTER = ("val_accuracy", "train_accuracy")


class RunRecorder(Callback):
    """Records one run in `history`. `source` says where it came from (``cli``, ``window``,
    ``search``); `trial` names a search trial (study, number, params)."""

    def __init__(
        self,
        history: RunHistory,
        project: Project,
        settings: TrainingSettings,
        start_info: dict[str, Any],
        *,
        source: str,
        note: str = "",
        name: str | None = None,
        trial: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        retention: Retention | None = None,
    ) -> None:
        self.history = history
        self.project_json = project.to_json()
        self.project_json.get("dataset", {}).pop("scaling_statistics", None)
        self.settings = settings
        self.start_info = dict(start_info)
        self.scaling = project.dataset.get("scaling_statistics")
        self.source = source
        self.note = note
        self.name = name
        self.trial = trial
        self.extra = dict(extra or {})
        self.retention = retention or Retention.from_project(project)
        stopping = settings.early_stopping
        self.metric = stopping.metric if stopping is not None else "val_loss"
        self.record: RunRecord | None = None
        self.metrics: MetricsWriter | None = None
        self.problem: str | None = None  # why recording stopped, when it did
        self.best: float | None = None
        self.started = 0.0

    @property
    def run_id(self) -> str | None:
        return self.record.id if self.record is not None else None

    # ------------------------------------------------------------ the hooks
    def on_fit_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()

        def begin() -> None:
            numbers = [r.data.get("number") for r in self.history.runs()]
            number = max([n for n in numbers if isinstance(n, int)], default=0) + 1
            data = {
                "number": number,
                "name": self.name or f"run {number}",
                "project_name": self.project_json.get("name", ""),
                "started": now(),
                "started_at": time.time(),
                "ended": None,
                "status": RUNNING,
                "source": self.source,
                "note": self.note,
                "pinned": False,
                "device": str(trainer.device),
                "world_size": trainer.world_size,
                "parameters": self.start_info.get("parameters"),
                "train_samples": self.start_info.get("train_samples"),
                "val_samples": self.start_info.get("val_samples"),
                "dataset": self.start_info.get("dataset"),
                "settings": dataclasses.asdict(self.settings),
                "fingerprint": fingerprint(self.project_json),
                "epochs": 0,
                "planned_epochs": self.settings.epochs,
                "best_metric": self.metric,
                "best_value": None,
                "best_epoch": None,
                "val_loss": None,
                "val_accuracy": None,
                "train_loss": None,
                "seconds": 0.0,
                "weights_epoch": None,
                "trial": self.trial,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                **self.extra,
                "project": self.project_json,
            }
            self.record = self.history.create(data)
            self.metrics = MetricsWriter(self.record.folder / "metrics.jsonl", self.start_info)
            self.metrics.on_fit_start(trainer)

        self._safely(trainer, begin)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        def write() -> None:
            assert self.record is not None and self.metrics is not None
            self.metrics.on_epoch_end(trainer, epoch, metrics)
            data = self.record.data
            data["epochs"] = epoch
            data["seconds"] = round(time.perf_counter() - self.started, 3)
            data["train_loss"] = metrics.get("train_loss")
            losses = [v for v in (data.get("val_loss"), metrics.get("val_loss")) if v is not None]
            data["val_loss"] = min(losses) if losses else None
            if self._improved(metrics.get(self.metric)):
                data.update(best_value=self.best, best_epoch=epoch)
                if "val_accuracy" in metrics:
                    data["val_accuracy"] = metrics["val_accuracy"]
                self._save_weights(trainer, epoch)
            self.history.write(self.record)

        self._safely(trainer, write)

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        def finish() -> None:
            assert self.record is not None and self.metrics is not None
            self.metrics.on_fit_end(trainer, result)
            data = self.record.data
            if data.get("weights_epoch") is None and result.history:  # no validation figure
                self._save_weights(trainer, result.kept_epoch or result.epochs)
            if data.get("val_accuracy") is None and "val_accuracy" in result.final:
                data["val_accuracy"] = result.final["val_accuracy"]
            data.update(
                status=result.status,
                ended=now(),
                epochs=result.epochs,
                seconds=round(result.seconds, 3),
                message=result.message,
            )
            self.history.write(self.record)
            self.history.prune(
                self.retention.keep, self.retention.max_bytes, spare=[self.record.id]
            )

        self._safely(trainer, finish)

    def mark(self, status: str, **facts: Any) -> None:
        """After the run: a status only the caller knows (a search's ``pruned``)."""
        if self.record is None or self.problem is not None:
            return
        self.record.data.update(status=status, **facts)
        try:
            self.history.write(self.record)
        except OSError as error:
            self.problem = str(error)

    # ------------------------------------------------------------- helpers
    def _improved(self, value: Any) -> bool:
        if not isinstance(value, (int, float)) or value != value:
            return False
        better = self.best is None or (
            value > self.best if self.metric in HIGHER_IS_BETTER else value < self.best
        )
        if better:
            self.best = float(value)
        return better

    def _save_weights(self, trainer: Trainer, epoch: int | None) -> None:
        from engine.training.checkpoints import save_networks

        assert self.record is not None
        save_networks(
            trainer.step.networks(),
            self.record.folder / WEIGHTS_FILE,
            project=str(self.project_json.get("name", "")),
            epoch=epoch,
            status="best",
            scaling=self.scaling,
        )
        self.record.data["weights_epoch"] = epoch

    def _safely(self, trainer: Trainer, work: Any) -> None:
        """Run `work`; a failure to write ends the recording, never the run."""
        if self.problem is not None or (self.record is None and work.__name__ != "begin"):
            return
        try:
            work()
        except OSError as error:  # WriteError included: it names the file and the cause
            self.problem = str(error)
            trainer.notes.append(f"this run is not recorded in the run history: {error}")


def history_for(project: Project) -> RunHistory:
    """The history of `project` (beside its file, or in the data folder: engine.experiments.
    location)."""
    from engine.experiments.location import runs_folder

    return RunHistory(runs_folder(project.path, project.name))
