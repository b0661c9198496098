"""The training dashboard: live curves, activations, weights and results, in tabs.

It holds no thread and no timer of its own: the training controller drains
the worker's buffer on its timer and hands the new figures to `consume`, then
calls `refresh`, which redraws only what changed and only the visible tab.

The charts (pyqtgraph, a few hundred milliseconds to make) are built after the
window's first paint, or the first time something needs them: the header and
the tabs show at once, their pages fill a moment later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.training.buffer import Drained

if TYPE_CHECKING:
    from app.dashboard.activations import ActivationsView
    from app.dashboard.live_curves import LiveCurves
    from app.dashboard.regions_page import RegionsPage
    from app.dashboard.results import ResultsView
    from app.dashboard.weights_view import WeightsView

HIGHER_IS_BETTER = ("val_accuracy", "train_accuracy")
TABS = ("Curves", "Activations", "Weights && gradients", "Results", "Regions")


class Charts:
    """The dashboard's pages: every chart and view, made together."""

    def __init__(self, pages: list[QBoxLayout]) -> None:
        from app.dashboard import style
        from app.dashboard.activations import ActivationsView
        from app.dashboard.live_curves import LiveCurves
        from app.dashboard.regions_page import RegionsPage
        from app.dashboard.results import ResultsView
        from app.dashboard.weights_view import WeightsView

        self.loss = LiveCurves("Loss", "loss")
        self.accuracy = LiveCurves("Accuracy", "accuracy", max_fps=8)  # epochs and probe looks
        self.rate = LiveCurves("Learning rate", "lr", max_fps=5)
        self.activations = ActivationsView()
        self.weights = WeightsView()
        self.results = ResultsView()
        self.regions = RegionsPage()  # shown once a 2-D/3-D classifier's run sends its regions
        curves, activations, weights, results, regions = pages
        for chart, stretch in ((self.loss, 5), (self.accuracy, 4), (self.rate, 3)):
            curves.addWidget(chart, stretch)
        for layout, view in (
            (activations, self.activations),
            (weights, self.weights),
            (results, self.results),
            (regions, self.regions),
        ):
            layout.addWidget(view)
        self.loss.define("batch", style.TRAIN, label="train (batch)", width=1.6, smooth=True)
        self.loss.define("train", style.TRAIN, label="train", width=2.2, symbol="o")
        self.loss.define("val", style.VALIDATION, label="validation", width=2.2, symbol="o")
        self.accuracy.define("train", style.TRAIN, label="train", width=2.2, symbol="o")
        self.accuracy.define("val", style.VALIDATION, label="validation", width=2.2, symbol="o")
        self.accuracy.define("probe", style.SERIES[2], label="probe (live)", width=1.4)
        self.rate.define("batch", style.RATE, label="per batch", width=1.6)
        self.rate.define("epoch", style.RATE, label="per epoch", width=2.0, symbol="o")


class TrainingDashboard(QWidget):
    built = Signal()  # the charts exist (after the first paint, or on first need)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingDashboard")
        self.per_batch = True
        self.best_metric = "val_loss"
        self.best: tuple[int, float] | None = None
        self._charts: Charts | None = None
        self.tabs = QTabWidget()
        self.tabs.setObjectName("DashboardTabs")
        self.tabs.setDocumentMode(True)
        self._pages: list[QBoxLayout] = []  # each tab's, where its charts go once made
        for title in TABS:
            page = QWidget()
            row = QHBoxLayout(page) if title == "Curves" else QVBoxLayout(page)
            row.setContentsMargins(*((2, 2, 2, 2) if title == "Curves" else (0, 0, 0, 0)))
            self._pages.append(row)
            self.tabs.addTab(page, title)
        self.regions_index = TABS.index("Regions")
        self.tabs.setTabVisible(self.regions_index, False)
        self.tabs.currentChanged.connect(lambda _i: self.refresh(force=True))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        layout.addWidget(self.tabs, 1)

    # ------------------------------------------------------------- the charts
    @property
    def charts(self) -> Charts:
        """Every chart, built now if they are not yet."""
        return self.build()

    @property
    def is_built(self) -> bool:
        return self._charts is not None

    def build(self) -> Charts:
        """Make the charts (the window asks just after its first paint, anything that needs
        them sooner asks first)."""
        if self._charts is None:
            self._charts = Charts(self._pages)
            if not self.per_batch:  # switched before the charts were made
                self.set_per_batch(False)
            self._smoothing_changed(self.smoothing.value())
            self.built.emit()
        return self._charts

    @property
    def loss(self) -> LiveCurves:
        return self.charts.loss

    @property
    def accuracy(self) -> LiveCurves:
        return self.charts.accuracy

    @property
    def rate(self) -> LiveCurves:
        return self.charts.rate

    @property
    def activations(self) -> ActivationsView:
        return self.charts.activations

    @property
    def weights(self) -> WeightsView:
        return self.charts.weights

    @property
    def results(self) -> ResultsView:
        return self.charts.results

    @property
    def regions(self) -> RegionsPage:
        return self.charts.regions

    def _header(self) -> QWidget:
        header = QWidget()
        header.setObjectName("DashboardHeader")
        row = QHBoxLayout(header)
        row.setContentsMargins(8, 4, 8, 4)
        self.banner = QLabel("Press Train (F5) to start")
        self.banner.setObjectName("TrainingBanner")
        self.banner.setProperty("state", "idle")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.banner, 1)
        group = QButtonGroup(self)
        for text, batch in (("Per batch", True), ("Per epoch", False)):
            button = QPushButton(text)
            button.setObjectName("SegmentButton")
            button.setCheckable(True)
            button.setChecked(batch == self.per_batch)
            button.clicked.connect(lambda _c=False, b=batch: self.set_per_batch(b))
            group.addButton(button)
            row.addWidget(button)
        row.addSpacing(12)
        row.addWidget(QLabel("Smoothing"))
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setFixedWidth(110)
        self.smoothing.setToolTip("Exponential moving average of the per-batch curves")
        self.smoothing.valueChanged.connect(self._smoothing_changed)
        row.addWidget(self.smoothing)
        self.smoothing_label = QLabel("")
        self.smoothing_label.setMinimumWidth(30)
        row.addWidget(self.smoothing_label)
        self.smoothing.setValue(60)
        return header

    # ------------------------------------------------------------- state
    def set_banner(self, text: str, state: str) -> None:
        """state: idle | running | paused | done | error (the style sheet colours each)."""
        self.banner.setText(text)
        self.banner.setProperty("state", state)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)

    def set_per_batch(self, on: bool) -> None:
        self.per_batch = on
        if not self.is_built:
            return  # the charts take it up when they are made
        self.loss.set_visible("batch", on)
        self.accuracy.set_visible("probe", on)
        self.rate.set_visible("batch", on)
        self.rate.set_visible("epoch", not on)

    def _smoothing_changed(self, value: int) -> None:
        weight = value / 100.0
        self.smoothing_label.setText(f"{weight:.2f}")
        if self.is_built:
            self.loss.set_smoothing(weight)

    # ------------------------------------------------------------- a run
    def begin_run(self, info: dict[str, Any], node_types: dict[str, str]) -> None:
        """A new run: the curves drawn so far stay behind, faint, for comparison."""
        for chart in (self.loss, self.accuracy, self.rate):
            chart.begin_run()
        self.weights.begin_run()
        self.activations.begin_run(node_types)
        self.results.clear()
        self.regions.begin_run()
        self.tabs.setTabVisible(self.regions_index, False)
        self.best_metric = str(info.get("best_metric", "val_loss"))
        self.best = None
        self.set_per_batch(self.per_batch)

    def forget_regions(self) -> None:
        """Another project: no regions until its run sends some. Deferred, so it follows
        whatever else shows or hides tabs for the new project."""
        if self.is_built:
            self.regions.begin_run()
        QTimer.singleShot(
            0,
            lambda: self.tabs.setTabVisible(
                self.regions_index, self.is_built and self.regions.active
            ),
        )

    def consume(self, new: Drained) -> None:
        batches = [(x, losses["loss"], lr) for x, losses, lr in new.batches if "loss" in losses]
        if batches:  # a GAN's batches have their own page
            xs, losses, rates = (list(column) for column in zip(*batches))
            self.loss.extend("batch", xs, losses)
            self.rate.extend("batch", xs, rates)
        for metrics in new.epochs:
            self._add_epoch(metrics)
        for probe in new.probes:
            self.activations.add(probe)
            self.weights.add(probe)
            if probe.accuracy is not None:
                self.accuracy.extend("probe", [probe.epoch], [probe.accuracy])
        for frame in new.regions:
            first = not self.regions.active
            self.regions.add(frame)
            if first:  # a 2-D/3-D classifier: its regions are the most telling view
                self.tabs.setTabVisible(self.regions_index, True)
                self.tabs.setCurrentIndex(self.regions_index)

    def _add_epoch(self, metrics: dict[str, Any]) -> None:
        epoch = float(metrics["epoch"])
        for chart, key, name in (
            (self.loss, "train_loss", "train"),
            (self.loss, "val_loss", "val"),
            (self.accuracy, "train_accuracy", "train"),
            (self.accuracy, "val_accuracy", "val"),
            (self.rate, "lr", "epoch"),
        ):
            if key in metrics and metrics[key] is not None:
                chart.extend(name, [epoch], [float(metrics[key])])
        value = metrics.get(self.best_metric)
        if value is None:
            return
        better = self.best is None or (
            value > self.best[1] if self.best_metric in HIGHER_IS_BETTER else value < self.best[1]
        )
        if better:
            self.best = (int(epoch), float(value))
            self._mark_best(int(epoch))

    def _mark_best(self, epoch: int) -> None:
        for chart in (self.loss, self.accuracy):
            chart.mark(float(epoch), f"best {epoch}")

    def finish(self, outcome: Any) -> None:
        if outcome.result.best_epoch is not None:
            self._mark_best(outcome.result.best_epoch)
        self.results.show_outcome(outcome)
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """Redraw what changed on the visible tab (hidden tabs catch up when shown)."""
        if not (self.isVisible() or force) or not self.is_built:
            return
        current = self.tabs.currentIndex()
        if current == 0:
            for chart in (self.loss, self.accuracy, self.rate):
                chart.refresh(force)
        elif current == 1:
            self.activations.refresh()
        elif current == 2:
            self.weights.refresh(force)
        elif current == self.regions_index:
            self.regions.refresh()
