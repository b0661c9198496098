"""The search's two pictures: the objective over trials, and how much each dimension mattered.

The objective chart is pyqtgraph (made on first need): one dot per complete
trial, a cross for each pruned one at its last reported value, and the best so
far as a step line. The importances are plain bars painted by Qt, one per
dimension, longest first.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from designer import theme


class ObjectiveChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.plot: Any = None
        self.setMinimumHeight(110)
        self.setMaximumHeight(135)
        self.objective = "val_loss"
        self.points: list[tuple[int, float, str]] = []

    def _build(self) -> Any:
        if self.plot is None:
            import pyqtgraph as pg

            from app.dashboard import style

            widget = pg.PlotWidget()
            widget.setBackground(style.plot_background())
            style.style_plot(widget.getPlotItem())
            widget.getPlotItem().setLabel("bottom", "trial", color=style.axis_colour())
            widget.getPlotItem().setLabel("left", self.objective, color=style.axis_colour())
            self.layout_.addWidget(widget)
            self.plot = widget.getPlotItem()
        return self.plot

    def show_trials(self, outcomes: list[Any], objective: str) -> None:
        """Redraw from the trial outcomes (a few dozen points: cheap)."""
        import pyqtgraph as pg

        from app.dashboard import style

        self.objective = objective
        plot = self._build()
        plot.clear()
        plot.setLabel("left", objective, color=style.axis_colour())
        done = [
            (o.number, o.value) for o in outcomes if o.state == "complete" and o.value is not None
        ]
        pruned = [
            (o.number, o.value) for o in outcomes if o.state == "pruned" and o.value is not None
        ]
        self.points = [(n, v, "complete") for n, v in done] + [(n, v, "pruned") for n, v in pruned]
        if not done:
            return
        if pruned:
            dim = theme.current().text_dim
            px, py = zip(*pruned)
            plot.plot(
                list(px), list(py), pen=None, symbol="x", symbolSize=8,
                symbolBrush=dim, symbolPen=dim,
            )  # fmt: skip
        xs, ys = zip(*done)
        plot.plot(
            list(xs), list(ys), pen=None, symbol="o", symbolSize=8,
            symbolBrush=style.TRAIN, symbolPen=None,
        )  # fmt: skip
        pick = min if objective.endswith("loss") else max
        best, steps_x, steps_y = None, [], []
        last = max(n for n, _v, _s in self.points)
        for n, v in sorted(done):
            if best is not None:
                steps_x.append(n)
                steps_y.append(best)  # the step: flat until a trial does better
            best = v if best is None else pick(best, v)
            steps_x.append(n)
            steps_y.append(best)
        steps_x.append(last)
        steps_y.append(best)
        plot.plot(steps_x, steps_y, pen=pg.mkPen(theme.current().ok, width=2))
        complete = [v for _n, v in done]
        low, high = min(complete), max(complete)
        span = (high - low) or abs(high) * 0.5 or 1.0
        top = max(v for _n, v, _s in self.points)
        top = min(top, high + 1.5 * span)  # a pruned trial far above stays a cross at the top
        plot.setYRange(low - 0.1 * span, top + 0.1 * span, padding=0)
        plot.setXRange(-0.5, last + 0.5, padding=0)


class ImportanceBars(QWidget):
    """Horizontal bars: each dimension's share of the objective's variation (fANOVA)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: dict[str, float] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_values(self, values: dict[str, float]) -> None:
        self.values = dict(sorted(values.items(), key=lambda kv: -kv[1]))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(260, max(24, 20 * len(self.values) + 6))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        t = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.values:
            painter.setPen(QColor(t.text_dim))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "importances: after two complete trials"
            )
            return
        label_width = min(150, max(70, self.width() // 3))
        bar_space = self.width() - label_width - 52
        for row, (name, share) in enumerate(self.values.items()):
            top = 3 + row * 20
            painter.setPen(QColor(t.text))
            painter.drawText(
                QRectF(0, top, label_width - 6, 18),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.node_body))
            painter.drawRoundedRect(QRectF(label_width, top + 3, bar_space, 12), 3, 3)
            painter.setBrush(QColor(t.accent))
            painter.drawRoundedRect(
                QRectF(label_width, top + 3, max(2.0, bar_space * share), 12), 3, 3
            )
            painter.setPen(QColor(t.text_dim))
            painter.drawText(
                QRectF(label_width + bar_space + 4, top, 48, 18),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{share:.0%}",
            )
