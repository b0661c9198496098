"""Click-to-train: runs started from the window finish, stop, pause, fail cleanly and save."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog
from windows import shown_window

from app.dashboard.live_curves import MAX_EARLIER_RUNS
from app.main_window import MainWindow
from engine.compiler import compile_graph
from engine.project import load_project
from engine.resources import example
from engine.training import load_checkpoint

RUN_TIMEOUT_MS = 120_000  # a generous ceiling for a busy 2-core machine, never a speed claim


def fresh_project(name="digits-mlp", epochs=2):
    project = load_project(example(name).path)
    project.path = None
    project.training["epochs"] = epochs
    return project


@pytest.fixture(scope="module")
def shared_window(qapp, tmp_path_factory):
    """One window for the module (building one takes seconds); each test opens its project."""
    folder = tmp_path_factory.mktemp("training")
    with shown_window(fresh_project(), folder) as made:
        made.resize(1400, 900)
        yield made


@pytest.fixture
def window(qtbot, shared_window, shown):
    shared_window.document.load(fresh_project())
    yield shared_window
    shared_window.training.stop()
    qtbot.waitUntil(lambda: not shared_window.training.running, timeout=RUN_TIMEOUT_MS)
    shared_window.document.mark_saved()


def make_window(qtbot, tmp_path, epochs=2):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(fresh_project(epochs=epochs), settings)
    made.show()
    return made


def run_to_end(qtbot, controller, while_running=None):
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        assert controller.train()
        if while_running is not None:
            while_running()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    return finished.args[0]


def wait_for_batches(qtbot, controller, count=3):
    def trained() -> bool:
        worker = controller.worker
        return (
            worker is not None
            and worker.trainer is not None
            and (worker.trainer.global_step >= count)
        )

    qtbot.waitUntil(trained, timeout=RUN_TIMEOUT_MS)


def test_train_stop_and_pause_have_their_keys(window):
    actions = window.training.actions
    assert actions["train"].shortcut().toString() == "F5"
    assert actions["stop"].shortcut().toString() == "Shift+F5"
    assert window.training.device_box.itemData(0) == "cpu"


def test_a_two_epoch_run_locks_the_graph_and_fills_the_charts_and_canvas(qtbot, window):
    controller = window.training

    def locked() -> None:
        assert window.document.read_only
        assert window.lock_label.isVisibleTo(window)
        assert window.document.add_node("ReLU") is None  # refused: the run owns a snapshot
        assert not window.training_settings.isEnabled()

    outcome = run_to_end(qtbot, controller, locked)
    dashboard = controller.dashboard
    assert outcome.result.status == "completed"
    assert outcome.result.epochs == 2
    assert dashboard.loss.points("val") == 2
    assert dashboard.loss.points("train") == 2
    assert dashboard.accuracy.points("val") == 2
    assert dashboard.loss.points("batch") > 10
    assert dashboard.rate.points("batch") > 10
    assert dashboard.activations.looks("fc1") >= 1
    assert dashboard.weights.gradients.points("fc1") >= 1
    assert controller.canvas.count() >= 5  # the layers' swatches under their nodes
    matrix = dashboard.results.confusion.matrix
    assert matrix is not None and matrix.shape == (10, 10)
    assert matrix.sum() == controller.info["val_samples"]
    assert "Completed" in dashboard.banner.text()
    assert not window.document.read_only
    assert window.document.add_node("ReLU") is not None
    assert controller.weights.has_weights
    assert controller.actions["train"].isEnabled()


def test_stop_ends_the_run_in_the_batch_it_was_asked_in(qtbot, window):
    window.document.load(fresh_project(epochs=1000))
    controller = window.training
    controller.train()
    wait_for_batches(qtbot, controller)
    trainer = controller.worker.trainer
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        step_when_asked = trainer.global_step
        controller.stop()
    result = finished.args[0].result
    assert result.status == "stopped"
    assert trainer.global_step <= step_when_asked + 1  # at most the batch already under way
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert not window.document.read_only


def test_pause_holds_the_run_and_f5_resumes_it(qtbot, window):
    window.document.load(fresh_project(epochs=1000))
    controller = window.training
    controller.train()
    wait_for_batches(qtbot, controller)
    controller.toggle_pause()
    assert controller.paused
    assert controller.actions["train"].text() == "Resume"
    assert controller.dashboard.banner.property("state") == "paused"
    trainer = controller.worker.trainer
    qtbot.wait(200)  # let the batch in flight finish
    held = trainer.global_step
    qtbot.wait(300)
    assert trainer.global_step == held  # nothing trains while paused
    assert controller.train() is False  # F5 resumes rather than starting another run
    assert not controller.paused
    qtbot.waitUntil(lambda: trainer.global_step > held + 2, timeout=RUN_TIMEOUT_MS)
    controller.stop()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)


def test_an_invalid_graph_shows_its_error_and_the_app_keeps_working(qtbot, window, shown):
    controller = window.training
    edge = next(e for e in window.document.graph.edges if e.target.node == "output")
    window.document.remove_wire(edge)
    with qtbot.waitSignal(controller.run_failed, timeout=RUN_TIMEOUT_MS) as failed:
        controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert "cannot be trained" in failed.args[0]
    assert any("Cannot train this project" in text for text in shown)
    assert controller.dashboard.banner.property("state") == "error"
    assert any("cannot be trained" in line for line in controller.log.lines)
    assert not window.document.read_only
    assert controller.actions["train"].isEnabled()
    assert window.document.add_wire(edge.source, edge.target)  # editing works: fix it


def test_data_that_does_not_fit_the_input_is_a_clear_error(qtbot, window, shown):
    controller = window.training
    window.data_panel.set_source("builtin:iris")  # 4 values per sample; the MLP reads 64
    with qtbot.waitSignal(controller.run_failed, timeout=RUN_TIMEOUT_MS) as failed:
        controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert "iris" in failed.args[0]
    assert not window.document.read_only


def test_saving_the_project_writes_the_trained_weights_beside_it(
    qtbot, window, tmp_path, monkeypatch
):
    controller = window.training
    run_to_end(qtbot, controller)
    target = tmp_path / "mine.netwright.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    assert window.save_as()
    weights = tmp_path / "mine.safetensors"
    assert weights.is_file()
    module = compile_graph(load_project(target).graph)
    metadata = load_checkpoint(module, weights)
    assert metadata["netwright.status"] == "completed"


def test_weights_are_not_saved_into_a_network_that_changed(qtbot, window, tmp_path, monkeypatch):
    controller = window.training
    run_to_end(qtbot, controller)
    window.document.set_param("fc1", "out_features", 32)
    target = tmp_path / "changed.netwright.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    assert window.save_as()
    assert not (tmp_path / "changed.safetensors").exists()
    assert any("network changed after training" in line for line in controller.log.lines)


def test_each_new_run_keeps_the_previous_ones_as_faint_curves(qtbot, window):
    controller = window.training
    run_to_end(qtbot, controller)
    before = controller.dashboard.loss.earlier_runs()
    run_to_end(qtbot, controller)
    assert controller.dashboard.loss.earlier_runs() == min(before + 1, MAX_EARLIER_RUNS)
    assert before >= 1
    assert controller.dashboard.loss.points("val") == 2  # the new run's own curve starts afresh


def test_the_device_choice_is_remembered_and_a_missing_one_falls_back_to_the_cpu(
    qtbot, tmp_path, shown
):
    window = make_window(qtbot, tmp_path)
    box = window.training.device_box
    box.addItem("Another GPU", "cuda:7")
    box.setCurrentIndex(box.count() - 1)
    assert window.settings.value("training/device") == "cuda:7"
    window.document.mark_saved()
    window.close()
    again = make_window(qtbot, tmp_path)  # that GPU is not here
    assert again.training.device == "cpu"
    again.document.mark_saved()
    again.close()


def test_a_screenshot_after_training_shows_the_live_charts(tmp_path):
    from app import gui

    out = tmp_path / "training.png"
    path = example("digits-mlp").path
    assert gui.main([str(path), "--screenshot", str(out), "--train-seconds", "1.5"]) == 0
    assert out.is_file() and out.stat().st_size > 50_000
