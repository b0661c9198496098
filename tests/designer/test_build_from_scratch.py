"""A newcomer builds a small digits CNN on an empty canvas with the mouse alone."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest

from designer.inspector import Inspector
from designer.palette import layer_mime


def drop(editor, type_name: str, scene_pos: QPointF) -> None:
    point = QPointF(editor.view.mapFromScene(scene_pos))
    args = (
        Qt.DropAction.CopyAction,
        layer_mime(type_name),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    editor.view.dragEnterEvent(QDragEnterEvent(point.toPoint(), *args))
    editor.view.dragMoveEvent(QDragMoveEvent(point.toPoint(), *args))
    editor.view.dropEvent(QDropEvent(point, *args))


def wire(editor, source: str, target: str) -> None:
    viewport = editor.view.viewport()
    start = editor.view.mapFromScene(editor.scene.nodes[source].port("out", True).scenePos())
    end = editor.view.mapFromScene(editor.scene.nodes[target].port("in", False).scenePos())
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_building_a_cnn_from_nothing_shows_every_shape_and_undoes_step_by_step(empty_editor, qtbot):
    editor = empty_editor
    inspector = Inspector(editor.document, editor.scene)
    qtbot.addWidget(inspector)
    editor.view.resetTransform()
    editor.view.scale(0.6, 0.6)
    editor.view.centerOn(QPointF(230, 160))
    layers = ["Input", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Output"]
    for i, kind in enumerate(layers):
        drop(editor, kind, QPointF(100 + i * 210 - 400, 100 + (i % 2) * 120))
    ids = list(editor.document.graph.nodes)
    assert ids == ["input", "conv2d", "relu", "maxpool2d", "flatten", "linear", "output"]
    editor.scene.select_nodes(["input"])
    shape = inspector.editors["shape"].field
    shape.setText("1, 8, 8")  # first say what goes in: 8x8 grey images
    shape.editingFinished.emit()
    for source, target in zip(ids, ids[1:]):
        wire(editor, source, target)
    assert len(editor.document.graph.edges) == 6

    editor.scene.select_nodes(["conv2d"])
    inspector.editors["out_channels"].field.setValue(32)
    inspector.editors["padding"].field.setText("1")
    inspector.editors["padding"].field.editingFinished.emit()
    editor.scene.select_nodes(["linear"])
    inspector.editors["out_features"].field.setValue(10)
    editor.document.analyse_now()

    labels = [editor.scene.edges[e].label for e in editor.document.graph.edges]
    assert labels == ["1x8x8", "32x8x8", "32x8x8", "32x4x4", "512", "10"]
    assert editor.document.analysis.ok
    assert editor.scene.nodes["linear"].count == 512 * 10 + 10

    steps = editor.document.undo_stack.count()
    assert steps == 7 + 1 + 6 + 3  # each drop, parameter and wire: one step
    for _ in range(steps):
        editor.document.undo()
    assert len(editor.document.graph) == 0 and not editor.scene.nodes
