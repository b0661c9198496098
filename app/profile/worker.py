"""The profile runs on a thread of its own: the window keeps drawing while torch works.

The worker owns a snapshot of the project (nothing shared with the editor) and
hands back an engine.profiling.Profile, or the plain message of what went wrong,
as queued signals.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QThread, Signal

from app import error_log
from engine.project import Project


class ProfileWorker(QThread):
    progressed = Signal(int, int)  # batches done, batches in all
    found = Signal(object)  # engine.profiling.Profile
    failed = Signal(str)

    def __init__(
        self, project: Project, device: str, batch_size: int | None, onnx: bool, repeats: int = 10
    ) -> None:
        super().__init__()
        self.project = project
        self.device = device
        self.batch_size = batch_size
        self.onnx = onnx
        self.repeats = repeats

    def run(self) -> None:
        from engine.profiling import ProfileError, profile_onnx, profile_torch

        try:
            if self.onnx:
                found = profile_onnx(self.project, self.batch_size, self.repeats)
            else:
                found = profile_torch(
                    self.project,
                    self.device,
                    self.batch_size,
                    self.repeats,
                    progress=lambda done, total: self.progressed.emit(done, total),
                )
        except ProfileError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # a bug of ours: the message here, the details in the log
            error_log.log.error("profile failed\n%s", traceback.format_exc())
            self.failed.emit(f"{type(error).__name__}: {error} (details in Help > Show Log)")
            return
        self.found.emit(found)
