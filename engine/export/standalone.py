"""A file that stands alone: the fitted input scaling inside the graph, its meaning in metadata.

Training scales every sample with statistics fitted on the training split
(engine.data.scaling); a network exported without them answers wrongly, and
silently, when it is given raw samples. So the ONNX export puts
``(x - offset) / scale`` in front of the network as its first two operators
(a Sub and a Div, the same arithmetic training did) and records the class
names, what the input is and the scaling in ``metadata_props``; the Python
export writes the same step into ``forward``. ``--no-scaling`` leaves the
step out for callers who scale their samples themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.data.scaling import scaling_affine
from engine.training.checkpoints import SCALING_KEY

if TYPE_CHECKING:
    from engine.analysis import Analysis
    from engine.project import Project

INPUT_KEY = "netwright.input"  # JSON: what one sample of the input is, and how it is scaled
CLASS_LABELS_KEY = "class_labels"  # JSON list: the name of each output class, in order
SCALING_NODES = ("netwright_scaling_sub", "netwright_scaling_div")


@dataclass(frozen=True)
class InputScaling:
    """The scaling training fitted, as arrays broadcasting against one input sample."""

    stats: dict[str, Any]  # as engine.data.scaling records it
    offset: np.ndarray
    scale: np.ndarray

    def describe(self) -> str:
        per = {"feature": "per feature", "channel": "per channel", "all": "one for all values"}
        return (
            f"{self.stats.get('method', '?')} scaling, {per.get(self.stats.get('per', ''), '')} "
            f"({self.offset.size} offset(s) and scale(s))"
        )


def fitted_scaling(
    project: Project, analysis: Analysis, weights_metadata: dict[str, str]
) -> tuple[InputScaling | None, str]:
    """The scaling that belongs in front of the network, and a line saying what was found.

    The weights' own record wins (what the network was trained with), else the project's
    ``dataset.scaling_statistics``. None for a network reading token ids or several inputs,
    and for a GAN (its generator reads noise: the scaling is the data's, its output's)."""
    text = weights_metadata.get(SCALING_KEY)
    stats = json.loads(text) if text else project.dataset.get("scaling_statistics")
    if not isinstance(stats, dict) or "offset" not in stats or "scale" not in stats:
        return (
            None,
            "none: the project has no fitted scaling (training fits it), inputs go in as given",
        )
    if project.is_multi_network:
        return None, "not in the graph: the generator reads noise (the scaling is its output's)"
    if len(analysis.input_ids) != 1 or analysis.reads_tokens:
        return None, "not in the graph: the network does not read one input of float values"
    shape = tuple(analysis.input_shape or ())
    offset, scale = scaling_affine(stats, shape)
    try:
        fits = np.broadcast_shapes(offset.shape, scale.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        return None, (
            f"not in the graph: the fitted scaling ({offset.size} values) does not fit the "
            f"Input's shape {'x'.join(map(str, shape))}; train again to refit it"
        )
    scaling = InputScaling(stats, offset.astype(np.float32), scale.astype(np.float32))
    return scaling, f"in the graph: {scaling.describe()}; feed raw samples"


class ScaledNetwork(torch.nn.Module):
    """The network behind the scaling step, for checking an exported file against torch."""

    def __init__(self, network: torch.nn.Module, scaling: InputScaling) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("offset", torch.from_numpy(scaling.offset.copy()), persistent=False)
        self.register_buffer("scale", torch.from_numpy(scaling.scale.copy()), persistent=False)

    offset: torch.Tensor
    scale: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network((x - self.offset) / self.scale)  # type: ignore[no-any-return]


def prepend_scaling(model: Any, input_name: str, scaling: InputScaling) -> None:
    """Put ``(input - offset) / scale`` in front of every node that reads `input_name`."""
    from onnx import helper, numpy_helper

    taken = {name for node in model.graph.node for name in (*node.input, *node.output)}
    taken |= {t.name for t in model.graph.initializer}

    def fresh(base: str) -> str:
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        return name

    offset, scale = fresh("netwright_scaling_offset"), fresh("netwright_scaling_scale")
    centred, scaled = fresh(f"{input_name}_centred"), fresh(f"{input_name}_scaled")
    for node in model.graph.node:
        for index, name in enumerate(node.input):
            if name == input_name:
                node.input[index] = scaled
    nodes = [
        helper.make_node("Sub", [input_name, offset], [centred], name=SCALING_NODES[0]),
        helper.make_node("Div", [centred, scale], [scaled], name=SCALING_NODES[1]),
        *model.graph.node,
    ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    model.graph.initializer.extend(
        [
            numpy_helper.from_array(scaling.offset, offset),
            numpy_helper.from_array(scaling.scale, scale),
        ]
    )


def class_names(project: Project) -> list[str] | None:
    """The project's own class names, else those of its bundled data set (digits: 0-9,
    iris: setosa, versicolor, virginica); None for regression or unnamed classes."""
    listed = project.dataset.get("classes")
    if isinstance(listed, list) and listed:
        return [str(c) for c in listed]
    data = _builtin_data(project)
    names = getattr(data, "class_names", None)
    return list(names) if names else None


def input_meaning(
    project: Project,
    analysis: Analysis,
    scaling: InputScaling | None,
    in_graph: bool,
) -> dict[str, Any]:
    """What one sample of the (first) input is, for ``netwright.input``: its name, shape,
    type, where the data came from, the raw value range and whether scaling is in the graph."""
    input_id = analysis.input_ids[0] if analysis.input_ids else ""
    meaning: dict[str, Any] = {
        "name": input_id,
        "shape": list(analysis.input_shape or ()),
        "dtype": "int64" if analysis.reads_tokens else "float32",
    }
    source = project.dataset.get("source")
    if isinstance(source, str) and not project.is_multi_network:
        meaning["data"] = source
    data = None if project.is_multi_network else _builtin_data(project)
    description = getattr(data, "description", "")
    if description:
        meaning["description"] = description
    x = getattr(data, "x", None)
    if isinstance(x, np.ndarray) and x.size and x.dtype.kind == "f":
        meaning["value_range"] = [round(float(x.min()), 6), round(float(x.max()), 6)]
    if analysis.reads_tokens:
        meaning["values"] = "token ids"
    elif project.is_multi_network:
        meaning["values"] = "latent noise, standard normal"
    if scaling is not None:
        meaning["scaling"] = (
            "in the graph: feed raw samples"
            if in_graph
            else (
                "not in the graph: scale samples first, (x - offset) / scale, see netwright.scaling"
            )
        )
    return meaning


def _builtin_data(project: Project) -> Any:
    """The project's bundled data set when it names one (cached, cheap), else None: a user's
    own files are not read just to describe them."""
    source = project.dataset.get("source")
    if not isinstance(source, str) or not source.startswith("builtin:"):
        return None
    from engine.data.builtin import load_builtin
    from engine.data.dataset import DataError

    try:
        return load_builtin(source.partition(":")[2].strip())
    except (DataError, OSError):
        return None
