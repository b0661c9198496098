"""`netwright gui PROJECT --screenshot OUT.png --train-seconds S`: train, then take the picture.

Training runs for real, on its thread, while the event loop turns as it would
on screen, so the picture shows the live charts, the swatches on the canvas
and the progress exactly as a user would see them S seconds in.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QTimer

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

FRAME_MS = 10


def train_for(window: MainWindow, app: QApplication, seconds: float) -> str | None:
    """Start training and let it run `seconds` (less if it ends); returns the error, if any."""
    controller = window.training
    controller.quiet = True  # never a modal dialog in a screenshot run
    controller.train()
    deadline = time.perf_counter() + seconds
    loop = QEventLoop()
    ticker = QTimer()
    ticker.setInterval(FRAME_MS)

    def check() -> None:
        if time.perf_counter() >= deadline or not controller.running:
            loop.quit()

    ticker.timeout.connect(check)
    ticker.start()
    loop.exec()
    ticker.stop()
    controller.tick()
    controller.dashboard.refresh(force=True)
    for _ in range(3):
        app.processEvents()
    if controller.last_error:
        print(f"netwright: training failed: {controller.last_error}", file=sys.stderr)
    return controller.last_error
