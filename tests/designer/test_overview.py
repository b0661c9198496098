"""Far out, the canvas is one picture: the items paint nothing but still take clicks."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem

from designer.editor import Editor
from designer.overview import OVERVIEW_ZOOM
from tests.designer.test_scale import chain, render

NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


def far_editor(qtbot) -> Editor:
    editor = Editor(chain(300))
    qtbot.addWidget(editor.view)
    editor.view.resize(800, 600)
    editor.view.show()
    editor.view.set_zoom(OVERVIEW_ZOOM / 2)
    return editor


def painted(item: QGraphicsItem) -> bool:
    return not item.flags() & NO_CONTENTS


def test_far_out_the_items_paint_nothing_and_the_overview_paints_them(qtbot):
    editor = far_editor(qtbot)
    scene = editor.scene
    assert scene.far and scene.overview.isVisible()
    assert not any(painted(i) for i in (*scene.nodes.values(), *scene.edges.values()))
    assert set(scene.overview.nodes) == set(scene.nodes)
    editor.view.centerOn(scene.nodes["n30"])
    image = render(editor)
    scene.overview.hide()  # without it the canvas is bare: the overview is what paints
    assert render(editor) != image


def test_zooming_back_in_paints_each_item_again(qtbot):
    editor = far_editor(qtbot)
    editor.view.set_zoom(1.0)
    scene = editor.scene
    assert not scene.far and not scene.overview.isVisible()
    assert all(painted(i) for i in (*scene.nodes.values(), *scene.edges.values()))


def test_a_layer_added_far_out_joins_the_picture(qtbot):
    editor = far_editor(qtbot)
    node_id = editor.document.add_node("ReLU", (0.0, -400.0))
    assert node_id is not None
    item = editor.scene.nodes[node_id]
    assert not painted(item)
    assert node_id in editor.scene.overview.nodes
    assert editor.scene.overview.boundingRect().contains(QPointF(10.0, -390.0))


def test_far_out_a_node_can_still_be_selected_by_clicking(qtbot):
    editor = far_editor(qtbot)
    item = editor.scene.nodes["n30"]
    centre = item.sceneBoundingRect().center()
    assert editor.scene.itemAt(centre, editor.view.transform()) is item
