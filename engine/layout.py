"""Automatic layered layout: left to right by depth, ordered to reduce crossings.

Used by the editor's auto-layout (Ctrl+L), by ONNX import and by examples. A
plain longest-path layering with a few barycentre sweeps: cheap enough for a
few thousand nodes, and readable for the chains and branches networks have.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping

from engine.graph import Graph

COLUMN_WIDTH = 260.0
ROW_HEIGHT = 150.0

Box = tuple[float, float, float, float]  # a node on the canvas: left, top, width, height
RIGHT, DOWN = 0, 1  # the axis a node is pushed along


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


def make_room(
    old: Box,
    new: Box,
    others: Mapping[str, Box],
    gap: tuple[float, float],
    grid: float = 0.0,
) -> dict[str, tuple[float, float]]:
    """Room for a node's place `old` to grow into `new` (a block expanded into its layers,
    `new` starting at the top-left of `old`): the new top-left of each of `others` that must
    move; the rest stay where they are. The graph is not changed.

    A node that now overlaps the new region, or comes nearer to it than `gap`, moves just
    past it: right when it sits beside the block (its rows meet the block's old rows, or it
    lies right of the new region), down when it sits below it. A node it then runs into
    moves on the same way, and so on, so a chain downstream shifts right as one and nodes
    out of reach never move. Nodes up or left of the block (upstream) never move. With
    `grid`, a moved node lands on it (rounded up, so never back into what pushed it)."""
    boxes = dict(others)
    cells = _Cells(boxes)
    moves: dict[str, tuple[float, float]] = {}

    def push(node_id: str, way: int, target: float) -> None:
        if grid:
            target = math.ceil(target / grid - 1e-9) * grid
        x, y, w, h = boxes[node_id]
        box = (target, y, w, h) if way == RIGHT else (x, target, w, h)
        cells.move(node_id, boxes[node_id], box)
        boxes[node_id] = box
        moves[node_id] = (box[0], box[1])
        pending.append((node_id, way))

    pending: deque[tuple[str, int]] = deque()
    for node_id, box in others.items():  # the new region pushes each node its own way
        way = _way(old, new, box)
        target = _pushed(new, old, box, box, way, gap[way])
        if target is not None:
            push(node_id, way, target)
    limit = 50 * (len(boxes) + 1)  # pushes only go right or down; this is a guard
    while pending and limit > 0:  # then each moved node pushes on the same way
        limit -= 1
        pusher, way = pending.popleft()
        now, before = boxes[pusher], others[pusher]
        for node_id in cells.near(now, before, way, gap[way]):
            if node_id != pusher:
                target = _pushed(now, before, boxes[node_id], others[node_id], way, gap[way])
                if target is not None:
                    push(node_id, way, target)
    return moves


class _Cells:
    """Which nodes lie where, in square cells, so a push looks only at its neighbourhood."""

    SIZE = 256.0

    def __init__(self, boxes: Mapping[str, Box]) -> None:
        self.cells: dict[tuple[int, int], set[str]] = {}
        for node_id, box in boxes.items():
            for cell in self._spanned(box):
                self.cells.setdefault(cell, set()).add(node_id)

    def _spanned(self, box: Box) -> list[tuple[int, int]]:
        x, y, w, h = box
        cols = range(math.floor(x / self.SIZE), math.floor((x + w) / self.SIZE) + 1)
        rows = range(math.floor(y / self.SIZE), math.floor((y + h) / self.SIZE) + 1)
        return [(c, r) for c in cols for r in rows]

    def move(self, node_id: str, old: Box, new: Box) -> None:
        for cell in self._spanned(old):
            self.cells[cell].discard(node_id)
        for cell in self._spanned(new):
            self.cells.setdefault(cell, set()).add(node_id)

    def near(self, box: Box, before: Box, way: int, gap: float) -> set[str]:
        """The nodes in the cells `box` covers, stretched along `way` by `gap` ahead and back
        to the middle of where it was `before` (a node it jumped over is still in reach)."""
        x, y, w, h = box
        if way == RIGHT:
            start = min(x, before[0] + before[2] / 2)
            reach = (start, y, x + w + gap - start, h)
        else:
            start = min(y, before[1] + before[3] / 2)
            reach = (x, start, w, y + h + gap - start)
        found: set[str] = set()
        for cell in self._spanned(reach):
            found |= self.cells.get(cell, set())
        return found


def _way(old: Box, new: Box, box: Box) -> int:
    """Which way the new region pushes a node: right when the node is beside the block (in
    its old rows) or right of the new region, down when it is below and under it."""
    x, y, w, h = box
    beside = y < old[1] + old[3] and y + h > old[1]
    under = x < new[0] + new[2] and x + w > new[0]
    return DOWN if not beside and y >= old[1] and under else RIGHT


def _pushed(now: Box, before: Box, box: Box, was: Box, way: int, gap: float) -> float | None:
    """Where `box` (at `was` before the edit) must start along `way` to clear `now` (at
    `before`) by `gap`; None when it need not move: it does not meet `now` across that way,
    or it was not ahead of `before` (what comes before is never pushed), or it is clear."""
    a = 0 if way == RIGHT else 1  # the axis it moves along
    c = 1 - a  # the axis across
    if not (box[c] < now[c] + now[c + 2] and box[c] + box[c + 2] > now[c]):
        return None
    if was[a] + was[a + 2] / 2 <= before[a] + before[a + 2] / 2:
        return None
    clear = now[a] + now[a + 2] + gap
    return clear if box[a] < clear else None
