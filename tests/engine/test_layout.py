"""Auto-layout: left to right by depth, branches side by side, long networks wrapped into bands."""

from __future__ import annotations

from engine.graph import Graph, PortRef
from engine.layout import COLUMN_WIDTH, layered_positions


def chain(length: int) -> Graph:
    graph = Graph()
    ids = [graph.add_node("ReLU", f"n{i}").id for i in range(length)]
    for a, b in zip(ids, ids[1:]):
        graph.connect(PortRef(a, "out"), PortRef(b, "in"))
    return graph


def test_a_chain_runs_left_to_right() -> None:
    positions = layered_positions(chain(4))
    xs = [positions[f"n{i}"][0] for i in range(4)]
    assert xs == [0, COLUMN_WIDTH, 2 * COLUMN_WIDTH, 3 * COLUMN_WIDTH]
    assert len({positions[f"n{i}"][1] for i in range(4)}) == 1


def test_branches_share_a_column_without_overlapping() -> None:
    graph = chain(1)
    for name in ("left", "right"):
        graph.add_node("ReLU", name)
        graph.connect(PortRef("n0", "out"), PortRef(name, "in"))
    positions = layered_positions(graph)
    assert positions["left"][0] == positions["right"][0] == COLUMN_WIDTH
    assert positions["left"][1] != positions["right"][1]


def test_long_networks_wrap_into_bands_below() -> None:
    positions = layered_positions(chain(12), wrap_after=5)
    assert max(x for x, _ in positions.values()) == 4 * COLUMN_WIDTH
    assert positions["n5"][0] == 0 and positions["n5"][1] > positions["n4"][1]
    assert positions["n10"][1] > positions["n5"][1]


def test_loops_do_not_hang_the_layout() -> None:
    graph = chain(3)
    graph.connect(PortRef("n2", "out"), PortRef("n0", "in"))
    assert set(layered_positions(graph)) == {"n0", "n1", "n2"}
