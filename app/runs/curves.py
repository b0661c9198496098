"""The selected runs' curves on one chart: one colour per run, the metric chosen above it.

The dashboard's own chart (`LiveCurves`), fed each run's epochs from its
metrics stream; made the first time it is shown (pyqtgraph loads after the
window's first paint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from app.dashboard.live_curves import LiveCurves
    from engine.experiments.history import RunRecord

METRICS = {
    "val_loss": "Validation loss",
    "val_accuracy": "Validation accuracy",
    "train_loss": "Training loss",
    "train_accuracy": "Training accuracy",
}


def palette() -> tuple[str, ...]:
    from app.dashboard import style

    return style.SERIES


class RunCurves(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.chart: LiveCurves | None = None
        self.shown_metric = "val_loss"
        self.drawn: dict[str, str] = {}  # run id -> colour

    def build(self) -> LiveCurves:
        if self.chart is None:
            from app.dashboard.live_curves import LiveCurves

            self.chart = LiveCurves(
                METRICS[self.shown_metric] + " per epoch", self.shown_metric.split("_")[-1]
            )
            self.layout_.addWidget(self.chart)
        return self.chart

    def show_runs(self, runs: list[RunRecord], metric: str | None = None) -> dict[str, str]:
        """Draw `runs` (at most one colour each, in order); returns run id -> colour."""
        chart = self.build()
        if metric is not None and metric != self.shown_metric:
            self.shown_metric = metric
            for run_id in list(self.drawn):
                chart.remove(run_id)
            self.drawn.clear()
            chart.title = METRICS[metric] + " per epoch"
            title = chart.findChild(QLabel, "ChartTitle")
            if title is not None:
                title.setText(chart.title)
        wanted = {r.id for r in runs}
        for run_id in [r for r in self.drawn if r not in wanted]:
            chart.remove(run_id)
            del self.drawn[run_id]
        colours = palette()
        for run in runs:
            if run.id in self.drawn:
                continue
            used = set(self.drawn.values())
            colour = next(
                (c for c in colours if c not in used), colours[len(self.drawn) % len(colours)]
            )
            epochs = [e for e in run.epochs() if isinstance(e.get(self.shown_metric), (int, float))]
            chart.define(run.id, colour, label=run.name, width=2.2, symbol="o")
            chart.extend(
                run.id,
                [float(e["epoch"]) for e in epochs],
                [float(e[self.shown_metric]) for e in epochs],
            )
            self.drawn[run.id] = colour
        chart.follow = True
        chart.refresh(force=True)
        return dict(self.drawn)

    def points(self, run_id: str) -> int:
        return self.chart.points(run_id) if self.chart is not None else 0
