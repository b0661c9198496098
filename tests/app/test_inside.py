"""The Inside tab and Explain: what each layer makes of the data, and why a sample was read so."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from windows import shown_window

from app.inside.look import InsideLook
from app.training.buffer import LiveBuffer
from engine.project import load_project
from engine.resources import example
from engine.settings import TrainingSettings
from engine.training import plan_training

RUN_TIMEOUT_MS = 90_000  # a ceiling for a busy machine, never a speed claim


def project(name: str, epochs: int):
    made = load_project(example(name).path)
    made.path = None
    made.training["epochs"] = epochs
    made.training["device"] = "cpu"
    return made


def train(qtbot, window) -> None:
    controller = window.training
    controller.quiet = True
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
        assert controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)


@pytest.fixture
def paper_ball(qtbot, tmp_path, shown):
    with shown_window(project("paper-ball", epochs=4), tmp_path) as made:
        made.training.dashboard.build()
        yield made


def test_a_run_shows_every_layer_of_paper_ball_on_the_inside_tab(qtbot, paper_ball) -> None:
    window, inside = paper_ball, paper_ball.inside
    dashboard = window.training.dashboard
    assert dashboard.tabs.tabText(inside.index) == "Inside"
    train(qtbot, window)
    dashboard.tabs.setCurrentIndex(inside.index)
    page = inside.page
    qtbot.waitUntil(lambda: page.final, timeout=RUN_TIMEOUT_MS)  # the kept weights' look
    page.refresh(everything=True)
    nodes = [layer.node for layer in page.layers]
    assert nodes == ["input", "fc1", "tanh1", "fc2", "tanh2", "fc3", "tanh3", "classifier"]
    assert len(page.views) == len(nodes) and all(v.pixmap() is not None for v in page.views)
    assert all(not view.dirty for view in page.views)  # every one drawn
    assert len(page.groups) == 400 and set(np.unique(page.groups)) == {0, 1, 2, 3, 4}
    assert "sheet 1" in page.legend.text()
    assert page.views[0].subtitle.endswith("as they are")  # 3 inputs: shown exactly
    assert "PCA" in page.views[1].subtitle
    assert page.stack.currentWidget() is page.strip


def sheets_apart(points: np.ndarray, groups: np.ndarray) -> float:
    """How far apart the classes sit against their own spread (between / within)."""
    centres = np.stack([points[groups == g].mean(axis=0) for g in np.unique(groups)])
    within = np.mean([points[groups == g].std(axis=0).sum() for g in np.unique(groups)])
    between = np.linalg.norm(centres[:, None] - centres[None], axis=-1).mean()
    return float(between / within)


def test_the_sheets_come_apart_from_the_input_to_the_last_layer() -> None:
    """Looks at a trained paper-ball network as the tab gets them, with no window."""
    made = project("paper-ball", epochs=25)
    plan = plan_training(made, TrainingSettings.from_project(made))
    wanted = threading.Event()
    buffer = LiveBuffer()
    look = InsideLook(buffer, plan, 25, wanted)
    plan.run([look])
    frames = buffer.drain().inside
    start, end = frames[0], frames[-1]
    groups = look.groups
    assert end.final and len(groups) == 400
    first, last = end.layers[0], end.layers[-1]
    # the crumpled input: the sheets overlap; the trained last layer: far apart (about 15x here)
    assert sheets_apart(last.points3, groups) > 6 * sheets_apart(first.points3, groups)
    # and it is the training that pulled them apart: the untrained network's last layer did not
    assert sheets_apart(last.points3, groups) > 4 * sheets_apart(start.layers[-1].points3, groups)


def test_the_look_asks_only_while_the_tab_is_shown_but_always_ends_on_the_kept_weights() -> None:
    made = project("paper-ball", epochs=3)
    plan = plan_training(made, TrainingSettings.from_project(made))
    buffer = LiveBuffer()
    look = InsideLook(buffer, plan, 25, threading.Event())  # never set: the tab is hidden
    plan.run([look])
    frames = buffer.drain().inside
    assert len(frames) == 2  # the start and the end only
    assert frames[-1].final and not frames[0].final
    assert frames[0].groups is not None and frames[-1].groups is None  # colours come once


def test_one_layer_at_a_time_with_the_depth_slider_and_turning_in_3d(qtbot, paper_ball) -> None:
    window, inside = paper_ball, paper_ball.inside
    train(qtbot, window)
    window.training.dashboard.tabs.setCurrentIndex(inside.index)
    page = inside.page
    qtbot.waitUntil(lambda: page.final, timeout=RUN_TIMEOUT_MS)
    page.set_mode("single")
    assert page.stack.currentWidget() is page.single and page.depth_slider.isVisible()
    page.set_depth(len(page.layers) - 1)
    assert page.depth_label.text() == "classifier"
    assert page.single.title.startswith("classifier")
    before = page.single.pixmap().toImage()
    turn = page.turn.copy()
    qtbot.mousePress(page.single, Qt.MouseButton.LeftButton, pos=QPoint(100, 120))
    qtbot.mouseMove(page.single, QPoint(160, 140))
    qtbot.mouseRelease(page.single, Qt.MouseButton.LeftButton, pos=QPoint(160, 140))
    assert not np.allclose(page.turn, turn)  # dragging turned the view
    assert np.allclose(page.turn @ page.turn.T, np.eye(3), atol=1e-6)  # a turn, not a stretch
    assert page.single.pixmap().toImage() != before
    page.set_three_d(False)
    assert not page.single.three_d


def test_a_2d_network_shows_each_units_picture_over_the_plane(qtbot, tmp_path, shown) -> None:
    with shown_window(project("deep-mlp", epochs=2), tmp_path) as window:
        window.training.dashboard.build()
        train(qtbot, window)
        inside = window.inside
        window.training.dashboard.tabs.setCurrentIndex(inside.index)
        page = inside.page
        qtbot.waitUntil(lambda: page.final, timeout=RUN_TIMEOUT_MS)
        assert page.mode_buttons["neurons"].isVisible()
        page.set_mode("neurons")
        page.refresh()
        columns = page.neurons.columns
        assert list(columns) == ["__inputs__", "relu1", "relu2", "relu3", "relu4", "relu5", "head"]
        assert all(not c.picture.pixmap().isNull() for c in columns.values())
        assert columns["head"].title.text() == "head (3)"  # one unit per spiral arm


def test_paper_ball_has_no_neurons_view(qtbot, paper_ball) -> None:
    train(qtbot, paper_ball)
    page = paper_ball.inside.page
    assert not page.layers  # a hidden tab only keeps what it is sent
    paper_ball.training.dashboard.tabs.setCurrentIndex(paper_ball.inside.index)
    qtbot.waitUntil(lambda: page.final, timeout=RUN_TIMEOUT_MS)
    assert not page.mode_buttons["neurons"].isVisibleTo(page)


# ---------------------------------------------------------------- Explain


@pytest.fixture
def digits(qtbot, tmp_path, shown):
    with shown_window(project("digits-cnn", epochs=2), tmp_path) as made:
        made.training.dashboard.build()
        yield made


def test_right_click_a_result_and_explain_it_with_grad_cam(qtbot, digits) -> None:
    window = digits
    train(qtbot, window)
    predictions = window.training.dashboard.results.predictions
    predictions.resize(600, 400)
    seen: list[int] = []
    predictions.explain_requested.connect(seen.append)
    # the second thumbnail of the first row
    qtbot.mouseDClick(predictions, Qt.MouseButton.LeftButton, pos=QPoint(6 + 74 + 20, 20))
    assert seen == [1]
    dialog = window.inside.dialog
    qtbot.waitUntil(lambda: dialog.answers >= 1, timeout=RUN_TIMEOUT_MS)
    methods = [dialog.method.itemData(i) for i in range(dialog.method.count())]
    assert methods == ["saliency", "integrated_gradients", "occlusion", "gradcam"]  # no attention
    assert "validation sample 1" in dialog.summary.text()
    dialog.method.setCurrentIndex(methods.index("gradcam"))
    assert dialog.layer.isEnabled() and dialog.layer.currentData() == "conv2"  # the last conv
    qtbot.waitUntil(lambda: dialog.answers >= 2 and not dialog.busy, timeout=RUN_TIMEOUT_MS)
    found = dialog.shown.found
    assert found.method == "gradcam" and found.attributions.shape == (4, 4)
    assert found.overlay.shape == (8, 8)  # laid over the 8x8 digit
    assert "session's run" in dialog.details.text()  # the weights just trained, not a file
    dialog.target.setCurrentIndex(dialog.target.findData(7))  # why not a 7?
    qtbot.waitUntil(lambda: dialog.answers >= 3 and not dialog.busy, timeout=RUN_TIMEOUT_MS)
    assert dialog.shown.found.target == 7 and "for <b>7</b>" in dialog.summary.text()
    dialog.close()


def test_a_sample_of_the_data_tab_is_explained_as_training_scaled_it(qtbot, tmp_path, shown):
    with shown_window(project("perceptron", epochs=5), tmp_path) as window:
        panel = window.training.data_panel
        asked: list[str] = []
        panel.explain_requested.connect(lambda _x, where: asked.append(where))
        assert panel._shown is not None  # iris shows as rows
        panel.explain_requested.emit(panel._shown.x[3], "sample 3 of iris")
        dialog = window.inside.dialog
        qtbot.waitUntil(lambda: dialog.answers >= 1, timeout=RUN_TIMEOUT_MS)
        found = dialog.shown.found
        assert found.sample is None and found.attributions.shape == (4,)
        assert dialog.shown.features[2] == "petal length (cm)"  # one bar per measurement
        assert "initial weights" in dialog.details.text()  # nothing trained yet: it says so
        raw = torch.as_tensor(panel._shown.x[3]).reshape(1, 4)
        assert not torch.allclose(dialog.subject.prepared(panel._shown.x[3]), raw)  # scaled
        dialog.close()


def test_a_project_trained_before_is_looked_inside_from_its_saved_weights(qtbot, tmp_path, shown):
    from engine.cli import run
    from engine.project import save_project

    path = tmp_path / "iris.netwright.json"
    save_project(load_project(example("perceptron").path), path)
    assert run(["train", str(path), "--epochs", "5"]) == 0  # writes iris.safetensors beside it
    with shown_window(load_project(path), tmp_path) as window:
        window.training.dashboard.build()
        window.training.dashboard.tabs.setCurrentIndex(window.inside.index)
        page = window.inside.page
        assert page.saved_button.isVisible()
        qtbot.mouseClick(page.saved_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.final, timeout=RUN_TIMEOUT_MS)
        page.refresh(everything=True)
        assert [layer.node for layer in page.layers] == ["input", "linear"]
        assert "trained network" in page.status.text()
        assert not page.saved_button.isVisible()


def test_a_gan_project_has_no_inside_tab(qtbot, tmp_path, shown) -> None:
    with shown_window(load_project(example("gan-2d").path), tmp_path) as window:
        tabs = window.training.dashboard.tabs
        assert not tabs.isTabVisible(window.inside.index)
        window.document.load(project("paper-ball", epochs=1))
        qtbot.waitUntil(lambda: tabs.isTabVisible(window.inside.index))
        window.document.mark_saved()
