"""The Writing page's look into a run: text the language model writes as it learns.

Every few seconds, on the training thread between two batches (only that
thread may use the network while it trains), the model continues the
project's prompt; the text goes to the UI through the live buffer. Writing
takes time from training, so the pause between samples grows until it costs
at most SAMPLE_BUDGET of the run.
"""

from __future__ import annotations

import time
from typing import Any

from app.training.buffer import LiveBuffer
from engine.settings.generation import GenerationSettings
from engine.text.generate import Sampling
from engine.text.step import LanguageModelStep
from engine.training import BatchEnd, Callback, FitResult, Trainer

SAMPLE_EVERY = 3.0  # seconds between samples, at least
SAMPLE_BUDGET = 0.05  # the share of the run's time writing may take
LIVE_TOKENS = 160  # a live sample's length, at most


class WritingLook(Callback):
    def __init__(
        self,
        buffer: LiveBuffer,
        step: LanguageModelStep,
        generation: GenerationSettings,
        steps: int,
    ) -> None:
        self.buffer = buffer
        self.step = step
        self.generation = generation
        self.steps = max(1, steps)
        self.interval = SAMPLE_EVERY
        self.last = 0.0

    def write(self, epoch: float) -> None:
        started = time.perf_counter()
        chosen = self.generation
        sampling = Sampling(chosen.temperature, chosen.top_k, chosen.seed)
        tokens = min(chosen.tokens, LIVE_TOKENS)
        text = self.step.writer().continuation(chosen.prompt, tokens, sampling)
        self.buffer.add_text(epoch, chosen.prompt + text)
        self.last = time.perf_counter()
        self.interval = max(SAMPLE_EVERY, (self.last - started) / SAMPLE_BUDGET)

    def on_fit_start(self, trainer: Trainer) -> None:
        self.write(0.0)

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        if time.perf_counter() - self.last >= self.interval:
            self.write(batch.epoch - 1 + (batch.step + 1) / self.steps)

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        self.write(float(result.epochs))  # the weights kept: what the Generate box will use


def writing_look(plan: Any, buffer: LiveBuffer, steps_per_epoch: int) -> Callback | None:
    """The look for a language model's run (None for any other run)."""
    if not isinstance(plan.step, LanguageModelStep):
        return None
    generation = GenerationSettings.from_project(plan.project)
    return WritingLook(buffer, plan.step, generation, steps_per_epoch)
