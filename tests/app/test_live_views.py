"""The dashboard's building blocks: growing curves, smoothing, export, and the probe."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from app.dashboard.live_curves import GrowingSeries, LiveCurves, ema
from app.training import worker
from app.training.buffer import LiveBuffer
from app.training.probe import ActivationProbe, histogram, probe_batch
from app.training.worker import LiveFigures
from engine.compiler import compile_graph
from engine.project import load_project
from engine.resources import example


def test_a_growing_series_keeps_every_point_in_order():
    series = GrowingSeries(capacity=4)
    for start in range(0, 100, 10):
        series.extend(np.arange(start, start + 10), np.arange(start, start + 10) * 2.0)
    assert series.count == 100
    assert np.array_equal(series.y, np.arange(100) * 2.0)


def test_smoothing_starts_at_the_first_value_and_follows_the_trend():
    values = np.array([4.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    smoothed = ema(values, 0.6)
    assert smoothed[0] == 4.0
    assert 2.0 < smoothed[-1] < smoothed[1] < 4.0
    assert np.array_equal(ema(values, 0.0), values)


def test_curves_export_csv_and_png_and_keep_earlier_runs(qtbot, tmp_path):
    chart = LiveCurves("Loss", "loss")
    qtbot.addWidget(chart)
    chart.resize(400, 300)
    chart.show()
    chart.define("train", "#4f9dff", smooth=True)
    chart.extend("train", [0.5, 1.0, 1.5], [1.0, 0.7, 0.5])
    chart.set_smoothing(0.5)
    chart.refresh()
    chart.export_csv(tmp_path / "loss.csv")
    with open(tmp_path / "loss.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["series", "x", "y"] and len(rows) == 4
    assert chart.export_png(tmp_path / "loss.png") and (tmp_path / "loss.png").stat().st_size > 0
    chart.begin_run()
    assert chart.points("train") == 0 and chart.earlier_runs() == 1
    chart.set_log(True)
    chart.extend("train", [0.5], [0.9])
    chart.refresh()
    assert chart.points("train") == 1


def test_the_probe_sees_every_layer_and_leaves_training_untouched():
    project = load_project(example("digits-cnn").path)
    from engine.analysis import analyse
    from engine.data.loading import load_training_data
    from engine.settings import TrainingSettings

    analysis = analyse(project.graph)
    data = load_training_data(project, TrainingSettings.from_project(project), analysis)
    x, labels = probe_batch(data)
    model = compile_graph(project.graph, 0, analysis)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    probe = ActivationProbe(model, x, {n.id: n.type for n in project.graph}, labels)
    look = probe.capture(0, 0.0)
    assert model.training  # put back in training mode
    for key, value in model.state_dict().items():  # batch-norm statistics untouched
        assert torch.equal(value, before[key]), key
    assert {"conv1", "relu1", "classifier"} <= set(look.histograms)
    assert look.pictures["conv1"][0] == "maps"
    assert look.pictures["classifier"][0] == "heat"
    assert 0.0 <= look.dead["relu1"] <= 1.0
    assert look.weight_norms["conv1"] > 0
    assert look.grad_norms == {}  # no step taken yet
    assert look.accuracy is not None and 0.0 <= look.accuracy <= 1.0
    assert abs(float(look.histograms["conv1"].sum()) - 1.0) < 1e-4


def test_the_probe_histogram_counts_what_torch_histc_counts():
    values = torch.cat([torch.randn(50_000) * 3, torch.tensor([-100.0, 100.0, 2.0, -2.0])])
    expected = torch.histc(values.clamp(-2.0, 2.0), 32, -2.0, 2.0)
    assert torch.equal(histogram(values, -2.0, 2.0, 32).float(), expected)


def test_short_epochs_do_not_force_looks_beyond_the_time_budget():
    figures = LiveFigures(LiveBuffer(), steps_per_epoch=10, probe=None)
    trainer = SimpleNamespace(global_step=10)
    figures.look(0, 0.0)
    figures.cost = 1.0  # a look that took a second: the next may wait 1 / PROBE_BUDGET seconds
    figures.on_epoch_end(trainer, 1, {"epoch": 1})
    assert figures.looked_at_step == 0
    figures.cost = 0.0  # a cheap look: every epoch gets one, however short
    figures.on_epoch_end(trainer, 1, {"epoch": 1})
    assert figures.looked_at_step == 10


def test_the_first_look_warming_up_does_not_space_out_the_next(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(worker.time, "perf_counter", lambda: clock[0])

    class Probe:
        def capture(self, step: int, x: float) -> object:
            clock[0] += 2.0 if step == 0 else 0.001  # the first look fixes bins, allocates
            return object()

    figures = LiveFigures(LiveBuffer(), steps_per_epoch=10, probe=Probe())  # type: ignore[arg-type]
    figures.look(0, 0.0)
    assert figures.interval == worker.PROBE_INTERVAL
    figures.look(5, 0.5)
    assert figures.interval == worker.PROBE_INTERVAL  # 1 ms looks: the 4-a-second cap applies
    assert figures.cost == pytest.approx(0.001)
