"""What a start does once the window is on screen, in order.

1. Offer any work a crash left behind (app/recovery.py): it comes first, so
   nothing stands in front of it.
2. Greet a first start with the getting-started panel (app/welcome.py), never
   over a project named on the command line, never after a recovery offer.
3. Load torch on a background thread: it takes seconds, and nothing the window
   shows at first needs it. When it is in, the Device box lists the GPUs. A
   Train pressed before that simply waits for the import to finish.

Everything starts from the window's first paint, so the window is up before
any of it runs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from app.main_window import MainWindow


class TorchWarmUp(QObject):
    """Imports torch and the training code on a plain thread; `ready` arrives on the UI thread."""

    ready = Signal()

    def start(self) -> None:
        threading.Thread(target=self._load, name="torch warm-up", daemon=True).start()

    def _load(self) -> None:
        import engine.training.plan  # noqa: F401  (torch, the compiler, data, the Trainer)

        self.ready.emit()  # queued to the thread this object lives in: the UI's


def after_first_paint(window: MainWindow, named_project: bool) -> None:
    """Recovery, then the greeting, then torch; see the module docstring."""

    def start() -> None:
        from app.recovery import offer_recovery, recovery_entries
        from app.welcome import greet_on_start

        offered = bool(recovery_entries())
        offer_recovery(window)  # waits for the user's answers
        if not offered and not named_project:
            greet_on_start(window)
        warm_up = TorchWarmUp(window)
        warm_up.ready.connect(window.training.refresh_devices)
        warm_up.start()

    window.first_painted.connect(start)
