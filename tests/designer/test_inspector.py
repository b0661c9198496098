"""The inspector edits the selected layer; shapes downstream follow every edit."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from designer.inspector import Inspector
from designer.param_editors import ParamEditor, parse_text
from engine.graph import Edge, PortRef
from engine.layers import CATALOGUE


@pytest.fixture
def inspector(editor, qtbot):
    panel = Inspector(editor.document, editor.scene)
    qtbot.addWidget(panel)
    editor.scene.select_nodes(["conv1"])
    return panel


def test_selecting_a_layer_shows_a_form_generated_from_its_declaration(inspector):
    editors = inspector.editors
    assert list(editors) == [p.name for p in CATALOGUE["Conv2d"].params]
    assert isinstance(editors["out_channels"].field, QSpinBox)
    assert editors["out_channels"].field.value() == 32
    assert editors["out_channels"].field.minimum() == 1
    assert isinstance(editors["bias"].field, QCheckBox)
    assert isinstance(editors["kernel_size"].field, QLineEdit)  # one number or one per axis
    assert "Output  32x8x8" in inspector.status_label.text()


def test_editing_a_parameter_updates_shapes_downstream(editor, inspector):
    inspector.editors["out_channels"].field.setValue(8)
    editor.document.analyse_now()
    assert editor.document.graph.node("conv1").params["out_channels"] == 8
    assert editor.scene.edges[Edge(PortRef("conv1", "out"), PortRef("bn1", "in"))].label == "8x8x8"
    assert editor.scene.nodes["pool1"].shape_text == "8x4x4"
    assert "8x8x8" in inspector.status_label.text()


def test_spinning_through_values_is_one_undo_step(editor, inspector):
    spin = inspector.editors["out_channels"].field
    for value in (33, 34, 35, 36):
        spin.setValue(value)
    spin.editingFinished.emit()
    assert editor.document.undo_stack.count() == 1
    editor.document.undo()
    editor.document.analyse_now()
    assert spin.value() == 32  # the form follows the undo


def test_an_invalid_tuple_is_refused_with_the_reason(editor, inspector):
    field = inspector.editors["kernel_size"].field
    field.setText("3, 0")
    field.editingFinished.emit()
    assert editor.document.undo_stack.count() == 0
    assert "at least 1" in inspector.problem_note.text()
    field.setText("3, 5")
    field.editingFinished.emit()
    assert editor.document.graph.node("conv1").params["kernel_size"] == [3, 5]


def test_choices_and_floats_get_fitting_editors(editor, qtbot, inspector):
    editor.scene.select_nodes(["dropout"])
    spin = inspector.editors["p"].field
    assert isinstance(spin, QDoubleSpinBox) and spin.maximum() == pytest.approx(0.99)
    spin.setValue(0.25)
    assert editor.document.graph.node("dropout").params["p"] == 0.25
    editor.document.add_node("Upsample", node_id="up")
    editor.scene.select_nodes(["up"])
    assert isinstance(inspector.editors["mode"].field, QComboBox)


def test_renaming_from_the_inspector(editor, inspector):
    inspector.name_edit.setText("stem")
    inspector.name_edit.editingFinished.emit()
    assert "stem" in editor.document.graph
    assert editor.scene.nodes["stem"].node_id == "stem"
    inspector.name_edit.setText("bn1")
    inspector.name_edit.editingFinished.emit()
    assert "already exists" in inspector.problem_note.text()


def test_the_form_is_disabled_while_the_graph_is_locked(editor, inspector):
    editor.set_read_only(True)
    assert not inspector.editors["out_channels"].isEnabled()
    editor.set_read_only(False)
    assert inspector.editors["out_channels"].isEnabled()


def test_typed_values_are_read_the_way_people_write_them():
    kernel = CATALOGUE["Conv2d"].param("kernel_size")
    shape = CATALOGUE["Input"].param("shape")
    stride = CATALOGUE["MaxPool2d"].param("stride")
    assert parse_text(kernel, "3") == 3
    assert parse_text(kernel, "[1, 7]") == [1, 7]
    assert parse_text(shape, "1x8x8") == [1, 8, 8]
    assert parse_text(stride, "") is None
    with pytest.raises(ValueError, match="needs a value"):
        parse_text(kernel, " ")
    with pytest.raises(ValueError, match="must be"):
        parse_text(kernel, "three")


def test_small_floats_show_as_written(qtbot):
    editor = ParamEditor(CATALOGUE["BatchNorm2d"].param("eps"), 1e-5)
    qtbot.addWidget(editor)
    assert editor.field.text() == "1e-05"
