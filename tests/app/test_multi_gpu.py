""" "Train on N GPUs" from the window: torchrun ranks (gloo on the CPU here) followed live."""

from __future__ import annotations

import sys

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from app.main_window import MainWindow
from app.training.multi_gpu import MultiGpuLauncher
from engine.project import load_project
from engine.resources import example

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="stops the ranks through process groups"
)
RUN_TIMEOUT_MS = 55_000  # a ceiling for a busy machine, never a speed claim


def unsaved_digits(epochs: int):
    project = load_project(example("digits-mlp").path)
    project.path = None
    project.training["epochs"] = epochs
    return project


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A window on a machine that says it has two GPUs; the ranks are CPU gloo processes."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(MultiGpuLauncher, "options", ("--device", "cpu"))
    for kind in ("warning", "information", "question", "critical"):
        monkeypatch.setattr(
            QMessageBox, kind, staticmethod(lambda *_a, **_k: QMessageBox.StandardButton.Yes)
        )
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(unsaved_digits(epochs=1), settings)
    made.show()
    yield made
    launcher = made.training.multi_gpu
    if launcher.launch is not None:
        launcher.launch.stop(grace_seconds=10)
    made.document.mark_saved()
    made.close()


def test_the_action_is_hidden_with_one_gpu_or_none(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(unsaved_digits(epochs=1), settings)
    assert not made.training.multi_gpu.action.isVisible()
    made.document.mark_saved()
    made.close()


def test_two_ranks_fill_the_curves_and_the_weights_come_back(qtbot, window):
    launcher = window.training.multi_gpu
    assert launcher.action.text() == "Train on 2 GPUs"
    assert launcher.action.isVisible()
    assert launcher.start()
    assert window.document.read_only  # the graph is locked while the ranks train
    assert window.document.project.path is None  # the unsaved project stayed unsaved
    qtbot.waitUntil(lambda: not launcher.running, timeout=RUN_TIMEOUT_MS)
    assert launcher.end is not None, window.training.log
    assert launcher.end["status"] == "completed"
    dashboard = window.training.dashboard
    assert dashboard.loss.points("val") == 1
    assert dashboard.accuracy.points("val") == 1
    assert dashboard.banner.text().startswith("Completed")
    assert not window.document.read_only
    assert window.training.weights.has_weights and window.training.weights.fits()


def test_stop_ends_every_rank_and_says_stopped(qtbot, window):
    window.document.project.training["epochs"] = 100000
    launcher = window.training.multi_gpu
    assert launcher.start()
    qtbot.waitUntil(lambda: len(launcher.epochs) >= 1, timeout=RUN_TIMEOUT_MS)
    process = launcher.launch.process
    window.training.actions["stop"].trigger()
    qtbot.waitUntil(lambda: not launcher.running, timeout=RUN_TIMEOUT_MS)
    assert process.poll() is not None
    assert launcher.end is not None and launcher.end["status"] == "stopped"
    assert "stopped" in window.training.dashboard.banner.text().lower()
    assert not window.document.read_only
    assert window.training.actions["train"].isEnabled()


def test_closing_the_window_stops_the_ranks(qtbot, window):
    window.document.project.training["epochs"] = 100000
    launcher = window.training.multi_gpu
    assert launcher.start()
    process = launcher.launch.process
    qtbot.waitUntil(lambda: len(launcher.epochs) >= 1, timeout=RUN_TIMEOUT_MS)
    window.document.mark_saved()
    window.close()
    assert process.wait(timeout=50) is not None  # every rank ended with torchrun
