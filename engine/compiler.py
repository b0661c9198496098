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
from engine.graph import Graph, PortRef
from engine.layers import layer_type


class CompileError(ValueError):
    """The graph has errors; `analysis` holds every diagnostic."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        lines = "\n".join(str(d) for d in analysis.errors[:20])
        super().__init__(f"the network has {len(analysis.errors)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Step:
    """One layer call in the forward pass: which node, the values it reads and the ones it gives.

    A value is named by its node's id; the pieces a multi-output layer (a Split) gives are
    named ``node:port``, listed in `outputs` in port order."""

    node: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()  # empty: one value, named by the node


def value_name(ref: PortRef, graph: Graph) -> str:
    """The forward pass's name for the value leaving output `ref`."""
    layer = layer_type(graph.nodes[ref.node].type)
    return f"{ref.node}:{ref.port}" if layer is not None and layer.multi_output else ref.node


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
            out = layer(*(values[i] for i in step.inputs))
            if step.outputs:
                values.update(zip(step.outputs, out))
            else:
                values[step.node] = out
        return values[self.output_source]


def compile_graph(graph: Graph, seed: int = 0, analysis: Analysis | None = None) -> GraphModule:
    """Build the module for a valid graph; raises CompileError listing the problems otherwise."""
    analysis = analysis or analyse(graph)
    if not analysis.ok:
        raise CompileError(analysis)
    assert analysis.input_id is not None and analysis.output_id is not None
    steps: list[Step] = []
    layers: dict[str, nn.Module] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for node_id in analysis.order:
            layer = layer_type(graph.nodes[node_id].type)
            info = analysis.nodes[node_id]
            if node_id not in analysis.used or layer is None or layer.module is None:
                continue
            in_shapes = [analysis.nodes[s.node].shapes[s.port] for s in info.sources]
            layers[node_id] = layer.build(info.resolved, in_shapes)
            outputs = (
                tuple(f"{node_id}:{port}" for port in info.shapes) if layer.multi_output else ()
            )
            steps.append(Step(node_id, tuple(value_name(s, graph) for s in info.sources), outputs))
    (output_source,) = analysis.nodes[analysis.output_id].sources
    return GraphModule(steps, analysis.input_id, value_name(output_source, graph), layers)


def example_input(
    graph: Graph, batch: int = 2, seed: int = 0, analysis: Analysis | None = None
) -> torch.Tensor:
    """A random batch shaped like the Input node says (token ids for int64 inputs)."""
    analysis = analysis or analyse(graph)
    shape = (batch, *(analysis.input_shape or ()))
    generator = torch.Generator().manual_seed(seed)
    if analysis.token_ids is not None:
        return torch.randint(0, analysis.token_ids, shape, generator=generator)
    return torch.randn(shape, generator=generator)
