"""The Runs panel, the Search panel and the learning-rate finder, used as a person would."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from test_training import RUN_TIMEOUT_MS, fresh_project, run_to_end
from windows import shown_window

from app.runs.canvas_marks import change_colour


@pytest.fixture(scope="module")
def shared_window(qapp, tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    with shown_window(fresh_project(), folder) as made:
        made.resize(1400, 900)
        made.runs.runs_dock.raise_()
        yield made


@pytest.fixture
def window(qtbot, shared_window, shown):
    shared_window.document.load(fresh_project())
    shared_window.runs.panel.record_box.setChecked(True)
    yield shared_window
    shared_window.training.stop()
    qtbot.waitUntil(lambda: not shared_window.training.running, timeout=RUN_TIMEOUT_MS)
    shared_window.document.mark_saved()


def two_runs(qtbot, window):
    """A run at the example's learning rate, then one at another rate with a wider layer."""
    controller, document = window.training, window.document
    run_to_end(qtbot, controller)
    document.set_value("training.optimizer.lr", 0.01)
    document.set_param("fc1", "out_features", 64)
    run_to_end(qtbot, controller)
    panel = window.runs.panel
    qtbot.waitUntil(lambda: len(panel.runs()) == 2, timeout=RUN_TIMEOUT_MS)
    return panel


def test_two_runs_from_the_window_are_listed_overlaid_and_their_differences_named(qtbot, window):
    panel = two_runs(qtbot, window)
    assert panel.table.model().rowCount() == 2
    first, second = panel.runs()
    assert (first.status, second.status) == ("completed", "completed")
    assert first.settings["optimizer"]["lr"] == 0.001 and second.settings["optimizer"]["lr"] == 0.01
    panel.select([first.id, second.id])
    assert panel.curves.points(first.id) == 2 and panel.curves.points(second.id) == 2
    assert len(set(panel.model.colours.values())) == 2  # one colour per run, shown in the table
    assert panel.compare_selected()
    text = panel.details.toPlainText()
    assert "optimizer.lr" in text and "0.001" in text and "0.01" in text
    assert "fc1" in text and "out_features 128 → 64" in text
    assert panel.marks.marked() == {"fc1": change_colour("changed")}  # marked on the canvas


def test_restoring_a_run_brings_back_its_network_settings_and_weights_as_one_undo_step(
    qtbot, window
):
    panel = two_runs(qtbot, window)
    document, keeper = window.document, window.training.weights
    first = panel.runs()[0]
    document.remove_nodes(["fc2"])
    document.set_value("training.batch_size", 16)
    steps = document.undo_stack.index()
    panel.select([first.id])
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert document.undo_stack.index() == steps + 1  # one step
    assert "fc2" in document.graph and document.graph.node("fc1").params["out_features"] == 128
    assert document.project.training["optimizer"]["lr"] == 0.001
    assert (
        "batch_size" not in document.project.training
        or document.project.training["batch_size"] == 64
    )
    assert keeper.fits() and keeper.status == "completed"
    document.undo()
    assert "fc2" not in document.graph and document.project.training["batch_size"] == 16
    assert not keeper.fits()  # the weights of the network before the restore came back
    document.redo()
    assert "fc2" in document.graph and keeper.fits()


def test_a_run_with_recording_switched_off_is_not_kept(qtbot, window):
    panel = window.runs.panel
    panel.record_box.setChecked(False)
    assert not window.action("record_runs").isChecked()
    run_to_end(qtbot, window.training)
    panel.refresh()
    assert panel.runs() == []


def test_delete_in_the_table_removes_the_selected_run_from_disk(qtbot, window, shown):
    panel = window.runs.panel
    run_to_end(qtbot, window.training)
    qtbot.waitUntil(lambda: len(panel.runs()) == 1, timeout=RUN_TIMEOUT_MS)
    run = panel.runs()[0]
    panel.select([run.id])
    panel.table.setFocus()
    nodes = len(window.document.graph)
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert any("Delete runs" in s for s in shown)
    assert panel.runs() == [] and not run.folder.exists()
    assert len(window.document.graph) == nodes  # the canvas's Delete did not fire


def test_editing_a_note_in_the_table_writes_it_to_the_run(qtbot, window):
    panel = window.runs.panel
    run_to_end(qtbot, window.training)
    qtbot.waitUntil(lambda: len(panel.runs()) == 1, timeout=RUN_TIMEOUT_MS)
    index = panel.index_of(panel.runs()[0].id).siblingAtColumn(8)
    assert panel.table.model().setData(index, "baseline")
    panel.refresh()
    assert panel.runs()[0].note == "baseline"


def test_a_search_from_the_panel_fills_the_trial_table_and_applies_the_best_as_one_step(
    qtbot, window
):
    search, controller, document = window.runs.search, window.training, window.document
    search.dimension_table.setRowCount(0)
    search.add_dimension("lr=1e-4..1e-1:log")
    search.add_dimension("fc1.out_features=16,32")
    search.trials_box.setValue(3)
    search.epochs_box.setValue(1)
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
        assert search.start()
        assert document.read_only
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert search.trial_table.rowCount() == 3
    assert search.summary is not None and search.summary.best is not None
    assert "search of 3 trials" in controller.dashboard.banner.text()
    best = search.summary.best
    window.runs.panel.refresh()
    assert sorted(r.name for r in window.runs.panel.runs()) == ["trial 0", "trial 1", "trial 2"]
    steps = document.undo_stack.index()
    assert search.apply_best()
    assert document.undo_stack.index() == steps + 1
    assert document.project.training["optimizer"]["lr"] == best.params["lr"]
    assert document.graph.node("fc1").params["out_features"] == best.params["fc1.out_features"]
    document.undo()
    assert document.project.training["optimizer"]["lr"] == 0.001


def test_the_learning_rate_finder_suggests_a_rate_that_one_click_applies(qtbot, window):
    dialog = window.runs.find_lr(window)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.finding is not None, timeout=RUN_TIMEOUT_MS)
    suggestion = dialog.finding.suggestion
    assert suggestion is not None and dialog.apply_button.isEnabled()
    assert window.document.project.training["optimizer"]["lr"] == 0.001  # nothing changed yet
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert window.document.project.training["optimizer"]["lr"] == float(f"{suggestion:.3g}")
    window.document.undo()
    assert window.document.project.training["optimizer"]["lr"] == 0.001
    dialog.close()
