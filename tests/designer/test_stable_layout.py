"""Layout is stable: an edit never moves layers the user did not touch; Ctrl+L lays out
2,000 nodes without overlaps."""

from __future__ import annotations

from designer.editor import Editor
from designer.node_item import NODE_HEIGHT, NODE_WIDTH
from engine.layout import layered_positions
from tests.designer.test_scale import chain


def positions(editor: Editor) -> dict[str, tuple[float, float]]:
    return {n: (i.pos().x(), i.pos().y()) for n, i in editor.scene.nodes.items()}


def test_adding_and_removing_a_layer_moves_no_other(qtbot):
    editor = Editor(chain(60))
    qtbot.addWidget(editor.view)
    before = positions(editor)
    added = editor.document.add_node("ReLU", (40.0, -300.0))
    assert added is not None
    after = positions(editor)
    assert {n: p for n, p in after.items() if n != added} == before
    editor.document.remove_nodes(["n10"])
    del before["n10"]
    assert {n: p for n, p in positions(editor).items() if n != added} == before


def test_layout_of_2000_nodes_places_every_node_without_overlaps():
    graph = chain(2000).graph
    placed = layered_positions(graph)
    assert set(placed) == set(graph.nodes)
    rows: dict[float, list[float]] = {}
    for x, y in placed.values():
        rows.setdefault(y, []).append(x)
    for xs in rows.values():
        xs.sort()
        assert all(b - a >= NODE_WIDTH for a, b in zip(xs, xs[1:]))
    ys = sorted(rows)
    assert all(b - a >= NODE_HEIGHT for a, b in zip(ys, ys[1:]))
