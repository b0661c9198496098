"""Making a parameter per use in the inspector (docs/blocks.md, per-use parameters): inside a
block, the menu beside a Conv2d's out_channels makes it a new block parameter; each block node
then sets its own value in its inspector, the shapes of the two uses differ, and undo, unlink
and bad values behave as a user expects. Driven through the real inspector widgets."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from PySide6.QtWidgets import QComboBox, QInputDialog, QSpinBox

from designer.editor import Editor
from designer.inspector import Inspector
from engine.graph import Edge, PortRef
from engine.project import project_from_json
from tests.designer.conftest import shown_editor
from tests.engine.test_blocks import chain, node


def project_data() -> dict[str, Any]:
    """Two uses of one block (a 1x1 conv, a 3x3 conv, a ReLU), one after the other."""
    return {
        "format": "netwright-project",
        "version": 2,
        "name": "stages",
        "blocks": {
            "Stage": {
                "nodes": [
                    node("x", "BlockInput"),
                    node("conv", "Conv2d", out_channels=8, kernel_size=3, padding=1),
                    node("conv2", "Conv2d", out_channels=8, kernel_size=1),
                    node("relu", "ReLU"),
                    node("y", "BlockOutput"),
                ],
                "edges": chain("x", "conv2", "conv", "relu", "y"),
            }
        },
        "graph": {
            "nodes": [
                node("input", "Input", shape=[3, 8, 8]),
                node("first", "Block", block="Stage"),
                node("second", "Block", block="Stage"),
                node("pool", "AdaptiveAvgPool2d", output_size=1),
                node("flatten", "Flatten"),
                node("head", "Linear", out_features=10),
                node("output", "Output"),
            ],
            "edges": chain("input", "first", "second", "pool", "flatten", "head", "output"),
        },
    }


@pytest.fixture
def editor(qtbot):
    made = shown_editor(qtbot, project_from_json(project_data()))
    yield made
    made.document.undo_stack.clear()


@pytest.fixture
def asked(monkeypatch):
    """The name dialog of "Set per use…": records what it offered, answers `answer[0]`."""
    seen: list[tuple[str, str]] = []
    answer = ["channels"]

    def get_text(_parent, _title, label, _mode, suggested, *args, **kwargs):
        seen.append((label, suggested))
        return answer[0], True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    return seen, answer


def select(editor: Editor, node_id: str) -> None:
    editor.scene.select_nodes([node_id])
    editor.document.analyse_now()


def menu_action(inspector: Inspector, param: str, text: str):
    """The action of the menu beside `param` whose text starts with `text`, as it opens."""
    menu = inspector.per_use_buttons[param].menu()
    menu.aboutToShow.emit()
    found = [a for a in menu.actions() if a.text().startswith(text)]
    assert found, [a.text() for a in menu.actions()]
    return found[0]


def spin(inspector: Inspector, param: str) -> QSpinBox:
    field = inspector.editors[param].field
    assert isinstance(field, QSpinBox)
    return field


def set_spin(editor: Editor, inspector: Inspector, param: str, value: int) -> None:
    field = spin(inspector, param)
    field.setValue(value)
    field.editingFinished.emit()
    editor.document.analyse_now()


def link_new(editor: Editor, inspector: Inspector, node_id: str = "conv") -> None:
    editor.document.enter_block("first")
    select(editor, node_id)
    menu_action(inspector, "out_channels", "Set per use").trigger()
    editor.document.analyse_now()


def shape(editor: Editor, node_id: str) -> Any:
    return editor.document.network_analysis().nodes[node_id].shape


def test_set_per_use_makes_a_block_parameter_and_two_uses_get_their_own_widths(
    editor, inspector, asked
) -> None:
    document = editor.document
    seen, _answer = asked
    definition = document.project.blocks["Stage"]
    link_new(editor, inspector)

    ((label, suggested),) = seen
    assert suggested == "channels" and "default: 8" in label
    assert definition.extra["params"] == {"channels": 8}
    assert definition.node("conv").params["out_channels"] == {"param": "channels"}
    assert document.undo_stack.count() == 1
    # the field shows the value in use and says it is linked
    assert spin(inspector, "out_channels").value() == 8
    assert inspector.editors["out_channels"].field.property("linked") is True
    chip = inspector.link_labels["out_channels"]
    assert not chip.isHidden() and "channels (per use)" in chip.text() and "first" in chip.text()

    document.leave_block()
    select(editor, "second")
    assert spin(inspector, "channels").value() == 8  # the default, while unset
    assert "default (8)" in inspector.link_labels["channels"].text()
    set_spin(editor, inspector, "channels", 16)
    select(editor, "first")
    set_spin(editor, inspector, "channels", 4)

    assert document.graph.node("second").params["channels"] == 16
    assert shape(editor, "first") == (4, 8, 8) and shape(editor, "second") == (16, 8, 8)
    wire = editor.scene.edges[Edge(PortRef("second", "out"), PortRef("pool", "in"))]
    assert wire.label == "16x8x8"
    assert "own value" in inspector.link_labels["channels"].text()
    assert document.undo_stack.count() == 3  # link, one value, the other value

    document.undo()
    document.undo()
    document.analyse_now()
    assert shape(editor, "first") == shape(editor, "second") == (8, 8, 8)
    document.undo()
    document.analyse_now()
    assert "params" not in definition.extra
    assert definition.node("conv").params["out_channels"] == 8


def test_inside_the_block_the_value_shown_is_the_use_entered_through(
    editor, inspector, asked
) -> None:
    link_new(editor, inspector)
    document = editor.document
    document.leave_block()
    document.set_param("second", "channels", 24)
    document.enter_block("second")
    select(editor, "conv")
    assert spin(inspector, "out_channels").value() == 24
    assert "24 in second" in inspector.link_labels["out_channels"].text()


def test_a_second_layer_links_to_the_existing_parameter_in_one_step(
    editor, inspector, asked
) -> None:
    link_new(editor, inspector)
    document = editor.document
    select(editor, "conv2")
    action = menu_action(inspector, "out_channels", "channels")
    assert not action.isChecked()
    action.trigger()
    document.analyse_now()
    definition = document.project.blocks["Stage"]
    assert definition.node("conv2").params["out_channels"] == {"param": "channels"}
    assert definition.extra["params"] == {"channels": 8}  # not declared twice
    assert document.undo_stack.count() == 2
    assert menu_action(inspector, "out_channels", "channels").isChecked()


def test_unlink_fixes_the_value_in_use_and_typing_a_value_unlinks_too(
    editor, inspector, asked
) -> None:
    link_new(editor, inspector)
    document = editor.document
    definition = document.project.blocks["Stage"]
    assert menu_action(inspector, "out_channels", "Unlink").isEnabled()
    menu_action(inspector, "out_channels", "Unlink").trigger()
    document.analyse_now()
    assert definition.node("conv").params["out_channels"] == 8
    assert inspector.link_labels["out_channels"].isHidden()
    assert inspector.editors["out_channels"].field.property("linked") is False
    assert not menu_action(inspector, "out_channels", "Unlink").isEnabled()
    assert "Unlink" in document.undo_stack.text(document.undo_stack.index() - 1)
    document.undo()
    document.analyse_now()
    assert definition.node("conv").params["out_channels"] == {"param": "channels"}

    count = document.undo_stack.count()
    set_spin(editor, inspector, "out_channels", 12)  # typing a fixed value
    assert definition.node("conv").params["out_channels"] == 12
    assert document.undo_stack.count() == count  # the undone unlink replaced by this one
    document.undo()
    assert definition.node("conv").params["out_channels"] == {"param": "channels"}


def test_a_taken_or_bad_name_is_refused_with_the_reason(editor, inspector, asked) -> None:
    _seen, answer = asked
    link_new(editor, inspector)
    document = editor.document
    count = document.undo_stack.count()
    select(editor, "conv2")
    for bad, reason in (("channels", "already has a parameter"), ("2x", "cannot name")):
        answer[0] = bad
        menu_action(inspector, "out_channels", "Set per use").trigger()
        assert document.undo_stack.count() == count
        assert reason in (inspector.problem_note.text() if inspector.problem_note else "")


def test_a_list_value_cannot_be_made_per_use_and_nothing_changes(editor, inspector, asked):
    """A 3x5 kernel is not one number: making it per use would change every use's layer."""
    document = editor.document
    document.enter_block("first")
    document.set_param("conv", "kernel_size", [3, 5])
    select(editor, "conv")
    count = document.undo_stack.count()
    action = menu_action(inspector, "kernel_size", "Set per use")
    assert not action.isEnabled() and "3x5" in action.toolTip()
    inspector.link_new("kernel_size")  # the menu's refusal, had it been chosen anyway
    assert document.undo_stack.count() == count
    assert document.graph.node("conv").params["kernel_size"] == [3, 5]
    assert "Cannot set kernel_size per use" in inspector.problem_note.text()


def test_a_bad_value_on_a_use_names_the_block_the_parameter_and_the_fix(
    editor, inspector, asked
) -> None:
    link_new(editor, inspector)
    document = editor.document
    document.leave_block()
    select(editor, "second")
    assert spin(inspector, "channels").minimum() == 1  # the inspector does not offer 0
    document.set_param("second", "channels", 0)  # as a hand-edited file might
    document.analyse_now()
    text = inspector.problems_label.text()
    assert "block 'Stage'" in text and "'channels' must be at least 1" in text
    assert "inspector of block node 'second'" in text
    assert not inspector.problems_label.isHidden()
    menu_action(inspector, "channels", "Reset to the block's default").trigger()
    document.analyse_now()
    assert "channels" not in document.graph.node("second").params
    assert document.analysis.ok
    assert not menu_action(inspector, "channels", "Reset").isEnabled()


def test_a_block_nodes_block_field_offers_the_projects_definitions(qtbot) -> None:
    data = project_data()
    wide = copy.deepcopy(data["blocks"]["Stage"])
    wide["params"] = {"width": 12}
    wide["nodes"][1]["params"]["out_channels"] = {"param": "width"}
    data["blocks"]["Wide"] = wide
    editor = Editor(project_from_json(data))
    inspector = Inspector(editor.document, editor.scene)
    qtbot.addWidget(inspector)
    select(editor, "first")
    combo = inspector.editors["block"].field
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["Stage", "Wide"]
    assert "block" not in inspector.per_use_buttons and list(inspector.editors) == ["block"]
    combo.activated.emit(1)
    editor.document.analyse_now()
    assert editor.document.graph.node("first").params["block"] == "Wide"
    assert list(inspector.editors) == ["block", "width"]  # the form follows the definition
    assert spin(inspector, "width").value() == 12


def test_a_linked_layer_card_names_the_block_parameter(editor, inspector, asked) -> None:
    link_new(editor, inspector)
    summary = editor.scene.nodes["conv"].summary
    assert "‹channels›" in summary and "param" not in summary
