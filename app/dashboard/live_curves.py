"""LiveCurves: a chart fed named series that grow while something trains.

Generic on purpose (loss, accuracy, learning rate, layer norms, a GAN's two
losses): callers `define` series by name, `extend` them with new points, and
call `refresh` from their own timer; only series that changed are handed to
pyqtgraph. Points live in numpy arrays that double when full. Earlier runs
stay behind as faint curves.

A frame must be cheap, and cheap for the GIL above all: the chart redraws 25
times a second in the process whose training thread needs the GIL for every
step. So every line, dots and earlier runs included, is Qt's own C++ path
items (`fast_line`), of which only the newest points are rebuilt each frame;
the axes, the legend and the best-epoch marker are cached pictures redrawn
only when they change or the view moves; and the view paints in C++
(`ChartWidget`). Settled points are peak-downsampled, so a run of a million
batches draws as fast as one of a hundred.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.dashboard import style
from app.dashboard.chart_widget import ChartWidget, draw_once
from app.dashboard.fast_line import LiveLine, StillLine, dot_pen
from designer import theme

MAX_EARLIER_RUNS = 3
DOT_SIZE = 6  # pixels across a per-epoch point


class GrowingSeries:
    """x and y values in numpy arrays that grow by doubling (no per-point reallocation)."""

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(capacity, np.float64)
        self._y = np.empty(capacity, np.float64)
        self.count = 0

    def extend(self, xs: np.ndarray | list[float], ys: np.ndarray | list[float]) -> None:
        xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
        needed = self.count + len(xs)
        if needed > len(self._x):
            size = max(needed, 2 * len(self._x))
            self._x = np.resize(self._x, size)
            self._y = np.resize(self._y, size)
        self._x[self.count : needed] = xs
        self._y[self.count : needed] = ys
        self.count = needed

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.count]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.count]

    def clear(self) -> None:
        self.count = 0


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average (TensorBoard's smoothing: 0 = none, 0.99 = very smooth),
    debiased so the curve starts at the first value rather than at zero."""
    running = RunningEma(weight)
    return running.update(values)


class RunningEma:
    """The smoothed copy of a growing series, extended by its new points only."""

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.values = GrowingSeries()
        self._last, self._count = 0.0, 0

    def update(self, values: np.ndarray) -> np.ndarray:
        """Smoothed `values` (which must extend the ones given before)."""
        done, weight = self.values.count, self.weight
        if weight <= 0.0:
            return values
        new = values[done:]
        out = np.empty_like(new)
        last, count = self._last, self._count
        for i, value in enumerate(new):
            if not np.isfinite(value):
                out[i] = value
                continue
            count += 1
            last = last * weight + (1 - weight) * value
            out[i] = last / (1 - weight**count)
        self._last, self._count = last, count
        self.values.extend(out, out)
        return self.values.y


@dataclass
class Series:
    name: str
    label: str
    colour: str
    item: LiveLine
    sample: pg.PlotDataItem  # the series' entry in the legend (never drawn on the chart)
    points: GrowingSeries = field(default_factory=GrowingSeries)
    smooth: bool = False  # follows the chart's smoothing
    raw: LiveLine | None = None  # the unsmoothed values, faint, under a smoothed curve
    dirty: bool = False
    visible: bool = True
    smoothed: RunningEma | None = None  # reset when the weight changes or the run restarts


def axis_end(value: float) -> float:
    """The end of the x axis: the next of 1, 2, 5, 10, 20, 50... epochs. Few steps, because
    each one redraws the axis and the grid (in Python: time the training thread waits for)."""
    if value <= 1.0:
        return 1.0
    decade = 10 ** np.floor(np.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if value <= step * decade + 1e-9:
            return float(step * decade)
    return float(10 * decade)


def _with_room(
    low: float, high: float, current: tuple[float, float] | None, log: bool
) -> tuple[float, float]:
    """A y range holding [low, high] with a margin; `current` kept while it still fits well."""
    span = high - low
    if span <= 1e-12 * max(abs(high), 1.0):  # a constant (a fixed learning rate)
        return (high - 1.0, high + 1.0) if log else (min(0.0, 2 * high), max(2 * high, 1e-12))
    if current is not None:
        inside = current[0] <= low and high <= current[1]
        if inside and (current[1] - current[0]) < 2.2 * span:
            return current
    margin = 0.08 * span
    return (low - margin, high + margin)


class LiveCurves(QWidget):
    """A titled chart of named, growing series with log scale, smoothing and export."""

    exported = Signal(str)  # the file written

    def __init__(
        self,
        title: str,
        y_label: str = "",
        x_label: str = "epoch",
        log_y: bool = False,
        parent: QWidget | None = None,
        max_fps: float = 25.0,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("LiveCurves")
        self.min_interval = 1.0 / max_fps  # a slow-moving chart need not redraw every frame
        self._drawn_at = 0.0
        self.title = title
        self.series: dict[str, Series] = {}
        self.smoothing = 0.0
        self.earlier: list[list[tuple[str, StillLine]]] = []
        self.marker: pg.InfiniteLine | None = None
        self.plot_widget = ChartWidget(enableMenu=False)
        self.plot_widget.setBackground(style.plot_background())
        self.plot = self.plot_widget.getPlotItem()
        style.style_plot(self.plot)
        self.plot.setLabel("bottom", x_label, color=style.axis_colour())
        if y_label:
            self.plot.setLabel("left", y_label, color=style.axis_colour())
        self.box = self.plot.getViewBox()
        self.box.setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().disableAutoRange()
        self.plot.getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.follow = True
        self._x_range: tuple[float, float] | None = None
        self._y_range: tuple[float, float] | None = None
        style.make_opaque(self.plot_widget)
        self.legend = self.plot.addLegend(offset=(-8, 8), labelTextColor=style.text_colour())
        self.legend.setBrush(style.colour(theme.current().node_body, 200))
        draw_once(self.legend)
        self._build(title, log_y)

    def _build(self, title: str, log_y: bool) -> None:
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 4, 0)
        name = QLabel(title)
        name.setObjectName("ChartTitle")
        header.addWidget(name)
        header.addStretch(1)
        self.log_box = QCheckBox("log")
        self.log_box.setToolTip("Logarithmic y axis")
        self.log_box.toggled.connect(self.set_log)
        header.addWidget(self.log_box)
        export = QToolButton()
        export.setText("⤓")
        export.setToolTip("Export this chart as a PNG picture or CSV data")
        menu = QMenu(export)
        menu.addAction("Export PNG…", lambda: self._ask_export("png"))
        menu.addAction("Export CSV…", lambda: self._ask_export("csv"))
        export.setMenu(menu)
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        header.addWidget(export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)
        self.log_box.setChecked(log_y)

    # ------------------------------------------------------------- series
    def define(
        self,
        name: str,
        colour: str,
        *,
        label: str | None = None,
        width: float = 2.0,
        dashed: bool = False,
        symbol: str | None = None,
        smooth: bool = False,
    ) -> None:
        """Add a series (idempotent); `smooth` series follow the smoothing slider."""
        if name in self.series:
            return
        pen = pg.mkPen(colour, width=width, style=Qt.PenStyle.DashLine if dashed else None)
        label = label or name
        log = self.log_box.isChecked()
        dots, marks = None, {}
        if symbol:
            dots = dot_pen(colour, DOT_SIZE)
            marks = {
                "symbol": symbol,
                "symbolSize": DOT_SIZE,
                "symbolBrush": colour,
                "symbolPen": None,
            }
        line = LiveLine(self.box, pen, z=1.0, dots=dots)
        line.log = log
        sample = pg.PlotDataItem([0.0], [0.0], pen=pen, **marks)  # a point, so its dot has colour
        series = Series(name, label, colour, line, sample, smooth=smooth)
        self.legend.addItem(sample, label)
        entry = self.legend.items[-1][0]  # clicking it hides the series, as in any pyqtgraph chart
        entry.sigClicked.connect(lambda item, n=name: self.set_visible(n, item.isVisible()))
        if smooth:
            series.raw = LiveLine(self.box, pg.mkPen(style.colour(colour, 70), width=1))
            series.raw.log = log
        draw_once(self.legend)  # its new entry too
        self.series[name] = series

    def extend(self, name: str, xs: list[float] | np.ndarray, ys: list[float] | np.ndarray) -> None:
        if len(xs):
            series = self.series[name]
            series.points.extend(xs, ys)
            series.dirty = True

    def remove(self, name: str) -> None:
        """Take a series off the chart and its legend (the Runs panel's overlay, when a run is
        no longer selected)."""
        series = self.series.pop(name, None)
        if series is None:
            return
        series.item.remove(self.box)
        if series.raw is not None:
            series.raw.remove(self.box)
        self.legend.removeItem(series.sample)
        draw_once(self.legend)
        self._y_range = None
        self._x_range = None
        self.refresh(force=True)

    def points(self, name: str) -> int:
        series = self.series.get(name)
        return 0 if series is None else series.points.count

    def data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        series = self.series[name]
        return series.points.x.copy(), series.points.y.copy()

    def set_visible(self, name: str, visible: bool) -> None:
        series = self.series[name]
        series.visible = visible
        series.item.setVisible(visible)
        if series.raw is not None:
            series.raw.setVisible(visible and self.smoothing > 0)
        series.sample.setVisible(visible)
        for run in self.earlier:
            for ghost_name, ghost in run:
                if ghost_name == name:
                    ghost.setVisible(visible)

    def refresh(self, force: bool = False) -> None:
        """Hand changed series to pyqtgraph; call from a timer (at most `max_fps` redraws a
        second; `force` draws now)."""
        now = time.perf_counter()
        if not force and now - self._drawn_at < self.min_interval:
            return
        self._drawn_at = now
        changed = False
        for series in self.series.values():
            if series.dirty:
                self._draw(series)
                changed = True
        if changed:
            self._follow_data()

    def _user_moved(self, *_: object) -> None:
        self.follow = False  # the user zoomed or panned: leave the view where they put it

    def _follow_data(self) -> None:
        """Keep every point in view, changing the range only in steps (the x axis grows to the
        next whole epoch, the y axis when points leave it or fill under half of it): a range
        that moves every frame makes the axes re-layout and repaint every frame."""
        box = self.plot.getViewBox()
        if any(box.autoRangeEnabled()):  # the 'A' button or a double-click: follow again
            self.follow = True
            box.disableAutoRange()
        if not self.follow:
            return
        values: list[GrowingSeries | StillLine] = [
            s.points for s in self.series.values() if s.visible and s.points.count
        ]
        for run in self.earlier:
            values += [g for _n, g in run if g.isVisible()]
        if not values:
            return
        xs = np.concatenate([v.x for v in values])
        ys = np.concatenate([v.y for v in values])
        log = self.log_box.isChecked()
        keep = np.isfinite(ys) & ((ys > 0) if log else True)
        if not keep.any():
            return
        xs, ys = xs[keep], np.log10(ys[keep]) if log else ys[keep]
        x_range = (min(0.0, float(xs.min())), axis_end(float(xs.max())))
        y_range = _with_room(float(ys.min()), float(ys.max()), self._y_range, log)
        if (x_range, y_range) != (self._x_range, self._y_range):
            self._x_range, self._y_range = x_range, y_range
            box.setRange(xRange=x_range, yRange=y_range, padding=0, disableAutoRange=True)

    def _draw(self, series: Series) -> None:
        series.dirty = False
        x, y = series.points.x, series.points.y
        if series.smooth and self.smoothing > 0:
            assert series.raw is not None
            series.raw.set(x, y)
            if series.smoothed is None or series.smoothed.weight != self.smoothing:
                series.smoothed = RunningEma(self.smoothing)
                series.item.restart()
            series.item.set(x, series.smoothed.update(y))
        else:
            series.item.set(x, y)

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        for series in self.series.values():
            if series.raw is not None:
                series.raw.setVisible(weight > 0 and series.visible)
                if weight <= 0:
                    series.raw.restart()
                    series.raw.set(np.empty(0), np.empty(0))
            if series.smooth:
                series.item.restart()
                series.dirty = True
        self.refresh(force=True)

    def set_log(self, on: bool) -> None:
        self.plot.setLogMode(y=on)  # the axis; the lines take log10 of their points themselves
        self._y_range = None
        for series in self.series.values():
            for line in (series.item, series.raw):
                if line is not None:
                    line.log = on
                    line.restart()
            series.dirty = True
        for run in self.earlier:
            for _name, ghost in run:
                ghost.set_log(on)
        self.refresh(force=True)

    def mark(self, x: float | None, text: str = "") -> None:
        """A vertical marker (the best epoch); None removes it."""
        if x is None:
            if self.marker is not None:
                self.plot.removeItem(self.marker)
                self.marker = None
            return
        if self.marker is None:
            pen = pg.mkPen(theme.current().ok, width=1.5, style=Qt.PenStyle.DashLine)
            self.marker = pg.InfiniteLine(
                angle=90,
                pen=pen,
                label=text,
                labelOpts={"position": 0.06, "color": theme.current().ok, "fill": None},
            )
            self.plot.addItem(self.marker, ignoreBounds=True)
            draw_once(self.marker)
        self.marker.setValue(x)
        self.marker.label.setFormat(text)

    def begin_run(self) -> None:
        """Keep what is drawn as faint 'earlier run' curves and start the series afresh."""
        run: list[tuple[str, StillLine]] = []
        for series in self.series.values():
            if series.points.count == 0:
                continue
            y = ema(series.points.y, self.smoothing) if series.smooth else series.points.y
            pen = pg.mkPen(style.colour(series.colour, 60), width=1.2)
            ghost = StillLine(self.box, pen, series.points.x.copy(), y.copy())
            ghost.set_log(self.log_box.isChecked())
            ghost.setVisible(series.visible)
            run.append((series.name, ghost))
        if run:
            self.earlier.append(run)
        while len(self.earlier) > MAX_EARLIER_RUNS:
            for _name, ghost in self.earlier.pop(0):
                ghost.remove(self.box)
        for series in self.series.values():
            series.points.clear()
            series.smoothed = None
            for line in (series.item, series.raw):
                if line is not None:
                    line.restart()
            series.dirty = True
        self.mark(None)
        self.follow = True
        self.refresh(force=True)

    def earlier_runs(self) -> int:
        return len(self.earlier)

    # ------------------------------------------------------------- export
    def _ask_export(self, kind: str) -> None:
        stem = self.title.lower().replace(" ", "-")
        pattern = "PNG pictures (*.png)" if kind == "png" else "CSV files (*.csv)"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {self.title}", f"{stem}.{kind}", pattern
        )
        if path:
            (self.export_png if kind == "png" else self.export_csv)(Path(path))

    def export_png(self, path: Path | str) -> bool:
        ok = self.plot_widget.grab().save(str(path), "PNG")
        if ok:
            self.exported.emit(str(path))
        return ok

    def export_csv(self, path: Path | str) -> None:
        """Every series' points as rows of series, x, y (one file for any number of series)."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["series", "x", "y"])
            for series in self.series.values():
                for x, y in zip(series.points.x, series.points.y):
                    writer.writerow([series.label, f"{x:.6g}", f"{y:.8g}"])
        self.exported.emit(str(path))
