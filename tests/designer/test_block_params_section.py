"""The inspector's Block parameters section (docs/blocks.md, per-use parameters): inside a
block with nothing selected, each declared parameter with its default, who uses it, and
Rename… / Remove in the menu beside it; each edit one undo step, shapes and wires following.
Driven through the real inspector widgets."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox, QSpinBox

from designer.editor import Editor
from designer.inspector import Inspector
from engine.blocks import declared
from engine.graph import Edge, PortRef
from engine.project import project_from_json
from tests.designer.conftest import shown_editor
from tests.designer.test_block_param_inspector import menu_action, project_data, select


def declared_data() -> dict[str, Any]:
    """Stage declares channels (conv's width, default 8) and an unused spare; the second use
    sets channels to 16."""
    data = project_data()
    stage = data["blocks"]["Stage"]
    stage["params"] = {"channels": 8, "spare": 3}
    stage["nodes"][1]["params"]["out_channels"] = {"param": "channels"}
    data["graph"]["nodes"][2]["params"]["channels"] = 16
    return data


@pytest.fixture
def editor(qtbot):
    made = shown_editor(qtbot, project_from_json(declared_data()))
    yield made
    made.document.undo_stack.clear()


@pytest.fixture
def answers(monkeypatch):
    """The rename dialog answers `answers["name"]`; the remove question `answers["remove"]`
    (None: the test fails if it is asked)."""
    given: dict[str, Any] = {"name": "width", "remove": QMessageBox.StandardButton.Yes}
    asked: list[str] = []

    def get_text(_parent, _title, label, _mode, suggested, *args, **kwargs):
        asked.append(label)
        return given["name"], True

    def question(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        assert given["remove"] is not None, "asked before removing an unused parameter"
        return given["remove"]

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    given["asked"] = asked
    return given


def enter(editor: Editor) -> None:
    editor.document.enter_block("first")
    editor.scene.clearSelection()
    editor.document.analyse_now()


def stage(editor: Editor):
    return editor.document.project.blocks["Stage"]


def row_action(inspector: Inspector, name: str, text: str):
    found = [a for a in inspector.block_rows[name].menu.actions() if a.text().startswith(text)]
    assert found, [a.text() for a in inspector.block_rows[name].menu.actions()]
    return found[0]


def default_spin(inspector: Inspector, name: str) -> QSpinBox:
    field = inspector.block_rows[name].editor.field
    assert isinstance(field, QSpinBox)
    return field


def shape(editor: Editor, node_id: str) -> Any:
    return editor.document.network_analysis().nodes[node_id].shape


def wire_label(editor: Editor) -> str:
    editor.document.leave_block()
    editor.document.analyse_now()
    label = editor.scene.edges[Edge(PortRef("first", "out"), PortRef("second", "in"))].label
    enter(editor)
    return label


def test_the_section_lists_each_parameter_its_default_and_who_uses_it(editor, inspector) -> None:
    select(editor, "first")
    assert not inspector.block_rows  # a node selected at the top: its own inspector
    enter(editor)
    assert list(inspector.block_rows) == ["channels", "spare"]
    assert default_spin(inspector, "channels").value() == 8
    assert default_spin(inspector, "channels").minimum() == 1  # conv's width: at least 1
    channels = inspector.block_rows["channels"].usage
    assert "sets conv.out_channels" in channels.text()
    assert "1 of 2 nodes set their own (second)" in channels.text()
    spare = inspector.block_rows["spare"].usage
    assert spare.text().startswith("unused") and spare.property("unused") is True
    assert row_action(inspector, "channels", "Remove").text() == "Remove…"  # it asks
    assert row_action(inspector, "spare", "Remove").text() == "Remove"
    select(editor, "conv")
    assert not inspector.block_rows  # a layer selected: its parameters instead
    editor.document.leave_block()
    editor.scene.clearSelection()
    editor.document.analyse_now()
    assert not inspector.block_rows


def test_rename_follows_every_reference_and_use_in_one_undoable_step(
    editor, inspector, answers
) -> None:
    document = editor.document
    enter(editor)
    row_action(inspector, "channels", "Rename").trigger()
    document.analyse_now()
    assert "'channels'" in answers["asked"][0]
    assert list(declared(stage(editor))) == ["width", "spare"]
    assert stage(editor).node("conv").params["out_channels"] == {"param": "width"}
    second = document.network_graph.node("second").params
    assert second.get("width") == 16 and "channels" not in second
    assert list(inspector.block_rows) == ["width", "spare"]
    assert document.undo_stack.count() == 1
    assert shape(editor, "second") == (16, 8, 8)

    document.leave_block()
    document.undo()  # from the top: it opens the block the step changed
    document.analyse_now()
    assert document.block_shown == "Stage"
    assert list(declared(stage(editor))) == ["channels", "spare"]
    assert document.network_graph.node("second").params["channels"] == 16
    assert stage(editor).node("conv").params["out_channels"] == {"param": "channels"}
    editor.scene.clearSelection()
    document.analyse_now()
    assert list(inspector.block_rows) == ["channels", "spare"]
    document.redo()
    document.analyse_now()
    assert document.network_graph.node("second").params["width"] == 16
    assert list(inspector.block_rows) == ["width", "spare"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("spare", "already has a parameter 'spare'"), ("2 wide", "cannot name a block parameter")],
)
def test_a_taken_or_bad_name_is_refused_with_the_reason(
    editor, inspector, answers, name, reason
) -> None:
    enter(editor)
    answers["name"] = name
    row_action(inspector, "channels", "Rename").trigger()
    assert editor.document.undo_stack.count() == 0
    assert inspector.problem_note is not None and not inspector.problem_note.isHidden()
    assert reason in inspector.problem_note.text()
    assert inspector.problem_note.text().startswith("Not applied: ")
    assert list(declared(stage(editor))) == ["channels", "spare"]


def test_remove_asks_then_fixes_the_layers_at_the_default_and_drops_the_uses_values(
    editor, inspector, answers
) -> None:
    document = editor.document
    enter(editor)
    answers["remove"] = QMessageBox.StandardButton.Cancel
    row_action(inspector, "channels", "Remove").trigger()
    assert document.undo_stack.count() == 0
    assert "conv.out_channels will be fixed at 8" in answers["asked"][0]
    assert "second will be dropped" in answers["asked"][0]

    answers["remove"] = QMessageBox.StandardButton.Yes
    row_action(inspector, "channels", "Remove").trigger()
    document.analyse_now()
    assert declared(stage(editor)) == {"spare": 3}
    assert stage(editor).node("conv").params["out_channels"] == 8
    assert "channels" not in document.network_graph.node("second").params
    assert shape(editor, "second") == (8, 8, 8)
    assert list(inspector.block_rows) == ["spare"]
    assert document.undo_stack.count() == 1

    document.undo()
    document.analyse_now()
    assert declared(stage(editor)) == {"channels": 8, "spare": 3}
    assert document.network_graph.node("second").params["channels"] == 16
    assert shape(editor, "second") == (16, 8, 8)
    document.redo()
    document.analyse_now()
    assert "channels" not in document.network_graph.node("second").params


def test_a_new_default_is_one_step_and_the_shapes_and_wires_follow(editor, inspector) -> None:
    document = editor.document
    enter(editor)
    assert wire_label(editor) == "8x8x8"  # first takes the default
    field = default_spin(inspector, "channels")
    field.setValue(10)
    field.setValue(12)  # a scroll: merged into one step
    field.editingFinished.emit()
    document.analyse_now()
    assert declared(stage(editor))["channels"] == 12
    assert document.undo_stack.count() == 1
    assert "default of 'channels' to 12" in document.undo_stack.text(0)
    assert shape(editor, "first") == (12, 8, 8)
    assert shape(editor, "second") == (16, 8, 8)  # sets its own
    assert wire_label(editor) == "12x8x8"
    assert default_spin(inspector, "channels").value() == 12

    document.undo()
    document.analyse_now()
    assert declared(stage(editor))["channels"] == 8 and shape(editor, "first") == (8, 8, 8)
    assert default_spin(inspector, "channels").value() == 8
    document.redo()
    document.analyse_now()
    assert shape(editor, "first") == (12, 8, 8)
    problem = document.set_block_param_default("channels", 0)
    assert problem is not None and "at least 1" in problem
    assert document.undo_stack.count() == 1


def test_unlinking_the_last_reference_keeps_it_declared_and_marked_unused(
    editor, inspector, answers
) -> None:
    document = editor.document
    messages: list[str] = []
    document.message.connect(messages.append)
    enter(editor)
    select(editor, "conv")
    menu_action(inspector, "out_channels", "Unlink").trigger()
    document.analyse_now()
    assert "channels" in declared(stage(editor))
    assert "No layer uses block parameter 'channels'" in messages[-1]
    editor.scene.clearSelection()
    document.analyse_now()
    usage = inspector.block_rows["channels"].usage
    assert usage.text().startswith("unused") and "1 of 2 nodes set their own" in usage.text()
    assert row_action(inspector, "channels", "Remove").text() == "Remove…"  # second sets it

    answers["remove"] = None  # an unused parameter no node sets goes without asking
    row_action(inspector, "spare", "Remove").trigger()
    document.analyse_now()
    assert list(declared(stage(editor))) == ["channels"]
    assert list(inspector.block_rows) == ["channels"]
