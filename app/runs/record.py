"""The window's way of recording runs: a look (app.training.worker.Look) that adds the recorder.

It is one of the training controller's looks, so every run started from the
window is recorded (the "Record runs" switch off: none is), on the training
thread, with no change to the worker. A search records its trials itself (each
with its trial's facts), so it leaves this look out (`records_runs`).
"""

from __future__ import annotations

from typing import Any


class RecordLook:
    records_runs = True  # a search worker skips this look: it records its trials itself

    def __init__(self) -> None:
        self.enabled = True
        self.last: Any = None  # the latest run's recorder (read by the panel after the run)

    def __call__(self, plan: Any, buffer: Any, steps_per_epoch: int) -> Any:
        if not self.enabled:
            return None
        from engine.experiments.recorder import RunRecorder, history_for

        self.last = RunRecorder(
            history_for(plan.project),
            plan.project,
            plan.settings,
            plan.start_info(),
            source="window",
        )
        return self.last
