"""Graph -> a real `nn.Module`: one submodule per node, named by the node's id.

The module runs its layers in topological order, so branches and merges work
as drawn. A network may read several inputs: `forward` takes them in the order
of the Input nodes in the graph, each named by its node. Initialization draws from the project seed inside a forked RNG, so
the same project always starts from the same weights and the caller's random
state is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from engine.analysis import Analysis, analyse
from engine.blocks import BLOCK, BLOCK_OUTPUT, boundary_ids, layer_for
from engine.graph import Graph, PortRef


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
    # the layer's type and every setting, defaults filled in: what it computes, whatever it
    # is called (engine/weights_follow.py labels layers with it)
    settings: str = ""


def value_name(ref: PortRef, graph: Graph) -> str:
    """The forward pass's name for the value leaving output `ref`."""
    layer = layer_for(graph.nodes[ref.node], graph.blocks)
    return f"{ref.node}:{ref.port}" if layer is not None and layer.multi_output else ref.node


class GraphModule(nn.Module):
    """The network a graph describes. Submodules are attributes named by node id."""

    def __init__(
        self,
        steps: list[Step],
        input_ids: tuple[str, ...],
        output_source: str | tuple[str, ...],
        layers: dict[str, nn.Module],
    ):
        super().__init__()
        for node_id, module in layers.items():
            self.add_module(node_id, module)
        self.steps = steps
        self.input_ids = tuple(input_ids)
        self.input_id = self.input_ids[0]  # the first (for callers that feed one)
        # the values it returns: one for a network; a block may give several (a tuple)
        self.output_sources = (output_source,) if isinstance(output_source, str) else output_source
        self.output_source = self.output_sources[0]

    def forward(self, *inputs: torch.Tensor) -> Any:
        if len(inputs) != len(self.input_ids):
            names = ", ".join(self.input_ids)
            raise TypeError(
                f"the network reads {len(self.input_ids)} input(s) ({names}), "
                f"but {len(inputs)} were given"
            )
        values: dict[str, torch.Tensor] = dict(zip(self.input_ids, inputs))
        for step in self.steps:
            layer = getattr(self, step.node)
            out = layer(*(values[i] for i in step.inputs))
            if step.outputs:
                values.update(zip(step.outputs, out))
            else:
                values[step.node] = out
        if len(self.output_sources) > 1:
            return tuple(values[name] for name in self.output_sources)
        return values[self.output_source]


class BlockModule(GraphModule):
    """One use of a block definition: its layers as a nested module, so weights are named
    ``layer1.0.conv1.weight``. It reads its BlockInputs in order, returns its BlockOutputs."""

    def __init__(
        self,
        block: str,
        steps: list[Step],
        input_ids: tuple[str, ...],
        output_sources: tuple[str, ...],
        layers: dict[str, nn.Module],
    ):
        super().__init__(steps, input_ids, output_sources, layers)
        # underscored: layers are attributes named by node id, and `block` is a fine node id
        self._block_name = block

    def extra_repr(self) -> str:
        return f"block={self._block_name!r}"


def compile_graph(graph: Graph, seed: int = 0, analysis: Analysis | None = None) -> GraphModule:
    """Build the module for a valid graph; raises CompileError listing the problems otherwise."""
    analysis = analysis or analyse(graph)
    if not analysis.ok:
        raise CompileError(analysis)
    assert analysis.input_id is not None and analysis.output_id is not None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        steps, layers = _build(graph, analysis)
    (output_source,) = analysis.nodes[analysis.output_id].sources
    return GraphModule(steps, analysis.input_ids, value_name(output_source, graph), layers)


def _build(graph: Graph, analysis: Analysis) -> tuple[list[Step], dict[str, nn.Module]]:
    """The forward steps and the layer modules of a valid graph (a network or a block's
    definition), in topological order; a block node becomes a nested BlockModule."""
    steps: list[Step] = []
    layers: dict[str, nn.Module] = {}
    for node_id in analysis.order:
        node = graph.nodes[node_id]
        layer = layer_for(node, graph.blocks)
        info = analysis.nodes[node_id]
        if node_id not in analysis.used or layer is None:
            continue
        if node.type == BLOCK:
            assert info.block is not None and info.inner is not None
            layers[node_id] = _build_block(info.block, graph.blocks[info.block], info.inner)
        elif layer.module is None:
            continue
        else:
            in_shapes = [analysis.nodes[s.node].shapes[s.port] for s in info.sources]
            layers[node_id] = layer.build(info.resolved, in_shapes)
        outputs = tuple(f"{node_id}:{port}" for port in info.shapes) if layer.multi_output else ()
        # a layer with no wire in (a Parameter) reads the first input for the batch size
        reads = (
            (str(analysis.input_id),)
            if layer.sized_by_batch
            else tuple(value_name(s, graph) for s in info.sources)
        )
        settings = "" if node.type == BLOCK else repr((node.type, _settings(info.resolved)))
        steps.append(Step(node_id, reads, outputs, settings))
    return steps, layers


def _settings(values: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((key, repr(value)) for key, value in values.items())


def _build_block(name: str, definition: Graph, inner: Analysis) -> BlockModule:
    steps, layers = _build(definition, inner)
    outputs = tuple(
        value_name(inner.nodes[o].sources[0], definition)
        for o in boundary_ids(definition, BLOCK_OUTPUT)
    )
    return BlockModule(name, steps, inner.input_ids, outputs, layers)


def example_inputs(
    graph: Graph, batch: int = 2, seed: int = 0, analysis: Analysis | None = None
) -> tuple[torch.Tensor, ...]:
    """A random batch for each Input, in the network's order, shaped (and typed) as it says:
    token ids below the vocabulary for int64 inputs, normal values for the others."""
    analysis = analysis or analyse(graph)
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for node_id in analysis.input_ids:
        info = analysis.nodes.get(node_id)
        shape = (batch, *(info.shape or () if info is not None else ()))
        if info is not None and info.resolved.get("dtype") == "int64":
            vocabulary = analysis.vocabulary.size if analysis.vocabulary is not None else 2
            batches.append(torch.randint(0, vocabulary, shape, generator=generator))
        else:
            batches.append(torch.randn(shape, generator=generator))
    return tuple(batches)


def example_input(
    graph: Graph, batch: int = 2, seed: int = 0, analysis: Analysis | None = None
) -> torch.Tensor:
    """A random batch shaped like the (first) Input node says (token ids for int64 inputs)."""
    return example_inputs(graph, batch, seed, analysis)[0]
