"""A layer whose outputs follow its parameters: a Split's pieces are ports on the canvas."""

from __future__ import annotations

from designer.editor import Editor
from engine.graph import Edge, PortRef
from engine.project import Project


def split_editor(qtbot) -> Editor:
    editor = Editor(Project(name="split"))
    qtbot.addWidget(editor.view)
    document = editor.document
    document.add_node("Input", (0, 0), {"shape": [6, 4]}, node_id="input")
    document.add_node("Split", (200, 0), {"pieces": 2}, node_id="split")
    document.add_node("ReLU", (400, -60), node_id="relu")
    document.add_node("Tanh", (400, 60), node_id="tanh")
    document.add_wire(PortRef("input", "out"), PortRef("split", "in"))
    document.add_wire(PortRef("split", "out1"), PortRef("relu", "in"))
    document.add_wire(PortRef("split", "out2"), PortRef("tanh", "in"))
    document.analyse_now()
    return editor


def test_each_piece_is_a_port_whose_wire_shows_that_pieces_shape(qtbot) -> None:
    editor = split_editor(qtbot)
    assert list(editor.scene.nodes["split"].outputs) == ["out1", "out2"]
    wire = editor.scene.edges[Edge(PortRef("split", "out2"), PortRef("tanh", "in"))]
    assert wire.label == "3x4"


def test_more_pieces_add_ports_keep_the_wires_and_undo_takes_them_back(qtbot) -> None:
    editor = split_editor(qtbot)
    document, scene = editor.document, editor.scene
    document.set_param("split", "pieces", 3)
    document.analyse_now()
    assert list(scene.nodes["split"].outputs) == ["out1", "out2", "out3"]
    kept = scene.edges[Edge(PortRef("split", "out2"), PortRef("tanh", "in"))]
    assert kept.source is scene.nodes["split"].outputs["out2"]  # re-attached to the new port
    assert kept.label == "2x4"
    document.undo()
    document.analyse_now()
    assert list(scene.nodes["split"].outputs) == ["out1", "out2"]
    assert scene.edges[Edge(PortRef("split", "out2"), PortRef("tanh", "in"))].label == "3x4"
