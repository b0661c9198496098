"""What an explanation looks at: a trained network and the validation samples it was judged on.

`netwright explain` loads it from a project and a weights file (the way
export does: `ready_model`); the window builds it from the weights its last
run left in memory. Either way the samples are the run's own validation
samples, split by the project's seed and scaled with the statistics fitted on
its training part, so sample N here is sample N of the Results tab.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.analysis import Analysis, analyse
from engine.compiler import GraphModule, compile_graph
from engine.data.dataset import DataError
from engine.data.loading import load_training_data
from engine.data.scaling import apply_scaling
from engine.explain.features import feature_names
from engine.project import Project
from engine.settings import TrainingSettings


class ExplainError(ValueError):
    """An explanation the user can fix; `code` is the CLI exit code (1 unusable, 2 bad input)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Subject:
    """The network in eval mode on the CPU, its validation samples and the names of things."""

    project: Project
    model: GraphModule
    analysis: Analysis
    val_x: torch.Tensor
    val_y: torch.Tensor | None
    classification: bool
    class_names: tuple[str, ...] | None
    weights: str  # where the numbers came from, in words
    scaling: dict[str, Any] | None = None  # the fitted input scaling (None: inputs as they are)

    @property
    def tokens(self) -> bool:
        """The network reads token ids (an Embedding first): attributions are per token."""
        return self.analysis.reads_tokens

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.analysis.input_shape or ())

    @property
    def outputs(self) -> int:
        """How many numbers the network gives per sample (classes, or values)."""
        shape = tuple(self.analysis.output_shape or ())
        return int(np.prod(shape)) if shape else 1

    @property
    def samples(self) -> int:
        return len(self.val_x)

    def sample(self, index: int) -> torch.Tensor:
        """Validation sample `index` as a batch of one."""
        if not 0 <= index < self.samples:
            raise ExplainError(
                f"--sample {index} is out of range: the project has {self.samples} validation "
                f"samples, numbered 0 to {self.samples - 1}"
            )
        return self.val_x[index : index + 1]

    def label(self, index: int) -> int | None:
        """The true class of validation sample `index` (None for regression)."""
        if self.val_y is None or not self.classification:
            return None
        return int(self.val_y[index])

    def prepared(self, raw: np.ndarray) -> torch.Tensor:
        """One sample as the data set holds it (the Data tab's), as the network reads it:
        reshaped to the Input and scaled as in training."""
        values = np.asarray(raw)
        shape = self.input_shape
        if values.size != int(np.prod(shape)):
            raise ExplainError(
                f"a sample of {values.size} values does not fit the Input "
                f"({'x'.join(map(str, shape))})",
                code=1,
            )
        if self.tokens:
            return torch.from_numpy(values.reshape(1, *shape).astype(np.int64))
        batch = values.reshape(1, *shape).astype(np.float32)
        return torch.from_numpy(apply_scaling(batch, self.scaling))

    def class_name(self, index: int) -> str:
        names = self.class_names
        return names[index] if names is not None and 0 <= index < len(names) else str(index)

    def feature_names(self) -> tuple[str, ...]:
        """A name per input feature, for tabular data (x0, x1, ... when nothing names them)."""
        base = self.project.path.parent if self.project.path is not None else None
        source = self.project.dataset.get("source")
        return feature_names(
            source if isinstance(source, str) else None,
            int(np.prod(self.input_shape)) if self.input_shape else 0,
            base,
            self.project.dataset.get("target_column"),
        )


def _valid_analysis(project: Project) -> Analysis:
    if project.is_multi_network:
        raise ExplainError(
            f"{project.name} trains several networks (a GAN); explain looks into a single "
            "network that answers for each sample",
            code=1,
        )
    analysis = analyse(project.graph)
    if not analysis.ok:
        lines = "; ".join(str(d) for d in analysis.errors[:5])
        raise ExplainError(
            f"the network has {len(analysis.errors)} problem(s), fix them first: {lines}", code=1
        )
    return analysis


def _validation(project: Project, analysis: Analysis) -> Any:
    """The project's data as its training run split and scaled it."""
    settings = TrainingSettings.from_project(project)
    try:
        data = load_training_data(project, settings, analysis)
    except DataError as error:
        raise ExplainError(str(error), code=error.code) from None
    val_x = getattr(data, "val_x", None)
    if not isinstance(val_x, torch.Tensor):
        raise ExplainError(
            f"{project.name}: its images are read from the folder while training (too many to "
            "hold in memory), so there are no validation samples in memory to explain",
            code=1,
        )
    if not len(val_x):
        raise ExplainError(
            f"{project.name} keeps no validation samples (validation_split is 0); set a "
            "validation split to choose samples from",
            code=1,
        )
    return data


def _subject(
    project: Project, model: GraphModule, analysis: Analysis, weights: str, data: Any
) -> Subject:
    model.eval()
    return Subject(
        project,
        model.to("cpu"),
        analysis,
        data.val_x,
        data.val_y,
        bool(data.classification),
        data.class_names,
        weights,
        data.scaling,
    )


def load_subject(project: Project, weights: str | Path | None = None) -> Subject:
    """The project's network with its trained weights (`weights`, else ``NAME.safetensors``
    beside the project, else the seed's initial ones) and its validation samples."""
    from engine.export.model import ExportError, ready_model

    analysis = _valid_analysis(project)
    try:
        ready = ready_model(project, weights)
    except ExportError as error:
        raise ExplainError(str(error), code=error.code) from None
    return _subject(
        project, ready.module, ready.analysis, ready.weights, _validation(project, analysis)
    )


def subject_from_state(
    project: Project, state: dict[str, torch.Tensor], weights: str = "this session's training"
) -> Subject:
    """The network of `project` with the weights a run left in memory (the window's case)."""
    analysis = _valid_analysis(project)
    seed = project.training.get("seed", 0)
    model = compile_graph(project.graph, seed if isinstance(seed, int) else 0, analysis)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ExplainError(
            f"the trained weights no longer fit the network ({error}); train again", code=1
        ) from None
    return _subject(project, model, analysis, weights, _validation(project, analysis))


__all__ = ["ExplainError", "Subject", "load_subject", "subject_from_state"]
