"""What each hidden unit of a 2-D network responds to, over the whole input plane.

As TensorFlow Playground draws it: for a network whose Input has two
features, every point of a grid over the data is run through the network and
each unit's output there becomes one small picture. The first layer's units
are lines and ramps; deeper ones combine them into the bends that separate
the classes. `neuron_nodes` picks the layers that have units to show: the
activations (what a unit passes on) and the last layer (the answer).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from engine.analysis import Analysis
from engine.explain.layers import layer_outputs
from engine.graph import Graph
from engine.layers import layer_type

GRID = 40  # cells per side of each unit's picture
MOST_UNITS = 16  # shown per layer
PAD = 0.08


def is_plane(analysis: Analysis) -> bool:
    """The network reads 2 numbers per sample: its input is a plane."""
    return tuple(analysis.input_shape or ()) == (2,) and not analysis.reads_tokens


def neuron_nodes(graph: Graph, analysis: Analysis) -> list[str]:
    """The layers whose units get pictures: each activation with a vector output, and the
    layer whose output is the network's answer."""
    last = None
    output = analysis.output_id
    if output is not None and analysis.nodes.get(output) is not None:
        sources = analysis.nodes[output].sources
        last = sources[0].node if sources else None
    found = []
    for node_id in analysis.order:
        node = graph.nodes.get(node_id)
        info = analysis.nodes.get(node_id)
        if node is None or info is None or node_id not in analysis.used or info.shape is None:
            continue
        layer = layer_type(node.type)
        vector = len(info.shape) == 1
        if vector and (node_id == last or (layer is not None and layer.category == "Activation")):
            found.append(node_id)
    return found


def plane_bounds(x: np.ndarray) -> np.ndarray:
    """(2, 2): low and high of each feature, padded a little (as the Regions tab draws)."""
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((high - low) * PAD, 1e-3)
    return np.stack([low - pad, high + pad], axis=1).astype(np.float32)


def plane_grid(bounds: np.ndarray, size: int = GRID) -> torch.Tensor:
    """size x size points over `bounds`, row by row from the bottom (y grows with the row)."""
    xs = np.linspace(bounds[0, 0], bounds[0, 1], size, dtype=np.float32)
    ys = np.linspace(bounds[1, 0], bounds[1, 1], size, dtype=np.float32)
    xx, yy = np.meshgrid(xs, ys)
    return torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1))


def responses(
    model: nn.Module,
    grid: torch.Tensor,
    nodes: list[str],
    size: int = GRID,
    device: torch.device | str = "cpu",
) -> dict[str, np.ndarray]:
    """For each node, its first `MOST_UNITS` units' outputs over the grid: (units, size, size)."""
    outputs, _answer = layer_outputs(model, grid.to(device), nodes)
    found: dict[str, np.ndarray] = {}
    for node_id, values in outputs.items():
        flat = values.float().reshape(len(values), -1)[:, :MOST_UNITS].cpu().numpy()
        found[node_id] = np.ascontiguousarray(flat.T.reshape(-1, size, size))
    return found
