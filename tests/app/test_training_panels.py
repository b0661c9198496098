"""The Training and Data docks: edits are undo steps, bad values are refused with the reason."""

from __future__ import annotations

import pytest
from windows import shown_window

from engine.project import load_project
from engine.resources import example


@pytest.fixture(scope="module")
def shared_window(qapp, tmp_path_factory):
    """One window for the module (building one takes seconds); each test opens its project."""
    folder = tmp_path_factory.mktemp("panels")
    with shown_window(load_project(example("digits-cnn").path), folder) as made:
        yield made


@pytest.fixture
def window(shared_window):
    shared_window.document.load(load_project(example("digits-cnn").path))
    yield shared_window
    shared_window.document.mark_saved()


def type_into(qtbot, edit, text):
    edit.setFocus()
    edit.clear()
    for i in range(1, len(text) + 1):
        edit.setText(text[:i])
        edit.textEdited.emit(text[:i])
    edit.editingFinished.emit()


def test_typing_a_learning_rate_is_one_undo_step(qtbot, window):
    panel, document = window.training_settings, window.document
    type_into(qtbot, panel.field("optimizer.lr"), "0.005")
    assert document.project.training["optimizer"]["lr"] == 0.005
    assert window.windowTitle().startswith("digits-cnn*")
    document.undo()
    assert document.project.training["optimizer"]["lr"] == 0.001
    assert panel.field("optimizer.lr").text() == "0.001"
    document.redo()
    assert panel.field("optimizer.lr").text() == "0.005"


def test_a_value_the_engine_refuses_is_not_written_and_the_reason_shows(qtbot, window):
    panel, document = window.training_settings, window.document
    type_into(qtbot, panel.field("validation_split"), "1.5")
    assert document.project.training["validation_split"] == 0.2
    assert "validation split must be a number from 0 to 0.9" in panel.refusal.text()
    assert not document.undo_stack.canUndo()
    type_into(qtbot, panel.field("optimizer.lr"), "fast")
    assert "not a number" in panel.refusal.text()
    assert document.project.training["optimizer"]["lr"] == 0.001


def test_choices_and_counts_are_undoable(window):
    panel, document = window.training_settings, window.document
    panel.field("optimizer.name").setCurrentIndex(panel.field("optimizer.name").findData("sgd"))
    panel.field("epochs").setValue(3)
    panel.field("batch_size").setValue(32)
    panel.field("schedule.name").setCurrentIndex(panel.field("schedule.name").findData("cosine"))
    training = document.project.training
    assert training["optimizer"]["name"] == "sgd"
    assert training["epochs"] == 3 and training["batch_size"] == 32
    assert training["schedule"] == {"name": "cosine"}
    for _ in range(4):
        document.undo()
    assert training["optimizer"]["name"] == "adam"
    assert training["epochs"] == 15 and training["batch_size"] == 64
    assert "schedule" not in training
    assert panel.field("epochs").value() == 15


def test_early_stopping_can_be_turned_off_and_back(window):
    panel, document = window.training_settings, window.document
    panel.field("early_stopping.metric").setCurrentIndex(
        panel.field("early_stopping.metric").findData("off")
    )
    assert document.project.training["early_stopping"] is None
    assert not panel.field("early_stopping.patience").isEnabled()
    document.undo()
    document.analyse_now()
    assert document.project.training["early_stopping"]["metric"] == "val_loss"
    assert panel.field("early_stopping.patience").isEnabled()


def test_the_data_panel_previews_digits_as_pictures_that_fit_the_input(window):
    panel = window.data_panel
    assert panel.choice.currentData() == "builtin:digits"
    assert "1,797 samples" in panel.summary.text() and "10 classes" in panel.summary.text()
    assert panel.fit_label.text().startswith("✔")
    assert panel.sample_grid.count() == 12
    assert panel.counts_widget.isVisibleTo(panel)


def test_choosing_other_data_is_an_undo_step_and_says_when_it_does_not_fit(window):
    panel, document = window.data_panel, window.document
    panel.choice.setCurrentIndex(panel.choice.findData("builtin:iris"))
    assert document.project.dataset["source"] == "builtin:iris"
    assert panel.fit_label.text().startswith("✖")
    assert "4 values" in panel.fit_label.text()
    assert panel.rows.isVisibleTo(panel)
    document.undo()
    document.analyse_now()
    assert document.project.dataset["source"] == "builtin:digits"
    assert panel.choice.currentData() == "builtin:digits"


def test_a_missing_data_file_is_explained_in_the_preview(window, tmp_path):
    window.data_panel.set_source(f"csv:{tmp_path / 'nothing.csv'}")
    window.document.analyse_now()
    assert "nothing.csv" in window.data_panel.summary.text()


def test_the_form_has_a_row_for_each_setting_the_table_puts_on_the_panel(window):
    from engine.settings import TRAINING

    panel = window.training_settings
    assert list(panel.fields) == [s.key for s in TRAINING if s.label]
    assert panel.field("batch_size").maximum() == 1_000_000  # the table's range, written once
    assert panel.field("optimizer.lr").toolTip().startswith("The learning rate")


def test_settings_are_not_edited_while_training_locks_the_project(window):
    document = window.document
    document.set_read_only(True)
    try:
        assert not document.set_value("training.epochs", 3)
        assert not window.data_panel.set_source("builtin:iris")
        assert document.project.training["epochs"] == 15
        assert document.project.dataset["source"] == "builtin:digits"
    finally:
        document.set_read_only(False)
