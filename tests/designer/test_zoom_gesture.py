"""Zooming with the wheel: nodes are pictures Qt scales, rendered crisp again when it ends."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsItem

from designer.editor import Editor
from designer.node_item import NodeItem
from designer.view import SETTLE_MS
from tests.designer.test_scale import chain, render

DEVICE = QGraphicsItem.CacheMode.DeviceCoordinateCache
ITEM = QGraphicsItem.CacheMode.ItemCoordinateCache


def shown_editor(qtbot) -> Editor:
    editor = Editor(chain(60))
    qtbot.addWidget(editor.view)
    editor.view.resize(800, 600)
    with qtbot.waitExposed(editor.view):
        editor.view.show()
    editor.view.set_zoom(1.0)
    editor.view.settle()
    editor.view.centerOn(editor.scene.nodes["n10"])
    editor.view.viewport().repaint()
    return editor


def count_paints(monkeypatch) -> list[str]:
    """The ids of the nodes rendered from now on (each render paints the node's body)."""
    painted: list[str] = []
    original = NodeItem._paint_body

    def paint_body(self, *args):  # type: ignore[no-untyped-def]
        painted.append(self.node_id)
        original(self, *args)

    monkeypatch.setattr(NodeItem, "_paint_body", paint_body)
    return painted


def test_zoom_steps_of_one_gesture_do_not_render_the_nodes_again(qtbot, monkeypatch):
    editor = shown_editor(qtbot)
    painted = count_paints(monkeypatch)
    view = editor.view
    view.set_zoom(1.1)  # the gesture's first step renders the visible nodes once
    view.viewport().repaint()
    first = len(painted)
    assert first > 0
    for zoom in (1.05, 1.15, 1.0, 1.2, 0.9):
        view.set_zoom(zoom)
        view.viewport().repaint()
    # later steps scaled those pictures: only nodes coming into view were rendered
    assert len(painted) == len(set(painted))
    assert all(item.cacheMode() == ITEM for item in editor.scene.nodes.values())


def test_zoomed_far_in_or_out_the_nodes_render_at_each_step(qtbot):
    editor = shown_editor(qtbot)
    view = editor.view
    node = editor.scene.nodes["n10"]
    view.set_zoom(1.2)
    assert node.cacheMode() == ITEM
    view.set_zoom(2.5)  # a held 100% picture would look soft; few nodes show this close
    assert node.cacheMode() == DEVICE
    view.set_zoom(0.3)  # far out the names are drawn larger: the held picture would differ
    assert node.cacheMode() == DEVICE


def test_when_the_gesture_ends_the_nodes_are_rendered_at_screen_resolution(qtbot):
    editor = shown_editor(qtbot)
    editor.view.set_zoom(1.3)
    node = editor.scene.nodes["n10"]

    assert node.cacheMode() == ITEM
    qtbot.waitUntil(lambda: node.cacheMode() == DEVICE, timeout=SETTLE_MS * 10)
    assert all(item.cacheMode() == DEVICE for item in editor.scene.nodes.values())


def test_a_held_picture_looks_like_the_node_rendered_afresh(qtbot):
    editor = shown_editor(qtbot)
    editor.view.set_zoom(1.2)
    editor.view.set_zoom(1.0)  # still the gesture: the nodes are their held pictures
    assert editor.scene.pictures_held
    held = pixels(render(editor))
    editor.view.settle()
    fresh = pixels(render(editor))
    assert held.shape == fresh.shape
    assert np.abs(held - fresh).mean() < 2.0  # same places and sizes (a misplaced picture: >10)


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].astype(float)


def test_a_layer_added_mid_gesture_is_cached_like_the_others(qtbot):
    editor = shown_editor(qtbot)
    editor.view.set_zoom(1.2)
    node_id = editor.document.add_node("ReLU", (0.0, -400.0))
    assert node_id is not None
    assert editor.scene.nodes[node_id].cacheMode() == ITEM
    editor.view.settle()
    assert editor.scene.nodes[node_id].cacheMode() == DEVICE


def test_fit_ends_a_gesture_at_once(qtbot):
    editor = shown_editor(qtbot)
    editor.view.set_zoom(1.2)
    editor.view.zoom_to_fit()
    assert all(item.cacheMode() == DEVICE for item in editor.scene.nodes.values())
