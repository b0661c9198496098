"""Train > Find Learning Rate…: the range test on a background thread, its curve, one-click apply.

The test runs on a copy of the project (engine.experiments.lr_finder; the
network's weights are put back afterwards, and the editor's project is never
touched). The dialog draws the smoothed loss against the learning rate on a
log axis, marks the suggestion and the project's own rate, and Apply sets the
suggestion as the project's learning rate: one undo step.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.training.controller import snapshot
from engine.project import Project

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from engine.experiments.lr_finder import LRFinding


class LRFinderWorker(QThread):
    progressed = Signal(int, int)
    found = Signal(object)  # LRFinding
    failed = Signal(str)

    def __init__(self, project: Project, device: str, steps: int) -> None:
        super().__init__()
        self.project = project
        self.device = device
        self.steps = steps
        self.stop_asked = False

    def run(self) -> None:
        from engine.data.dataset import DataError
        from engine.experiments.lr_finder import LRFinderError, find_lr
        from engine.settings import TrainingSettings
        from engine.training import PlanError, plan_training

        try:
            settings = TrainingSettings.from_project(self.project, {"device": self.device})
            plan = plan_training(self.project, settings)
            found = find_lr(
                plan,
                steps=self.steps,
                progress=lambda done, total: self.progressed.emit(done, total),
                stop_flag=lambda: self.stop_asked,
            )
        except (PlanError, DataError, LRFinderError) as error:
            self.failed.emit(str(error))
            return
        except Exception as error:
            self.failed.emit(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
            return
        self.found.emit(found)


class LRFinderDialog(QDialog):
    """The range test's window: progress while it runs, the curve and Apply when done."""

    applied = Signal(float)

    def __init__(self, window: MainWindow, steps: int = 200) -> None:
        super().__init__(window)
        self.setObjectName("LRFinderDialog")
        self.setWindowTitle("Find Learning Rate")
        self.resize(640, 440)
        self.window_ = window
        self.document = window.document
        self.finding: LRFinding | None = None
        self.plot: Any = None
        self.status = QLabel("Growing the learning rate batch by batch and watching the loss…")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, steps)
        self.chart_area = QVBoxLayout()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setEnabled(False)
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(lambda _c=False: self.apply())
        close = QPushButton("Close")
        close.clicked.connect(lambda _c=False: self.close())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        holder = QWidget()
        holder.setLayout(self.chart_area)
        layout.addWidget(holder, 1)
        layout.addLayout(buttons)
        self.worker = LRFinderWorker(snapshot(self.document.project), window.training.device, steps)
        self.worker.progressed.connect(lambda done, _total: self.progress.setValue(done))
        self.worker.found.connect(self._found)
        self.worker.failed.connect(self._failed)

    def start(self) -> None:
        self.worker.start()

    def closeEvent(self, event: Any) -> None:
        self.worker.stop_asked = True
        self.worker.wait(10_000)
        super().closeEvent(event)

    def _failed(self, message: str) -> None:
        self.status.setText(f"The range test could not run: {message.splitlines()[0]}")
        self.progress.hide()

    def _found(self, finding: LRFinding) -> None:
        self.finding = finding
        self.progress.hide()
        current = finding.current
        if finding.suggestion is None:
            self.status.setText(f"No suggestion: {finding.describe()}. ({finding.reason}.)")
        else:
            self.status.setText(
                f"<b>Suggested learning rate: {finding.suggestion:.3g}</b> — where the loss falls "
                f"fastest. The project uses {current:g}. ({finding.reason}.)"
            )
            self.apply_button.setText(f"Apply {finding.suggestion:.3g}")
            self.apply_button.setEnabled(not self.document.read_only)
        self._draw(finding)

    def _draw(self, finding: LRFinding) -> None:
        import numpy as np
        import pyqtgraph as pg

        from app.dashboard import style
        from designer import theme

        plot = pg.PlotWidget()
        plot.setBackground(style.plot_background())
        item = plot.getPlotItem()
        style.style_plot(item)
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", "learning rate", color=style.axis_colour())
        item.setLabel("left", "loss (smoothed)", color=style.axis_colour())
        count = len(finding.losses)
        rates = np.asarray(finding.rates[:count])
        item.plot(
            rates,
            np.asarray(finding.raw[:count]),
            pen=pg.mkPen(style.colour(style.TRAIN, 70), width=1),
        )
        item.plot(rates, np.asarray(finding.losses), pen=pg.mkPen(style.TRAIN, width=2.4))
        finite = [v for v in finding.losses if np.isfinite(v)]
        if finite:  # from below the lowest to the loss it started at: the whole fall shows
            low, start = min(finite), max(finite[: max(1, len(finite) // 10)])
            top = max(start, 1.5 * low)
            item.setYRange(low - 0.05 * (top - low), top + 0.08 * (top - low), padding=0)
        for value, colour, text, height in (
            (finding.suggestion, theme.current().ok, "suggested", 0.93),
            (finding.current, theme.current().text_dim, "the project's", 0.78),
        ):
            if value:
                line = pg.InfiniteLine(
                    np.log10(value),
                    angle=90,
                    pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine),
                    label=f"{text} {value:.3g}",
                    labelOpts={
                        "position": height,
                        "color": colour,
                        "anchors": [(0, 0.5), (0, 0.5)],
                    },
                )
                item.addItem(line)
        self.plot = plot
        self.chart_area.addWidget(plot)

    def apply(self) -> bool:
        if self.finding is None or self.finding.suggestion is None:
            return False
        value = float(f"{self.finding.suggestion:.3g}")
        done = self.document.set_value(
            "training.optimizer.lr", value, text=f"Set the learning rate to {value:g} (finder)"
        )
        if done:
            self.applied.emit(value)
            self.apply_button.setEnabled(False)
            self.apply_button.setText(f"Applied {value:g}")
        return done


def find_learning_rate(window: MainWindow) -> LRFinderDialog | None:
    """Open the dialog and start the test (not while training runs: the graph is locked)."""
    if window.training.running:
        window.statusBar().showMessage("Stop training to run the learning-rate finder", 6000)
        return None
    dialog = LRFinderDialog(window)
    dialog.show()
    dialog.start()
    return dialog
