"""Work that would freeze the window, run on a thread of its own: explanations, saved-weights looks.

A `Job` runs one function on a QThread and hands back its result (or the
plain message of a mistake the user can fix) as a queued signal, so the UI
thread only ever draws. The function owns what it computes; nothing it
touches is shared with the UI thread while it runs.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from app import error_log


class Job(QThread):
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work

    def run(self) -> None:
        from engine.data.dataset import DataError
        from engine.explain.subject import ExplainError

        try:
            self.done.emit(self.work())
        except (ExplainError, DataError) as error:
            self.failed.emit(str(error))
        except Exception as error:  # a bug of ours: the message, the details in the log
            error_log.log.error("explain failed\n%s", traceback.format_exc())
            self.failed.emit(f"{type(error).__name__}: {error} (details in Help > Show Log)")


class Jobs:
    """Keeps each running job alive until it ends (a QThread destroyed while running aborts)."""

    def __init__(self) -> None:
        self.running: list[Job] = []

    def start(
        self, work: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[str], None]
    ) -> Job:
        job = Job(work)
        job.done.connect(done)
        job.failed.connect(failed)
        job.finished.connect(lambda: self._ended(job))
        self.running.append(job)
        job.start()
        return job

    def _ended(self, job: Job) -> None:
        if job in self.running:
            self.running.remove(job)
        job.deleteLater()

    def wait(self, milliseconds: int = 10_000) -> None:
        for job in list(self.running):
            job.wait(milliseconds)
