"""Expanding a block makes room locally (engine/layout.py `make_room`): the nodes the
expanded layers would cover move just past them, the ones those run into move on the same
way, and nodes far away, upstream or above never move."""

from __future__ import annotations

from engine.layout import Box, make_room

W, H = 184.0, 88.0  # a layer card, as the designer draws it
BLOCK_H = 150.0
GAP = (76.0, 62.0)


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def placed(others: dict[str, Box], moves: dict[str, tuple[float, float]]) -> dict[str, Box]:
    return {n: (*moves.get(n, b[:2]), b[2], b[3]) for n, b in others.items()}


def test_the_near_neighbours_move_just_enough_and_the_far_one_stays() -> None:
    old = (520.0, 0.0, W, BLOCK_H)  # the block node
    new = (520.0, 0.0, 2 * 260.0 + W, 238.0)  # its layers: three wide, a branch below
    others = {
        "before": (260.0, 0.0, W, H),  # upstream, left of the block
        "right": (780.0, 0.0, W, H),  # downstream, beside the block
        "after": (1040.0, 0.0, W, H),  # the next one on: the chain shifts as one
        "below": (520.0, 200.0, W, H),  # under the block, covered by the branch
        "far": (3000.0, 2000.0, W, H),
        "above": (700.0, -300.0, W, H),
    }
    moves = make_room(old, new, others, GAP, grid=20.0)
    assert set(moves) == {"right", "after", "below"}
    # right: just past the new region and the gap (1224 + 76), then on the grid
    assert moves["right"] == (1300.0, 0.0)
    assert moves["after"] == (1560.0, 0.0)  # kept its 260 pitch
    assert moves["below"] == (520.0, 300.0)  # just below the branch: 238 + 62
    after = placed(others, moves)
    boxes = [new, *after.values()]
    assert not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_a_neighbour_far_enough_already_does_not_move() -> None:
    old = (0.0, 0.0, W, BLOCK_H)
    new = (0.0, 0.0, 260.0 + W, H)
    others = {"next": (600.0, 0.0, W, H), "row_below": (0.0, 150.0, W, H)}
    assert make_room(old, new, others, GAP) == {}


def test_a_chain_spaced_widely_absorbs_the_push() -> None:
    old = (0.0, 0.0, W, BLOCK_H)
    new = (0.0, 0.0, 260.0 + W, H)
    others = {"a": (260.0, 0.0, W, H), "b": (1000.0, 0.0, W, H)}
    assert make_room(old, new, others, GAP) == {"a": (520.0, 0.0)}


def test_upstream_nodes_never_move_even_when_close() -> None:
    old = (300.0, 0.0, W, BLOCK_H)
    new = (300.0, 0.0, 3 * 260.0 + W, 300.0)
    others = {"close_left": (150.0, 0.0, W, H), "close_above": (300.0, -100.0, W, H)}
    assert make_room(old, new, others, GAP) == {}


def test_nodes_pushed_the_same_way_end_up_clear_of_each_other() -> None:
    old = (0.0, 0.0, W, BLOCK_H)
    new = (0.0, 0.0, 260.0 + W, H)
    # "a" is pushed from 300 to 520; "b", a little lower and overlapping "a", moves on too
    others = {"a": (300.0, 0.0, W, H), "b": (400.0, 60.0, W, H)}
    moves = make_room(old, new, others, GAP)
    after = placed(others, moves)
    assert moves["a"] == (520.0, 0.0)
    assert not overlap(after["a"], after["b"]) and not overlap(new, after["b"])
