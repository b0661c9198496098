"""Analyze > Profile: the network runs off the UI thread, each layer's measured time shows on
its node with a bar and in the Profile dock's sorted table, and an edit clears them."""

from __future__ import annotations

import threading

import pytest
from windows import shown_window

from engine import profiling
from engine.project import load_project
from engine.resources import example


@pytest.fixture
def window(qtbot, tmp_path):
    found = example("digits-cnn")
    assert found is not None
    project = load_project(found.path)
    project.training["batch_size"] = 8
    with shown_window(project, tmp_path) as made:
        yield made


def profiled(window, qtbot, monkeypatch) -> list[threading.Thread]:
    threads: list[threading.Thread] = []
    real = profiling.profile_torch

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(profiling, "profile_torch", recorded)
    window.action("profile").trigger()
    qtbot.waitUntil(lambda: bool(threads) and not window.profiler.running, timeout=60_000)
    qtbot.waitUntil(
        lambda: bool(window.scene.measured) or "Could not" in status(window), timeout=5_000
    )
    assert window.scene.measured, status(window)
    return threads


def status(window) -> str:
    return window.profiler.panel.status.text()


def test_profile_runs_off_the_ui_thread_and_fills_a_sorted_table(
    window, qtbot, monkeypatch
) -> None:
    threads = profiled(window, qtbot, monkeypatch)
    assert threads and threads[0] is not threading.main_thread()
    panel = window.profiler.panel
    layers = {n.id for n in window.document.graph if n.type not in ("Input", "Output")}
    rows = panel.rows()
    assert sorted(row[0] for row in rows) == sorted(layers)
    shares = [float(row[4].rstrip("%")) for row in rows]
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) == pytest.approx(100.0, abs=0.5)
    assert "batch size 8" in panel.status.text()
    assert window.profiler.dock.isVisible()


def test_each_node_shows_its_measured_time_and_a_bar_against_the_slowest(
    window, qtbot, monkeypatch
) -> None:
    profiled(window, qtbot, monkeypatch)
    nodes = window.scene.nodes
    slowest = window.profiler.panel.rows()[0][0]
    assert nodes[slowest].measured_share == pytest.approx(1.0)
    for node_id, item in nodes.items():
        has_time = node_id in window.scene.measured
        assert bool(item.measured_text) == has_time
        assert 0.0 <= item.measured_share <= 1.0
    assert nodes["input"].measured_text == ""


def test_an_edit_clears_the_measured_times_but_a_move_does_not(window, qtbot, monkeypatch) -> None:
    profiled(window, qtbot, monkeypatch)
    assert window.document.move_nodes({"conv1": (300.0, 40.0)})
    assert window.scene.measured
    window.document.set_param("conv2", "out_channels", 32)
    assert not window.scene.measured
    assert all(item.measured_text == "" for item in window.scene.nodes.values())
    assert window.profiler.panel.rows() == []
    assert "changed" in window.profiler.panel.status.text()


def test_a_network_with_errors_is_not_profiled(window) -> None:
    window.document.set_param("conv2", "kernel_size", 9)
    window.document.analyse_now()
    assert window.profiler.start() is False
    assert not window.profiler.running


def test_a_gans_profile_times_the_network_shown(qtbot, tmp_path, monkeypatch) -> None:
    found = example("gan-2d")
    assert found is not None
    with shown_window(load_project(found.path), tmp_path) as window:
        assert window.document.show_network("discriminator")
        profiled(window, qtbot, monkeypatch)
        shown = {n.id for n in window.document.graph if n.type not in ("Input", "Output")}
        assert set(window.scene.measured) == shown
