"""Live charts drawn by Qt's C++ items: every point shown, spikes kept, only the tail redrawn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from app.dashboard.fast_line import MAX_DOTS, TAIL_POINTS, peak_downsample
from app.dashboard.live_curves import LiveCurves


@pytest.fixture
def chart(qtbot):
    chart = LiveCurves("Loss", "loss")
    qtbot.addWidget(chart)
    chart.resize(500, 250)
    chart.show()
    qtbot.waitExposed(chart)
    return chart


def test_peak_downsampling_keeps_every_spike_and_dip():
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 5000)
    y[54_321], y[7_777] = 100.0, -100.0
    xs, ys = peak_downsample(x, y, 1000)
    assert len(xs) == len(ys) <= 2 * 1000 + 100
    assert ys.max() == 100.0 and ys.min() == -100.0
    assert xs[0] == 0.0 and xs[-1] >= x[-100]
    short = np.arange(50.0)
    assert peak_downsample(short, short, 1000)[0] is short  # few points: drawn as they are


def test_a_long_run_shows_every_point_but_redraws_only_its_newest(chart):
    chart.define("batch", "#4f9dff")
    x = np.arange(5000) / 100
    chart.extend("batch", x, np.exp(-x / 10))
    chart.refresh(force=True)
    line = chart.series["batch"].item
    settled, tail = line.settled.line.path(), line.tail.line.path()
    assert tail.elementCount() <= 2 * TAIL_POINTS
    assert settled.boundingRect().left() == pytest.approx(0.0)
    assert settled.boundingRect().right() == pytest.approx(tail.boundingRect().left())
    assert tail.boundingRect().right() == pytest.approx(x[-1])
    chart.extend("batch", [50.0, 50.01], [0.5, 0.4])
    chart.refresh(force=True)
    assert line.tail.line.path().boundingRect().right() == pytest.approx(50.01)


def test_epoch_points_get_dots_until_there_are_too_many(chart):
    chart.define("val", "#f0a03c", symbol="o")
    chart.extend("val", [1.0, 2.0, 3.0], [0.9, 0.5, 0.4])
    chart.refresh(force=True)
    dots = chart.series["val"].item.tail.dots
    assert dots is not None and dots.path().elementCount() == 2 * 3
    many = np.arange(4.0, 4.0 + MAX_DOTS)
    chart.extend("val", many, np.full(len(many), 0.3))
    chart.refresh(force=True)
    assert dots.path().elementCount() == 0


def test_a_log_axis_draws_the_logarithm_and_gaps_where_values_are_not_positive(chart):
    chart.define("lr", "#a779e9")
    chart.extend("lr", [0.0, 1.0, 2.0, 3.0], [1e-3, 1e-1, 0.0, 1e-2])
    chart.set_log(True)
    path = chart.series["lr"].item.tail.line.path()
    box = path.boundingRect()
    assert box.top() == pytest.approx(math.log10(1e-3)) and box.bottom() == pytest.approx(-1.0)


def _rows_with(chart: LiveCurves, colour: QColor) -> list[int]:
    """Rows of the chart's picture where a pixel in the middle column has `colour`."""
    picture = chart.plot_widget.grab().toImage()
    middle = picture.width() // 2
    return [
        row
        for row in range(picture.height())
        if picture.pixelColor(middle, row).rgb() == colour.rgb()
    ]


def test_a_range_change_shows_at_the_next_paint(chart):
    """The chart paints in C++; its view boxes still bring their transform up to date first."""
    chart.follow = False
    chart.define("level", "#ff00ff", width=3)
    chart.extend("level", [0.0, 1000.0], [0.5, 0.5])
    chart.refresh(force=True)
    chart.box.setRange(xRange=(0, 1000), yRange=(0, 1), padding=0)
    before = _rows_with(chart, QColor("#ff00ff"))
    chart.box.setRange(xRange=(0, 1000), yRange=(0.25, 1.25), padding=0)
    after = _rows_with(chart, QColor("#ff00ff"))
    assert before and after and min(after) > max(before)  # the line moved down the picture


def test_clicking_a_legend_entry_hides_its_series(chart):
    chart.define("train", "#4f9dff")
    chart.extend("train", [0.0, 1.0], [1.0, 0.5])
    chart.refresh(force=True)
    entry = chart.legend.items[0][0]
    entry.item.setVisible(False)  # what pyqtgraph does on a click, then it signals
    entry.sigClicked.emit(entry.item)
    assert not chart.series["train"].visible
    assert not chart.series["train"].item.tail.line.isVisible()


def test_a_long_flat_line_of_small_values_is_drawn_without_holes(chart):
    """A learning rate: values of 1e-3, hundreds of points, settled part and tail."""
    chart.define("lr", "#ff00ff", width=1.6)
    x = np.arange(345) / 23
    for start in range(0, 345, 5):
        chart.extend("lr", x[start : start + 5], np.full(len(x[start : start + 5]), 1e-3))
        chart.refresh(force=True)
        QApplication.processEvents()  # painted frame by frame, as while training
    assert chart.series["lr"].item.split > 0
    picture = chart.plot_widget.grab().toImage()
    left = chart.box.mapViewToDevice(QPointF(0.2, 1e-3)).x()
    right = chart.box.mapViewToDevice(QPointF(14.8, 1e-3)).x()

    def magenta(column: int, row: int) -> bool:  # the grid drawn over it tints it a little
        colour = picture.pixelColor(column, row)
        return colour.red() > 200 and colour.green() < 90 and colour.blue() > 200

    holes = [
        column
        for column in range(int(left), int(right))
        if not any(magenta(column, row) for row in range(picture.height()))
    ]
    assert holes == []
