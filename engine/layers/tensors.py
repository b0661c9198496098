"""Tensors that read no wire: a learned Parameter and a fixed Constant.

Neither has an input port. Like every wire, theirs carries one value per sample: the one
tensor is handed to every sample of the batch (without copying it), so it can be wired into
any layer, a Concat before the patches of a ViT included. A Constant's numbers live in the
weights file beside the project (an import puts them there), never in the project itself.
"""

from __future__ import annotations

from engine.layers.base import LayerType, Param, Params, Shape, call, numel

CATEGORY = "Tensor"


def _shape(p: Params, ins: list[Shape]) -> Shape:
    return tuple(p["shape"])


_SHAPE = Param(
    "shape",
    "ints",
    [1, 32],
    "Shape of the tensor, per sample (no batch axis): 1x32 for one token of 32 features.",
    minimum=1,
    badge="{}",
)

PARAMETER = LayerType(
    name="Parameter",
    category=CATEGORY,
    icon="mdi6.cube-outline",
    help=(
        "A learned tensor with no input, trained like any weight: a ViT's class token (1 x d, "
        "wired into a Concat before the patches), its position embeddings (steps x d, added), "
        "a layer scale (channels x 1 x 1, multiplied). Every sample gets the same tensor."
    ),
    params=(
        _SHAPE,
        Param(
            "init",
            "choice",
            "normal",
            "How it starts: zeros, ones, every value 'scale', normal with standard deviation "
            "'scale', or uniform from -scale to scale.",
            choices=("zeros", "ones", "constant", "normal", "uniform"),
            badge="{}",
        ),
        Param(
            "scale",
            "float",
            0.02,
            "The standard deviation (normal), the half-width (uniform) or the value (constant).",
            minimum=0.0,
            maximum=1e6,
        ),
    ),
    infer=_shape,
    module=lambda p, ins: call("LearnableTensor", tuple(p["shape"]), p["init"], p["scale"]),
    inputs=(),
    count_params=lambda p, ins: numel(tuple(p["shape"])),
    macs=lambda p, ins, out: 0,
    summary=("shape", "init"),
    sized_by_batch=True,
)

CONSTANT = LayerType(
    name="Constant",
    category=CATEGORY,
    icon="mdi6.cube",
    help=(
        "A fixed tensor with no input, never trained: what an imported file holds as a "
        "constant (its numbers are kept in the weights file beside the project). Drawn by "
        "hand it holds 'value' everywhere: 1 for 1 - x with a Subtract. Every sample gets the "
        "same tensor."
    ),
    params=(
        _SHAPE,
        Param(
            "value",
            "float",
            0.0,
            "The value of every entry, until a weights file gives its own numbers.",
            badge="= {}",
        ),
    ),
    infer=_shape,
    module=lambda p, ins: call("ConstantTensor", tuple(p["shape"]), p["value"]),
    inputs=(),
    macs=lambda p, ins, out: 0,
    summary=("shape", "value"),
    sized_by_batch=True,
)

LAYERS = (PARAMETER, CONSTANT)
