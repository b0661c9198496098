"""The dashboard's Regions tab: what a 2-D or 3-D classifier has learned, while it learns.

The training thread computes the model's class over a grid about once a second
(app/training/regions_look.py); this page receives those frames from the
dashboard's timer and redraws the RegionsView only when it is visible and a new
frame has arrived. Until a run of such a classifier sends its first frame it
says what it is for.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from app.regions_view import RegionsView
from app.training.regions_look import RegionsFrame, lookup

HINT = (
    "Decision regions appear here while training a classifier whose Input has 2 or 3 "
    "features (paper-ball, moons, circles, spirals)."
)


class RegionsPage(QStackedWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RegionsPage")
        hint = QLabel(HINT)
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view = RegionsView()
        self.addWidget(hint)
        self.addWidget(self.view)
        self.frame: RegionsFrame | None = None
        self.frames = 0
        self._drawn = True

    @property
    def active(self) -> bool:
        """A run of a 2-D/3-D classifier has sent its regions."""
        return self.frame is not None

    def begin_run(self) -> None:
        self.frame = None
        self.frames = 0
        self._drawn = True
        self.view.set_predict(None)
        self.setCurrentIndex(0)

    def add(self, frame: RegionsFrame) -> None:
        if frame.x is not None and frame.y is not None:
            self.view.predict = None  # set_data redraws: no stale regions over new data
            self.view.set_data(frame.x, frame.y)
            self.setCurrentIndex(1)
        self.frame = frame
        self.frames += 1
        self._drawn = False

    def refresh(self) -> None:
        """Redraw with the newest frame (the caller only asks while this page is shown)."""
        frame = self.frame
        if frame is None or self._drawn:
            return
        self._drawn = True
        self.view.set_predict(lambda points: lookup(frame, points))


__all__ = ["RegionsPage"]
