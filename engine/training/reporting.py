"""Callbacks that report a run: progress lines for people, the JSONL metrics stream for programs.

The metrics stream follows CONTRACT.md ("Training metrics"): a `start` event,
one `epoch` event per complete epoch, an `end` event; one JSON object per
line, flushed as it happens, so a reader can follow the file live.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import IO, Any

from engine.atomic import WriteError
from engine.training.callbacks import Callback
from engine.training.trainer import FitResult, Trainer


class MetricsWriter(Callback):
    """Writes the metrics stream to `path` (or an open text stream)."""

    def __init__(
        self, target: str | Path | IO[str], start_info: dict[str, Any] | None = None
    ) -> None:
        self._own = isinstance(target, (str, Path))
        try:
            self.stream: IO[str] = (
                open(target, "w", encoding="utf-8") if isinstance(target, (str, Path)) else target
            )
        except OSError as error:
            raise WriteError(f"{target}: cannot be written ({error.strerror or error})") from None
        self.start_info = start_info or {}

    def write(self, event: dict[str, Any]) -> None:
        try:
            self.stream.write(json.dumps(_finite(event), separators=(", ", ": ")) + "\n")
            self.stream.flush()
        except OSError as error:  # the disk filled up during the run
            name = getattr(self.stream, "name", "the metrics stream")
            raise WriteError(f"{name}: cannot be written ({error.strerror or error})") from None

    def on_fit_start(self, trainer: Trainer) -> None:
        self.write(
            {
                "event": "start",
                "device": str(trainer.device),
                "world_size": trainer.world_size,
                **self.start_info,
            }
        )

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        self.write({"event": "epoch", **metrics})

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        event: dict[str, Any] = {
            "event": "end",
            "status": result.status,
            "epochs": result.epochs,
            "best_val_loss": result.best_val_loss,
            "best_epoch": result.best_epoch,
            "seconds": round(result.seconds, 3),
            "message": result.message,
            **trainer.step.end_figures(result),
        }
        self.write(event)
        if self._own:
            self.stream.close()


def _finite(event: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN or infinity; such values are written as null."""
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in event.items()
    }


class ProgressPrinter(Callback):
    """One line per epoch and a closing summary, for the terminal."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        epochs = trainer.settings.epochs
        line = trainer.step.epoch_line({**metrics, "epoch": epoch}, epochs, len(str(epochs)))
        self.say(f"{line}  {metrics['seconds']:.1f}s")
        for warning in trainer.step.warnings(metrics):
            self.say(f"warning: {warning}")

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        self.say(trainer.step.result_line(result) + f" ({result.seconds:.1f}s)")
        for note in result.notes:
            self.say(f"note: {note}")
