"""Building a network with the mouse: drops, quick-add, wires, and what is refused."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest

from designer.palette import Palette, layer_mime
from designer.port_item import PortItem
from engine.graph import Edge, PortRef


def view_point(editor, scene_pos: QPointF) -> QPoint:
    return editor.view.mapFromScene(scene_pos)


def drop(editor, type_name: str, scene_pos: QPointF) -> None:
    """What the palette's drag does at its end: enter, move, drop, carrying the layer type.

    The view's handlers are called directly: Qt only routes a Drop to a widget
    during a real drag session, which a headless test cannot start.
    """
    point = QPointF(view_point(editor, scene_pos))
    mime = layer_mime(type_name)
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(point.toPoint(), *args)
    editor.view.dragEnterEvent(enter)
    assert enter.isAccepted()
    editor.view.dragMoveEvent(QDragMoveEvent(point.toPoint(), *args))
    dropped = QDropEvent(point, *args)
    editor.view.dropEvent(dropped)
    assert dropped.isAccepted()


def port(editor, node_id: str, name: str, is_output: bool) -> PortItem:
    item = editor.scene.nodes[node_id].port(name, is_output)
    assert item is not None
    return item


def drag_wire(editor, start: PortItem, end: PortItem) -> None:
    """Press on one port, move over the other, release: as a user wires two layers."""
    viewport = editor.view.viewport()
    a, b = view_point(editor, start.scenePos()), view_point(editor, end.scenePos())
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(viewport, (a + b) / 2)
    QTest.mouseMove(viewport, b)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def test_dropping_a_palette_layer_adds_it_where_it_lands(empty_editor):
    drop(empty_editor, "Conv2d", QPointF(0, 0))
    graph = empty_editor.document.graph
    assert [n.type for n in graph] == ["Conv2d"]
    assert "conv2d" in empty_editor.scene.nodes
    assert empty_editor.scene.selected_node_ids() == ["conv2d"]
    empty_editor.document.undo()
    assert len(graph) == 0 and not empty_editor.scene.nodes


def test_palette_double_click_asks_to_add_at_the_centre(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    wanted = []
    palette.add_requested.connect(wanted.append)
    item = next(i for i in palette.layer_items() if i.text(0) == "Linear")
    palette.tree.itemDoubleClicked.emit(item, 0)
    assert wanted == ["Linear"]
    mime = palette.tree.mimeData([item])
    assert bytes(mime.data("application/x-netwright-layer").data()) == b"Linear"


def test_palette_search_keeps_only_matches(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    palette.search.setText("bnorm2")
    shown = [i.text(0) for i in palette.layer_items() if not i.isHidden()]
    assert shown == ["BatchNorm2d"]


def test_tab_opens_quick_add_and_enter_places_the_best_match(empty_editor, qtbot):
    view = empty_editor.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    popup = view.quick_add
    assert popup.isVisible()
    qtbot.keyClicks(popup.search, "cv2")
    assert popup.results.currentItem().text() == "Conv2d"
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert [n.type for n in empty_editor.document.graph] == ["Conv2d"]


def test_dropping_a_layer_onto_a_wire_inserts_it_as_one_step(editor):
    wire = editor.scene.edges[Edge(PortRef("flatten", "out"), PortRef("dropout", "in"))]
    middle = wire._path.pointAtPercent(0.5)
    steps = editor.document.undo_stack.count()
    drop(editor, "Linear", middle)
    graph = editor.document.graph
    assert Edge(PortRef("flatten", "out"), PortRef("linear", "in")) in graph.edges
    assert Edge(PortRef("linear", "out"), PortRef("dropout", "in")) in graph.edges
    assert editor.document.undo_stack.count() == steps + 1


def test_dragging_from_port_to_port_connects_and_the_wire_shows_its_shape(editor):
    doc = editor.document
    doc.remove_wire(Edge(PortRef("bn1", "out"), PortRef("relu1", "in")))
    drag_wire(editor, port(editor, "bn1", "out", True), port(editor, "relu1", "in", False))
    edge = Edge(PortRef("bn1", "out"), PortRef("relu1", "in"))
    assert edge in doc.graph.edges
    doc.analyse_now()
    assert editor.scene.edges[edge].label == "32x8x8"


def test_a_wire_can_be_drawn_backwards_from_an_input(editor):
    doc = editor.document
    doc.remove_wire(Edge(PortRef("bn1", "out"), PortRef("relu1", "in")))
    drag_wire(editor, port(editor, "relu1", "in", False), port(editor, "bn1", "out", True))
    assert Edge(PortRef("bn1", "out"), PortRef("relu1", "in")) in doc.graph.edges


def refusal(editor, a: PortItem, b: PortItem) -> str | None:
    """Start a drag at `a`, hover `b`: what the editor says about that target."""
    scene = editor.scene
    assert scene.start_wire(a, a.scenePos())
    scene.wire_drag.move(b.scenePos())
    problem = scene.wire_drag.problem
    highlight = b.highlight
    scene.cancel_wire()
    assert highlight == ("invalid" if problem else "valid")
    return problem


def test_a_wire_that_would_make_a_loop_is_refused_with_the_reason(editor):
    reason = refusal(editor, port(editor, "pool2", "out", True), port(editor, "conv1", "in", False))
    assert "already takes a wire" in reason  # conv1's single input is taken...
    editor.document.remove_wire(Edge(PortRef("input", "out"), PortRef("conv1", "in")))
    reason = refusal(editor, port(editor, "pool2", "out", True), port(editor, "conv1", "in", False))
    assert "would make a loop" in reason


def test_an_incompatible_shape_is_refused_with_the_engines_diagnostic(editor):
    doc = editor.document
    doc.remove_wire(Edge(PortRef("flatten", "out"), PortRef("dropout", "in")))
    doc.add_node("Conv2d", (0, 400), node_id="late_conv")
    reason = refusal(
        editor, port(editor, "flatten", "out", True), port(editor, "late_conv", "in", False)
    )
    assert reason is not None and "late_conv" in reason and "axes" in reason
    count = len(doc.graph.edges)
    drag_wire(editor, port(editor, "flatten", "out", True), port(editor, "late_conv", "in", False))
    assert len(doc.graph.edges) == count, "a refused wire must not be added"


def test_same_layer_and_output_to_output_are_refused(editor):
    assert "cannot feed itself" in refusal(
        editor, port(editor, "bn1", "out", True), port(editor, "bn1", "in", False)
    )
    assert "both ends are outputs" in refusal(
        editor, port(editor, "bn1", "out", True), port(editor, "conv2", "out", True)
    )


def test_a_merge_input_takes_many_wires(editor, project_named):
    from designer.editor import Editor

    residual = Editor(project_named("residual-cnn"))
    add = next(n for n in residual.document.graph if n.type == "Add")
    add_port = residual.scene.nodes[add.id].port("in", False)
    assert add_port is not None and add_port.multiple
    assert len([e for e in residual.document.graph.edges if e.target.node == add.id]) == 2


def test_dragging_a_wire_end_onto_empty_canvas_deletes_the_wire(editor):
    doc = editor.document
    edge = Edge(PortRef("relu1", "out"), PortRef("pool1", "in"))
    target_port = port(editor, "pool1", "in", False)
    viewport = editor.view.viewport()
    a = view_point(editor, target_port.scenePos())
    empty = view_point(editor, target_port.scenePos() + QPointF(0, 300))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(viewport, empty)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, empty)
    assert edge not in doc.graph.edges
    doc.undo()
    assert edge in doc.graph.edges


def test_layers_turn_red_with_the_diagnostic_when_shapes_break(editor):
    doc = editor.document
    doc.set_param("input", "shape", [64])
    doc.analyse_now()
    conv = editor.scene.nodes["conv1"]
    assert conv.severity == "error"
    assert "expects" in conv.toolTip()
    assert editor.scene.nodes["conv2"].severity is None  # downstream stays quiet, no shape
    assert editor.scene.nodes["conv2"].shape_text == ""


def test_moving_selected_layers_with_the_mouse_is_one_undo_step(editor):
    scene = editor.scene
    scene.select_nodes(["conv1", "bn1"])
    viewport = editor.view.viewport()
    start = view_point(editor, scene.nodes["conv1"].sceneBoundingRect().center())
    end = start + QPoint(40, 60)
    QTest.mousePress(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, start
    )
    QTest.mouseMove(viewport, start + QPoint(20, 30))
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    graph = editor.document.graph
    assert graph.node("conv1").position != (260.0, 0.0)
    assert graph.node("conv1").position[0] % 20 == 0  # snapped to the grid
    assert editor.document.undo_stack.undoText() == "Move 2 layers"
    editor.document.undo()
    assert graph.node("conv1").position == (260.0, 0.0)
    assert scene.nodes["conv1"].pos() == QPointF(260.0, 0.0)


def test_the_empty_canvas_hint_goes_with_the_first_layer_and_the_canvas_repaints_whole(
    empty_editor, monkeypatch
):
    view = empty_editor.view
    assert view.hint_shown

    real = view.viewport()

    class Viewport:  # records the whole-canvas repaints the view asks for
        requests = 0

        def update(self) -> None:
            Viewport.requests += 1

        def __getattr__(self, name: str):  # everything else: the real viewport
            return getattr(real, name)

    monkeypatch.setattr(view, "viewport", Viewport)
    empty_editor.document.add_node("ReLU", (300, 200))
    assert not view.hint_shown and Viewport.requests == 1  # all of it, not the layer's area
    empty_editor.document.undo()
    assert view.hint_shown and Viewport.requests == 2


def test_a_long_layer_type_gives_way_to_the_layers_name_and_port_labels_to_the_text(qtbot):
    """A TransformerEncoderLayer named block1 shows 'block1' whole; its 'padding' port's
    label sits beside the body text, not over it."""
    from designer import theme
    from designer.editor import Editor
    from designer.node_item import NODE_WIDTH
    from engine.project import Project

    editor = Editor(Project(name="labels"))
    qtbot.addWidget(editor.view)
    editor.document.add_node("TransformerEncoderLayer", (0, 0), node_id="block1")
    editor.document.add_node("ReLU", (300, 0), node_id="relu")
    block, relu = editor.scene.nodes["block1"], editor.scene.nodes["relu"]
    fonts = theme.ui_font(9.5, bold=True), theme.ui_font(7.8)
    (title, _), (kind, _) = block.header_texts(*fonts, NODE_WIDTH - 44)
    assert title == "block1" and kind.endswith("…") and kind.startswith("Transformer")
    padding = block.inputs["padding"]
    assert block.text_insets()[0] >= padding.pos().x() + padding.label_width()
    assert relu.text_insets() == (12.0, 12.0)  # one port each side: no labels, no room kept
