"""The GAN page's look into a run: for 2-D data, a dense cloud of generated points.

Images come from the GAN step's `samples()` (the fixed latent vectors,
refreshed by the step every few generator steps), which the page may read
from the UI thread. For 2-D data the page draws many more points than there
are fixed latents, and only the training thread may run the generator while
it trains: this callback generates them there a few times a second and hands
them over through the live buffer.
"""

from __future__ import annotations

import time
from typing import Any

from app.training.buffer import LiveBuffer
from engine.gan.step import GanStep
from engine.training import BatchEnd, Callback, FitResult, Trainer

CLOUD_INTERVAL = 0.2  # seconds between 2-D point clouds generated in the worker thread
CLOUD_POINTS = 1024


class CloudLook(Callback):
    def __init__(self, buffer: LiveBuffer, step: GanStep) -> None:
        self.buffer = buffer
        self.step = step
        self.last = 0.0

    def look(self) -> None:
        self.buffer.set_samples(self.step.generate(self.step.assess_latents[:CLOUD_POINTS]))
        self.last = time.perf_counter()

    def on_fit_start(self, trainer: Trainer) -> None:
        self.look()

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        if time.perf_counter() - self.last >= CLOUD_INTERVAL:
            self.look()

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        self.look()

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        self.look()
