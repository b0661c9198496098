"""From a project to a ready-to-run training job: checks, data, compiled networks, the step, device.

The CLI and the GUI both start here, for every kind of project, so both refuse
the same mistakes with the same messages. A project of one network trains
with the `SupervisedStep`; a project whose recipe trains several networks
(a GAN) gets its step and data from its recipe (engine.gan.plan).
`plan_training` never modifies the project file; it records the fitted
feature scaling in the in-memory project (``dataset.scaling_statistics``) so
saving the project keeps it.

Weights: one safetensors file per run whatever the project holds. A single
network's keys are its own (``conv1.weight``); several networks' are prefixed
with their names (``generator.fc1.weight``), see engine.training.checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from engine.analysis import Analysis
from engine.compiler import GraphModule, compile_graph
from engine.data.loading import load_training_data
from engine.data.prepare import PreparedData
from engine.problems import project_problems
from engine.project import Project
from engine.settings import TrainingSettings
from engine.text.tokenizers import Tokenizer
from engine.training.callbacks import Callback
from engine.training.checkpoints import checkpoint_tokenizer, load_networks, save_networks
from engine.training.devices import select_device
from engine.training.distributed import Distributed
from engine.training.errors import PlanError, refuse_problems
from engine.training.step import TrainingStep, parameter_count
from engine.training.supervised import SupervisedStep
from engine.training.trainer import FitResult, Trainer

__all__ = ["PlanError", "TrainingData", "TrainingPlan", "plan_training", "refuse_problems"]


class TrainingData(Protocol):
    """What a plan trains on: in-memory or streamed examples, a GAN's real samples."""

    @property
    def source(self) -> str: ...

    @property
    def classification(self) -> bool: ...

    @property
    def class_names(self) -> tuple[str, ...] | None: ...

    @property
    def scaling(self) -> dict[str, Any] | None: ...

    @property
    def train_samples(self) -> int: ...

    @property
    def val_samples(self) -> int: ...

    def batches(
        self, batch_size: int, *, device: torch.device | str, seed: int, rank: int, world_size: int
    ) -> tuple[Any, Any]: ...


@dataclass
class TrainingPlan:
    project: Project
    settings: TrainingSettings
    analyses: dict[str, Analysis]  # by network name
    networks: dict[str, GraphModule]  # by network name; the first is the main one
    step: TrainingStep
    data: TrainingData
    device: torch.device
    distributed: Distributed | None = None  # this process's place when launched by torchrun

    @property
    def model(self) -> GraphModule:
        """The main network (a GAN's generator: the one users export)."""
        return next(iter(self.networks.values()))

    @property
    def analysis(self) -> Analysis:
        return next(iter(self.analyses.values()))

    def trainer(
        self, callbacks: Sequence[Callback] = (), reserve_core_for_ui: bool = False
    ) -> Trainer:
        macs = sum(a.total_macs for a in self.analyses.values())
        return Trainer(
            self.step,
            self.settings,
            callbacks=callbacks,
            device=self.device,
            macs_per_sample=2 * macs if len(self.networks) > 1 else macs,
            reserve_core_for_ui=reserve_core_for_ui,
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
        info: dict[str, Any] = {**self.step.start_info()}
        info["parameters"] = parameter_count(self.networks.values())
        if len(self.networks) > 1:
            for name, network in self.networks.items():
                info[f"{name}_parameters"] = parameter_count([network])
        info.update(
            train_samples=self.data.train_samples,
            val_samples=self.data.val_samples,
            dataset=self.data.source,
        )
        if self.data.class_names is not None:
            info["classes"] = list(self.data.class_names)
        return info

    def describe(self, where: str) -> str:
        """The line that opens a run in the terminal."""
        return self.step.describe(self.project.name, where, self.start_info())

    def save(self, path: Path, result: FitResult) -> Path:
        """Write every network's kept weights to one file, atomically."""
        return save_networks(
            self.networks,
            path,
            project=self.project.name,
            epoch=result.final.get("epoch"),
            status=result.status,
            scaling=self.data.scaling,
            tokenizer=self.tokenizer,
        )

    @property
    def tokenizer(self) -> Tokenizer | None:
        """How text became token ids, for a run on text (saved with the weights)."""
        return getattr(self.data, "tokenizer", None)

    def run(self, callbacks: Sequence[Callback] = ()) -> tuple[Trainer, FitResult]:
        trainer = self.trainer(callbacks)
        return trainer, trainer.fit(*self.batches())


def _supervised_step(
    model: GraphModule,
    settings: TrainingSettings,
    data: TrainingData,
    distributed: Distributed | None,
) -> SupervisedStep:
    """A classifier's, regressor's or autoencoder's step; a language model's for text."""
    tokenizer = getattr(data, "tokenizer", None)
    if settings.loss == "next_token" and tokenizer is not None:
        from engine.text.step import LanguageModelStep

        assert isinstance(data, PreparedData)
        return LanguageModelStep(
            model,
            settings,
            tokenizer,
            int(data.train_x.shape[1]),
            unigram_loss=data.unigram_loss,
            distributed=distributed,
        )
    return SupervisedStep(
        model, settings, classification=data.classification, distributed=distributed
    )


def plan_training(
    project: Project,
    settings: TrainingSettings | None = None,
    *,
    dataset: str | None = None,
    weights: str | Path | None = None,
    distributed: Distributed | None = None,
    watched: bool = False,
) -> TrainingPlan:
    """Check everything, load the data and compile the networks; raises PlanError or DataError.

    `weights` resumes from a saved run. `distributed` (from `engine.training.distributed.start`):
    this process trains its share of the data on its own device, together with the other
    ranks. `watched`: the window shows the run live (a GAN then refreshes its samples often)."""
    report = project_problems(project)
    refuse_problems(report, dataset)
    _refuse_several_inputs(report.analyses, project.is_multi_network)
    settings = settings or TrainingSettings.from_project(project)
    try:
        device = select_device(settings.device) if distributed is None else distributed.device
    except ValueError as error:
        raise PlanError(str(error), 2) from None
    step: TrainingStep
    data: TrainingData
    if project.is_multi_network:
        from engine.gan.plan import gan_parts

        step, networks, data = gan_parts(project, settings, report.analyses, dataset, watched)
        analyses = {name: report.analyses[name] for name in networks}
    else:
        analysis = report.main
        saved = checkpoint_tokenizer(weights) if weights is not None else None
        data = load_training_data(project, settings, analysis, dataset, saved)
        model = compile_graph(project.graph, settings.seed, analysis)
        step = _supervised_step(model, settings, data, distributed)
        networks, analyses = {"network": model}, {"network": analysis}
    if weights is not None:
        load_networks(dict(networks), weights)
    if data.scaling is not None:
        project.dataset["scaling_statistics"] = data.scaling
    else:
        project.dataset.pop("scaling_statistics", None)
    return TrainingPlan(project, settings, analyses, networks, step, data, device, distributed)


def _refuse_several_inputs(analyses: dict[str, Analysis], named: bool) -> None:
    """A data set feeds one Input: a network reading several checks and exports, but training
    it would need data for each of them, which no data source gives yet."""
    for name, analysis in analyses.items():
        if len(analysis.input_ids) > 1:
            inputs = ", ".join(f"'{i}'" for i in analysis.input_ids)
            where = f"network '{name}' " if named else "the network "
            raise PlanError(
                f"{where}reads {len(analysis.input_ids)} inputs ({inputs}), but a data set "
                "feeds one Input: training needs data for each of them, which Netwright cannot "
                "give yet. Keep one Input to train it (checking and exporting work with several)",
                1,
            )
