"""Big graphs: a 500-node network opens, paints when zoomed out, and stays editable."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPainter

from designer.editor import Editor
from designer.node_item import LOD_BLOCK
from engine.graph import Graph, PortRef
from engine.project import Project


def chain(count: int) -> Project:
    graph = Graph()
    previous = graph.add_node("Input", "input", {"shape": [16]}).id
    for i in range(count - 2):
        kind = "Linear" if i % 2 == 0 else "ReLU"
        node = graph.add_node(kind, f"n{i}", {"out_features": 16} if kind == "Linear" else {})
        node.position = ((i + 1) % 25 * 260.0, (i + 1) // 25 * 150.0)
        graph.connect(PortRef(previous, "out"), PortRef(node.id, "in"))
        previous = node.id
    out = graph.add_node("Output", "output", position=(0.0, 3000.0))
    graph.connect(PortRef(previous, "out"), PortRef(out.id, "in"))
    return Project(name="big", graph=graph)


def render(editor: Editor) -> QImage:
    image = QImage(editor.view.viewport().size(), QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    editor.view.render(painter)
    painter.end()
    return image


def test_a_500_node_network_opens_with_every_node_and_wire(qtbot):
    editor = Editor(chain(500))
    qtbot.addWidget(editor.view)
    editor.view.resize(800, 600)
    editor.view.show()
    editor.view.zoom_to_fit()
    assert len(editor.scene.nodes) == 500
    assert len(editor.scene.edges) == 499
    assert editor.document.analysis.ok
    assert editor.view.zoom() < LOD_BLOCK  # the whole network: painted as plain blocks
    assert not render(editor).isNull()
    editor.scene.select_nodes(["n10"])
    editor.delete_selected()
    editor.document.analyse_now()
    assert editor.scene.nodes["n11"].severity == "error"  # lost its input
    editor.document.undo()
    editor.document.analyse_now()
    assert editor.scene.nodes["n11"].severity is None


def test_zoom_stays_between_10_and_400_percent(editor):
    editor.view.set_zoom(100)
    assert editor.view.zoom() == 4.0
    editor.view.set_zoom(0.001)
    assert editor.view.zoom() == 0.1
