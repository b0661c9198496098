"""The Regions tab: a 2-D or 3-D classifier's decision regions, computed in the training thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QMessageBox
from windows import shown_window

from app.training.buffer import LiveBuffer
from app.training.regions_look import RegionsLook, lookup, wants_regions
from engine.data.prepare import PreparedData
from engine.project import load_project
from engine.resources import example

RUN_TIMEOUT_MS = 55_000  # a ceiling for a busy machine, never a speed claim


def project(name: str, epochs: int):
    made = load_project(example(name).path)
    made.path = None
    made.training["epochs"] = epochs
    return made


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    for kind in ("warning", "information", "question", "critical"):
        monkeypatch.setattr(
            QMessageBox, kind, staticmethod(lambda *_a, **_k: QMessageBox.StandardButton.Yes)
        )
    with shown_window(project("paper-ball", epochs=3), tmp_path) as made:
        made.training.quiet = True
        yield made


def test_a_paper_ball_run_leaves_its_decision_regions_on_the_regions_tab(qtbot, window):
    controller = window.training
    dashboard = controller.dashboard
    qtbot.waitUntil(lambda: not dashboard.tabs.isTabVisible(dashboard.regions_index))
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
        assert controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert dashboard.tabs.isTabVisible(dashboard.regions_index)
    assert dashboard.tabs.currentIndex() == dashboard.regions_index
    dashboard.refresh(force=True)
    view = dashboard.regions.view
    assert view.dimensions == 3  # the paper ball is a 3-D data set
    assert view.regions is not None and view.regions.shape == (view.resolution,) * 2
    assert len(np.unique(view.regions)) >= 2  # the learned boundary crosses the slice
    assert view.image.image is not None


def test_a_digits_run_shows_no_regions_tab(qtbot, window):
    window.document.load(project("digits-mlp", epochs=1))
    controller = window.training
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
        assert controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    dashboard = controller.dashboard
    assert not dashboard.regions.active
    qtbot.waitUntil(lambda: not dashboard.tabs.isTabVisible(dashboard.regions_index))
    window.document.mark_saved()


class Trainerish:
    """What RegionsLook reads from the Trainer: the model and its device."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.device = torch.device("cpu")


def test_the_look_predicts_in_eval_mode_without_gradients_and_restores_training() -> None:
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    data = PreparedData("toy", x, torch.tensor([0, 1, 0, 1]), None, None, True, ("a", "b"), None)
    assert wants_regions(data)
    seen = []

    class RightIsOne(torch.nn.Module):  # class 1 where the first feature is over 0.5
        def forward(self, points: torch.Tensor) -> torch.Tensor:
            seen.append((self.training, torch.is_grad_enabled()))
            right = (points[:, :1] > 0.5).float()
            return torch.cat([1 - right, right], dim=1)

    model = RightIsOne().train()
    buffer = LiveBuffer()
    RegionsLook(buffer, data, steps_per_epoch=1).look(Trainerish(model), 0.0)
    assert seen == [(False, False)] and model.training
    frame = buffer.drain().regions[0]
    assert frame.x is not None and frame.ids.shape == (160, 160)
    assert list(lookup(frame, np.array([[0.1, 0.5], [0.9, 0.5]]))) == [0, 1]
