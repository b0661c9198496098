"""Whether a wire may be drawn between two ports, and why not.

Asked on every hover while a wire is dragged, so the editor can refuse a
target before the user lets go. Structural refusals (cycle, full input, same
layer, wrong direction) are cheap checks; shape compatibility is decided the
honest way: the wire is tried on a copy of the graph and the engine's analysis
says whether the target layer would gain an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.analysis import analyse
from engine.blocks import layer_for
from engine.graph import Edge, Graph, PortRef


@dataclass(frozen=True)
class PortEnd:
    """A port as the editor sees it: which node, which port, which side."""

    node: str
    port: str
    is_output: bool

    @property
    def ref(self) -> PortRef:
        return PortRef(self.node, self.port)


def oriented(a: PortEnd, b: PortEnd) -> tuple[PortEnd, PortEnd] | None:
    """(output end, input end) for a pair dragged in either direction; None if both sides match."""
    if a.is_output == b.is_output:
        return None
    return (a, b) if a.is_output else (b, a)


def connection_problem(
    graph: Graph, a: PortEnd, b: PortEnd, replacing: Edge | None = None
) -> str | None:
    """None when a wire between `a` and `b` is acceptable, else the reason in plain words.

    `replacing` is a wire being re-plugged: it is ignored, as if already lifted.
    """
    pair = oriented(a, b)
    if pair is None:
        side = "outputs" if a.is_output else "inputs"
        return f"both ends are {side}: connect an output (right side) to an input (left side)"
    source, target = pair
    if source.node == target.node:
        return "a layer cannot feed itself"
    edge = Edge(source.ref, target.ref)
    others = [e for e in graph.edges if e != replacing]
    if edge in others:
        return "these ports are already connected"
    problem = _full_input(graph, target, others)
    if problem:
        return problem
    trial = graph.copy()
    if replacing is not None and replacing in trial.edges:
        trial.edges.remove(replacing)
    if trial.would_create_cycle(source.node, target.node):
        return f"a wire from '{source.node}' to '{target.node}' would make a loop"
    return _new_error_on_target(trial, edge)


def _full_input(graph: Graph, target: PortEnd, edges: list[Edge]) -> str | None:
    layer = layer_for(graph.node(target.node), graph.blocks)
    port = next((p for p in layer.inputs if p.name == target.port), None) if layer else None
    if port is None or port.multiple:
        return None
    taken = next((e for e in edges if e.target == target.ref), None)
    if taken is None:
        return None
    return (
        f"input '{target.port}' of '{target.node}' already takes a wire from "
        f"'{taken.source.node}'; drag that wire's end away first, or use an Add or Concat"
    )


def _new_error_on_target(trial: Graph, edge: Edge) -> str | None:
    """Try the wire on a private copy; refuse it if the target layer gains an error."""
    before = {str(d) for d in analyse(trial).for_node(edge.target.node) if d.severity == "error"}
    trial.edges.append(edge)  # the copy has no listeners; a plain append is enough
    after = [d for d in analyse(trial).for_node(edge.target.node) if d.severity == "error"]
    fresh = [d for d in after if str(d) not in before and "not connected" not in d.message]
    if not fresh:
        return None
    first = fresh[0]
    return f"'{edge.target.node}' {first.message}" + (f" ({first.hint})" if first.hint else "")
