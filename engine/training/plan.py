"""From a project to a ready-to-run training job: checks, data, compiled network, device.

The CLI and the GUI both start here, so both refuse the same mistakes with the
same messages. `plan_training` never modifies the project file; it records the
fitted feature scaling in the in-memory project (``dataset.scaling_statistics``)
so saving the project keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.analysis import Analysis
from engine.compiler import GraphModule, compile_graph
from engine.data.loading import load_training_data
from engine.data.prepare import PreparedData
from engine.data.streaming import StreamedData
from engine.problems import ProjectReport, project_problems
from engine.project import Project
from engine.settings import TrainingSettings
from engine.training.callbacks import Callback
from engine.training.checkpoints import load_checkpoint
from engine.training.devices import select_device
from engine.training.distributed import Distributed
from engine.training.trainer import FitResult, Trainer


class PlanError(ValueError):
    """The project cannot be trained as it stands; `code` 1 (fix the project) or 2 (bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def refuse_problems(report: ProjectReport, dataset: str | None = None) -> None:
    """Raise PlanError listing what stops the project training (the first 20). With `dataset`
    given, the project's own data source is not used in this run, so its problems don't count."""
    problems = report.errors
    if dataset is not None:
        problems = [d for d in problems if not (d.param or "").startswith("dataset.source")]
    if problems:
        lines = "\n".join(
            f"  {d}" + (f" [{d.param}]" if d.param and not d.node else "") for d in problems[:20]
        )
        raise PlanError(f"the project cannot be trained until these are fixed:\n{lines}", 1)


@dataclass
class TrainingPlan:
    project: Project
    settings: TrainingSettings
    analysis: Analysis
    model: GraphModule
    data: PreparedData | StreamedData
    device: torch.device
    distributed: Distributed | None = None  # this process's place when launched by torchrun

    def trainer(
        self, callbacks: Sequence[Callback] = (), reserve_core_for_ui: bool = False
    ) -> Trainer:
        return Trainer(
            self.model,
            self.settings,
            callbacks=callbacks,
            device=self.device,
            macs_per_sample=self.analysis.total_macs,
            reserve_core_for_ui=reserve_core_for_ui,
            classification=self.data.classification,
            distributed=self.distributed,
        )

    def batches(self) -> tuple[Any, Any]:
        place = self.distributed
        return self.data.batches(
            self.settings.batch_size,
            device=self.device,
            seed=self.settings.seed,
            rank=place.rank if place is not None else 0,
            world_size=place.world_size if place is not None else 1,
        )

    def start_info(self) -> dict[str, Any]:
        """Facts for the metrics stream's start event."""
        info: dict[str, Any] = {
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "train_samples": self.data.train_samples,
            "val_samples": self.data.val_samples,
            "dataset": self.data.source,
        }
        if self.data.class_names is not None:
            info["classes"] = list(self.data.class_names)
        return info

    def run(self, callbacks: Sequence[Callback] = ()) -> tuple[Trainer, FitResult]:
        trainer = self.trainer(callbacks)
        return trainer, trainer.fit(*self.batches())


def plan_training(
    project: Project,
    settings: TrainingSettings | None = None,
    *,
    dataset: str | None = None,
    weights: str | Path | None = None,
    distributed: Distributed | None = None,
) -> TrainingPlan:
    """Check everything, load the data and compile the network; raises PlanError or DataError.

    `distributed` (from `engine.training.distributed.start`): this process trains its share
    of the data on its own device, together with the other ranks."""
    if project.is_multi_network:
        raise PlanError(
            "this project trains several networks together (a recipe such as a GAN); "
            "the single-network trainer cannot train it",
            1,
        )
    report = project_problems(project)
    analysis = report.main
    refuse_problems(report, dataset)
    settings = settings or TrainingSettings.from_project(project)
    try:
        device = select_device(settings.device) if distributed is None else distributed.device
    except ValueError as error:
        raise PlanError(str(error), 2) from None
    data = load_training_data(project, settings, analysis, dataset)
    model = compile_graph(project.graph, settings.seed, analysis)
    if weights is not None:
        load_checkpoint(model, weights)
    if data.scaling is not None:
        project.dataset["scaling_statistics"] = data.scaling
    else:
        project.dataset.pop("scaling_statistics", None)
    return TrainingPlan(project, settings, analysis, model, data, device, distributed)
