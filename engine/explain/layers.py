"""The data as each layer sees it: a batch's outputs at every depth of the network, as points.

`depth_nodes` picks the layers worth a picture, in the order the data meets
them (a Dropout, Flatten or Reshape shows the same values as the layer before
it, so it is left out), those inside block uses by their path (``block1.conv1``);
a look draws at most `MAX_LAYERS` of them, those inside blocks shallowest first. `Representations.look` runs the batch once, in eval
mode and without gradients, with forward hooks only for that pass, and turns
each layer's outputs into 2-D and 3-D points (`projection.StableProjection`,
one per layer, so successive looks keep their points in place).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.analysis import Analysis
from engine.blocks import BLOCK
from engine.explain.projection import StableProjection
from engine.graph import Graph
from engine.layer_paths import SEP, layer_types, within
from engine.layers import layer_type

MAX_LAYERS = 48  # layers a look draws: the network's own, then those inside blocks
SAME_VALUES = ("Dropout", "Dropout2d", "Flatten", "Reshape", "Identity", "Output", "Permute")


@dataclass
class LayerPoints:
    """One layer at one look: its name and kind, and the batch as points."""

    node: str
    kind: str  # the layer type, as the palette names it
    units: int  # values per sample
    exact: bool
    explained: float  # share of the variance in the 3-D view's axes
    explained2: float
    points2: np.ndarray  # (N, 2) float32, about -1..1
    points3: np.ndarray  # (N, 3)


def depth_nodes(graph: Graph, analysis: Analysis, prefix: str = "") -> list[str]:
    """Every layer from the Input to the last before the Output whose values differ from the
    layer before it, in forward order. A token Input is left out: token numbers are names,
    not positions, so their layout means nothing. A block use is replaced by the layers it
    holds, by their path (``block1.conv1``): its own output is its last layer's."""
    found: list[str] = []
    for node_id in analysis.order:
        node = graph.nodes.get(node_id)
        info = analysis.nodes.get(node_id)
        if node is None or info is None or node_id not in analysis.used:
            continue
        if node.type == BLOCK:
            if info.inner is not None and info.block in graph.blocks and prefix.count(SEP) < 32:
                inner = graph.blocks[info.block]
                found.extend(depth_nodes(inner, info.inner, f"{prefix}{node_id}{SEP}"))
            continue
        if node.type in SAME_VALUES or len(info.shapes) != 1:
            continue
        if node_id == analysis.input_id and analysis.reads_tokens:
            continue
        if node_id != analysis.input_id or prefix:
            layer = layer_type(node.type)
            if layer is None or layer.module is None:
                continue
        found.append(prefix + node_id)
    return found


def layer_outputs(
    model: nn.Module, x: torch.Tensor, nodes: list[str]
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Each node's output for the batch `x` (the Input's is `x`), and the network's answer;
    a layer inside a block use named by its path (``block1.conv1``). Eval mode and no
    gradients for this pass only; the model's mode is restored after."""
    found: dict[str, torch.Tensor] = {}
    handles = []
    for node_id in nodes:
        try:
            module = model.get_submodule(node_id)
        except AttributeError:
            continue

        def keep(_m: nn.Module, _i: Any, out: Any, node_id: str = node_id) -> None:
            if isinstance(out, torch.Tensor):
                found[node_id] = out.detach()

        handles.append(module.register_forward_hook(keep))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            answer = model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    input_id = getattr(model, "input_id", None)
    if isinstance(input_id, str) and input_id in nodes:
        found[input_id] = x
    return {n: found[n] for n in nodes if n in found}, answer


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's linear algebra on one thread for a while. A look runs beside training and the
    window on a machine of few cores: OpenBLAS's threads spinning for a core the others hold
    made a 7 ms look take 500 ms. (The controller is made once; limiting costs microseconds.)"""
    with _blas().limit(limits=1, user_api="blas"):
        yield


class Representations:
    """Looks at one batch through every depth node, keeping each layer's projection stable."""

    def __init__(
        self, graph: Graph, analysis: Analysis, x: torch.Tensor, limit: int = MAX_LAYERS
    ) -> None:
        every = depth_nodes(graph, analysis)
        self.nodes, self.left_out = within(every, limit)  # a view each: a DenseNet's 370 won't do
        types = layer_types(graph)
        self.kinds = {n: types.get(n, "") for n in self.nodes}
        self.x = x
        self.projections = {n: StableProjection() for n in self.nodes}

    def look(self, model: nn.Module, device: torch.device | str = "cpu") -> list[LayerPoints]:
        outputs, _answer = layer_outputs(model, self.x.to(device), self.nodes)
        found: list[LayerPoints] = []
        for node_id, values in outputs.items():
            flat = values.float().reshape(len(values), -1).cpu().numpy()
            with one_blas_thread():
                seen = self.projections[node_id].update(flat)
            found.append(
                LayerPoints(
                    node_id,
                    self.kinds[node_id],
                    seen.units,
                    seen.exact,
                    seen.explained,
                    seen.explained2,
                    seen.points2,
                    seen.points3,
                )
            )
        return found


def colour_groups(y: torch.Tensor | None, classification: bool, bins: int = 6) -> np.ndarray:
    """What each point is coloured by: its class, or for a regression its target's band
    (quantiles of the first target value); all 0 when there is nothing to go by."""
    if y is None:
        return np.zeros(0, np.int64)
    if classification and y.dim() == 1:
        return y.cpu().numpy().astype(np.int64)
    values = y.reshape(len(y), -1)[:, 0].float().cpu().numpy()
    edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, values).astype(np.int64)
