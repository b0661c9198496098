"""From a project to training data in one call, for the CLI and the GUI alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.analysis import Analysis
from engine.data.dataset import DataSet
from engine.data.images import image_files
from engine.data.prepare import PreparedData, network_io, prepare_data
from engine.data.spec import load_spec, project_spec
from engine.data.streaming import StreamedData, folder_bytes, memory_budget, stream_image_folder
from engine.settings import TrainingSettings

if TYPE_CHECKING:
    from engine.project import Project
    from engine.text.tokenizers import Tokenizer


def load_training_data(
    project: Project,
    settings: TrainingSettings,
    analysis: Analysis,
    dataset: str | None = None,
    tokenizer: Tokenizer | None = None,
) -> PreparedData | StreamedData:
    """Load the project's data (or the `dataset` spec instead) fitted to its network.

    The graph must be valid (`analysis.ok`). Raises DataError naming the file and the fix.
    An image folder too large for memory comes back as StreamedData (read by workers).
    Text is tokenized by `tokenizer` (the one a resumed run's weights were trained with)
    or by a new one fitted to the data.
    """
    io = network_io(analysis)
    spec = project_spec(project, dataset)
    section = project.dataset
    autoencoder = section.get("target") == "input"
    if spec.kind == "images" and not autoencoder and settings.is_classification:
        files, _, _ = image_files(spec.paths[0])
        if folder_bytes(len(files), io.input_shape) > memory_budget():
            return stream_image_folder(
                spec.paths[0],
                io.input_shape,
                io.output_shape[0] if len(io.output_shape) == 1 else None,
                settings.validation_split,
                settings.seed,
                section.get("scaling", "standard"),
            )
    data = load_spec(
        spec,
        input_shape=io.input_shape,
        target_column=section.get("target_column"),
        classification=settings.is_classification and not autoencoder,
        need_targets=not autoencoder,
        text_column=section.get("text_column"),
    )
    if isinstance(data, DataSet):
        return prepare_data(data, io, settings, section)
    from engine.text.network import text_for_network

    text = text_for_network(data, io, settings, section, tokenizer)
    prepared = prepare_data(text.data, io, settings, section)
    prepared.tokenizer, prepared.unigram_loss = text.tokenizer, text.unigram_loss
    return prepared
