"""Stop, pause and resume a training run from another thread (the GUI, a signal handler).

Shared by the Trainer and the GAN trainer: both loops check `_stop` and wait on
`_running` before each batch, so a request takes effect within one batch.
"""

from __future__ import annotations

import threading


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        """Ask the run to end before its next batch (status `stopped`)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Hold the run before its next batch until `resume()` (or `stop()`)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()
