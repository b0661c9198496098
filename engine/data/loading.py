"""From a project to training data in one call, for the CLI and the GUI alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.analysis import Analysis
from engine.data.prepare import PreparedData, network_io, prepare_data
from engine.data.spec import load_spec, project_spec
from engine.settings import TrainingSettings

if TYPE_CHECKING:
    from engine.project import Project


def load_training_data(
    project: Project,
    settings: TrainingSettings,
    analysis: Analysis,
    dataset: str | None = None,
) -> PreparedData:
    """Load the project's data (or the `dataset` spec instead) fitted to its network.

    The graph must be valid (`analysis.ok`). Raises DataError naming the file and the fix.
    """
    io = network_io(project.graph, analysis)
    spec = project_spec(project, dataset)
    section = project.dataset
    autoencoder = section.get("target") == "input"
    data = load_spec(
        spec,
        input_shape=io.input_shape,
        target_column=section.get("target_column"),
        classification=settings.is_classification and not autoencoder,
        need_targets=not autoencoder,
    )
    return prepare_data(data, io, settings, section)
