"""Layout is stable: an edit never moves layers the user did not touch; ungrouping a block
makes room locally (one undo step); Ctrl+L lays out 2,000 nodes without overlaps."""

from __future__ import annotations

from designer.editor import Editor
from designer.node_item import NODE_HEIGHT, NODE_WIDTH
from engine.layout import layered_positions
from engine.project import load_project
from engine.resources import example
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


def cards(editor: Editor) -> dict[str, tuple[float, float, float, float]]:
    """Every card on the canvas as left, top, width, height (block nodes are taller)."""
    return {
        n: (i.pos().x(), i.pos().y(), NODE_WIDTH, i.height) for n, i in editor.scene.nodes.items()
    }


def overlapping(boxes: dict[str, tuple[float, float, float, float]]) -> list[tuple[str, str]]:
    found = []
    items = sorted(boxes.items())
    for i, (a, (ax, ay, aw, ah)) in enumerate(items):
        for b, (bx, by, bw, bh) in items[i + 1 :]:
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                found.append((a, b))
    return found


def test_ungrouping_a_block_makes_room_locally_and_undo_puts_every_node_back(qtbot):
    editor = Editor(load_project(example("residual-blocks").path))
    qtbot.addWidget(editor.view)
    before = positions(editor)
    assert not overlapping(cards(editor))
    # block1 ends the top row; its layers (two rows: the residual's add below) reach down
    # into the row below, so the two nodes under them move down and nothing else moves
    editor.scene.select_nodes(["block1"])
    made = editor.ungroup_selected()
    assert "conv1" in made and "block1" not in editor.scene.nodes
    after = positions(editor)
    assert after["conv1"] == before["block1"]  # the layers start where the block was
    moved = {n for n in before if n in after and after[n] != before[n]}
    assert moved == {"classifier", "output"}
    assert all(after[n][0] == before[n][0] and after[n][1] > before[n][1] for n in moved)
    assert not overlapping(cards(editor))

    # block2 starts the bottom row: what follows it in that row shifts right, as one
    editor.scene.select_nodes(["block2"])
    second = editor.ungroup_selected()
    assert second and not overlapping(cards(editor))
    later = positions(editor)
    shifted = {n for n in after if n in later and later[n] != after[n]}
    assert shifted == {"block3", "pool", "flatten", "classifier", "output"}
    pitch = {round(later[n][0] - after[n][0]) for n in shifted}
    assert len(pitch) == 1 and pitch.pop() > 0  # one shift for the row: spacing kept
    assert all(later[n][1] == after[n][1] for n in shifted)

    editor.document.undo()  # each ungroup is one step, moves included
    assert positions(editor) == after
    editor.document.undo()
    assert positions(editor) == before
    editor.document.redo()
    editor.document.redo()
    assert positions(editor) == later
