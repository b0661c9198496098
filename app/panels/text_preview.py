"""What the Data panel shows for text: the corpus, how the network will read it, sample windows.

Tokenizing a corpus takes a moment (a subword tokenizer is learnt first), so
previews are cached by everything that changes them: the source, the
tokenizer, the window length, the vocabulary and the objective.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.analysis import Analysis
from engine.data.dataset import DataError
from engine.data.prepare import network_io
from engine.project import Project
from engine.settings import TrainingSettings
from engine.text.corpus import TextCorpus
from engine.text.network import text_for_network
from engine.text.windows import decode_window

SAMPLE_WINDOWS = 8


@dataclass(frozen=True)
class TextPreview:
    summary: str
    fit: str
    state: str  # ok | warning | error (the fit label's colour)
    rows: tuple[tuple[str, str], ...] = ()  # (a window as text, its label or "")
    counts: np.ndarray | None = None  # per class, for labelled text
    class_names: tuple[str, ...] = ()


class TextPreviews:
    """Previews of text for a network, remembered while nothing they depend on changes."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], TextPreview] = {}

    def preview(self, corpus: TextCorpus, analysis: Analysis, project: Project) -> TextPreview:
        summary = corpus.summary()
        if not analysis.ok or analysis.input_id is None:
            return TextPreview(
                summary, "Fix the network's problems to see how it reads this text.", "warning"
            )
        settings = TrainingSettings.from_project(project)
        section = project.dataset
        io = network_io(analysis)
        key = (
            id(corpus),
            section.get("tokenizer", "chars"),
            io,
            settings.loss,
            settings.validation_split,
            settings.seed,
        )
        if key not in self._made:
            if len(self._made) > 16:
                self._made.clear()
            self._made[key] = _made(corpus, summary, io, settings, section)
        return self._made[key]


def _made(
    corpus: TextCorpus, summary: str, io: Any, settings: TrainingSettings, section: dict[str, Any]
) -> TextPreview:
    try:
        text = text_for_network(corpus, io, settings, section)
    except DataError as error:
        return TextPreview(summary, f"✖ {error}", "error")
    data, tokenizer = text.data, text.tokenizer
    held = data.validation if data.validation is not None else np.zeros(data.samples, bool)
    what = "texts" if corpus.labelled else "windows"
    fit = (
        f"✔ {int((~held).sum()):,} training and {int(held.sum()):,} validation {what} of "
        f"{data.sample_shape[0]} tokens · {tokenizer.describe()}"
    )
    if text.unigram_loss is not None:
        fit += f" · a unigram model's validation loss: {text.unigram_loss:.3f}"
    names = corpus.class_names or ()
    picks = np.linspace(0, data.samples - 1, min(SAMPLE_WINDOWS, data.samples)).astype(int)
    rows = tuple(
        (
            decode_window(tokenizer, data.x[i]),
            names[int(data.y[i])] if names and data.y is not None else "",
        )
        for i in picks
    )
    counts = None
    if names and data.y is not None:
        counts = np.bincount(data.y.astype(np.int64), minlength=len(names))
    return TextPreview(summary, fit, "ok", rows, counts, names)
