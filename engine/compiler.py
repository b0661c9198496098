"""Graph -> a real `nn.Module`: one submodule per node, named by the node's id.

The module runs its layers in topological order, so branches and merges work
as drawn. Initialization draws from the project seed inside a forked RNG, so
the same project always starts from the same weights and the caller's random
state is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.analysis import Analysis, analyse
from engine.graph import Edge, Graph
from engine.layers import layer_type


class CompileError(ValueError):
    """The graph has errors; `analysis` holds every diagnostic."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        lines = "\n".join(str(d) for d in analysis.errors[:20])
        super().__init__(f"the network has {len(analysis.errors)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Step:
    """One layer call in the forward pass: which node, and whose outputs it reads."""

    node: str
    inputs: tuple[str, ...]


class GraphModule(nn.Module):
    """The network a graph describes. Submodules are attributes named by node id."""

    def __init__(
        self, steps: list[Step], input_id: str, output_source: str, layers: dict[str, nn.Module]
    ):
        super().__init__()
        for node_id, module in layers.items():
            self.add_module(node_id, module)
        self.steps = steps
        self.input_id = input_id
        self.output_source = output_source

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {self.input_id: x}
        for step in self.steps:
            layer = getattr(self, step.node)
            values[step.node] = layer(*(values[i] for i in step.inputs))
        return values[self.output_source]


def compile_graph(graph: Graph, seed: int = 0, analysis: Analysis | None = None) -> GraphModule:
    """Build the module for a valid graph; raises CompileError listing the problems otherwise."""
    analysis = analysis or analyse(graph)
    if not analysis.ok:
        raise CompileError(analysis)
    incoming = _incoming(graph)
    needed = _needed_nodes(graph, incoming)
    input_node = next(n for n in graph if n.type == "Input")
    output_node = next(n for n in graph if n.type == "Output")
    steps: list[Step] = []
    layers: dict[str, nn.Module] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for node_id in analysis.order:
            node = graph.nodes[node_id]
            layer = layer_type(node.type)
            if node_id not in needed or layer is None or layer.build is None:
                continue
            sources = _input_sources(incoming, node_id, [p.name for p in layer.inputs])
            in_shapes = [analysis.nodes[s].shape for s in sources]
            layers[node_id] = layer.build(layer.resolved(node.params), in_shapes)  # type: ignore[arg-type]
            steps.append(Step(node_id, tuple(sources)))
    (output_source,) = _input_sources(incoming, output_node.id, ["in"])
    return GraphModule(steps, input_node.id, output_source, layers)


def _incoming(graph: Graph) -> dict[str, list[Edge]]:
    """Wires into each node, in the order they were drawn (built once: graphs reach thousands of nodes)."""
    incoming: dict[str, list[Edge]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if edge.target.node in incoming:
            incoming[edge.target.node].append(edge)
    return incoming


def _input_sources(incoming: dict[str, list[Edge]], node_id: str, ports: list[str]) -> list[str]:
    """Source node ids feeding `node_id`, port by port, wires in the order they were drawn."""
    return [e.source.node for port in ports for e in incoming[node_id] if e.target.port == port]


def _needed_nodes(graph: Graph, incoming: dict[str, list[Edge]]) -> set[str]:
    """Nodes whose output reaches the Output; others are left out of the module."""
    needed: set[str] = set()
    stack = [n.id for n in graph if n.type == "Output"]
    while stack:
        current = stack.pop()
        if current not in needed:
            needed.add(current)
            stack.extend(e.source.node for e in incoming[current])
    return needed


def example_input(graph: Graph, batch: int = 2, seed: int = 0) -> torch.Tensor:
    """A random batch shaped like the Input node says (token ids for int64 inputs)."""
    node = next(n for n in graph if n.type == "Input")
    layer = layer_type("Input")
    assert layer is not None
    params = layer.resolved(node.params)
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, *params["shape"])
    if params["dtype"] == "int64":
        vocab = min(
            (n.params.get("num_embeddings", 32) for n in graph if n.type == "Embedding"), default=2
        )
        return torch.randint(0, int(vocab), shape, generator=generator)
    return torch.randn(shape, generator=generator)
