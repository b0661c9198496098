"""Automatic layered layout: left to right by depth, ordered to reduce crossings.

Used by the editor's auto-layout (Ctrl+L), by ONNX import and by examples. A
plain longest-path layering with a few barycentre sweeps: cheap enough for a
few thousand nodes, and readable for the chains and branches networks have.
"""

from __future__ import annotations

from engine.graph import Graph

COLUMN_WIDTH = 260.0
ROW_HEIGHT = 150.0


def layered_positions(
    graph: Graph, origin: tuple[float, float] = (0.0, 0.0), wrap_after: int | None = None
) -> dict[str, tuple[float, float]]:
    """New positions for every node; the graph itself is not changed.

    With `wrap_after`, a long network continues on a new band below after that
    many columns, like lines of text, so it fits a window instead of a corridor.
    """
    parents: dict[str, list[str]] = {n: [] for n in graph.nodes}
    children: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if edge.source.node in parents and edge.target.node in parents:
            parents[edge.target.node].append(edge.source.node)
            children[edge.source.node].append(edge.target.node)
    depth = _depths(list(graph.nodes), parents, children)
    columns: dict[int, list[str]] = {}
    for node_id in graph.nodes:
        columns.setdefault(depth[node_id], []).append(node_id)
    order = {n: i for column in columns.values() for i, n in enumerate(column)}
    for _ in range(4):
        for level in sorted(columns)[1:]:
            _sort_by_barycentre(columns[level], parents, order)
        for level in sorted(columns, reverse=True)[1:]:
            _sort_by_barycentre(columns[level], children, order)
    tallest = max((len(c) for c in columns.values()), default=1)
    band_height = (tallest + 0.6) * ROW_HEIGHT
    positions = {}
    for level, column in columns.items():
        band, place = divmod(level, wrap_after) if wrap_after else (0, level)
        top = -(len(column) - 1) * ROW_HEIGHT / 2 + band * band_height
        for i, node_id in enumerate(column):
            positions[node_id] = (
                origin[0] + place * COLUMN_WIDTH,
                origin[1] + top + i * ROW_HEIGHT,
            )
    return positions


def _depths(
    nodes: list[str], parents: dict[str, list[str]], children: dict[str, list[str]]
) -> dict[str, int]:
    """Longest path from a source, computed in topological order; nodes on loops go last."""
    indegree = {n: len(parents[n]) for n in nodes}
    ready = [n for n in nodes if indegree[n] == 0]
    depth = dict.fromkeys(nodes, 0)
    seen = set()
    while ready:
        current = ready.pop()
        seen.add(current)
        for child in children[current]:
            depth[child] = max(depth[child], depth[current] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    last = max(depth.values(), default=0) + 1
    for node_id in nodes:
        if node_id not in seen:
            depth[node_id] = last
    return depth


def _sort_by_barycentre(
    column: list[str], neighbours: dict[str, list[str]], order: dict[str, int]
) -> None:
    def key(node_id: str) -> float:
        linked = [order[n] for n in neighbours[node_id] if n in order]
        return sum(linked) / len(linked) if linked else order[node_id]

    column.sort(key=key)
    for i, node_id in enumerate(column):
        order[node_id] = i
