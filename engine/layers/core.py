"""Input, Output and the general-purpose layers (Linear, Flatten, Reshape, ...)."""

from __future__ import annotations

from engine.layers._shape import expect_rank, resolve_reshape
from engine.layers.base import LayerType, Param, Params, Shape, ShapeError, call, numel


def _input_shape(p: Params, ins: list[Shape]) -> Shape:
    return tuple(p["shape"])


INPUT = LayerType(
    name="Input",
    category="Input / Output",
    icon="mdi6.import",
    help=(
        "Where data enters the network. Its shape is one sample without the batch axis: "
        "64 for 64 features, 1x8x8 for a grey 8x8 image, 20 for 20 token ids. "
        "Choose int64 for token ids that feed an Embedding."
    ),
    params=(
        Param(
            "shape",
            "ints",
            [64],
            "Shape of one sample, without the batch axis.",
            minimum=1,
            badge="{}",
        ),
        Param(
            "dtype",
            "choice",
            "float32",
            "float32 for measurements and pixels; int64 for token ids.",
            choices=("float32", "int64"),
        ),
    ),
    infer=_input_shape,
    module=None,
    inputs=(),
    summary=("shape",),
)

OUTPUT = LayerType(
    name="Output",
    category="Input / Output",
    icon="mdi6.export",
    help=(
        "Where the network's prediction leaves it. For classification, feed it one score "
        "per class (the loss applies softmax itself); for regression, the predicted values."
    ),
    params=(),
    infer=lambda p, ins: ins[0],
    module=None,
    outputs=(),
    input_kind="any",
)


def _linear_shape(p: Params, ins: list[Shape]) -> Shape:
    (shape,) = ins
    if not shape:
        raise ShapeError("expects at least one axis of features", hint="add a Reshape before it")
    return (*shape[:-1], p["out_features"])


LINEAR = LayerType(
    name="Linear",
    category="Dense",
    icon="mdi6.vector-polyline",
    help=(
        "A fully connected layer: every output is a weighted sum of all inputs plus a bias. "
        "Acts on the last axis: N -> out_features (a sequence T x N becomes T x out_features). "
        "The workhorse of MLPs and classifier heads."
    ),
    params=(
        Param("out_features", "int", 64, "Number of outputs (neurons).", minimum=1, badge="{} out"),
        Param("bias", "bool", True, "Learn an additive bias for each output."),
    ),
    infer=_linear_shape,
    module=lambda p, ins: call("nn.Linear", ins[0][-1], p["out_features"], bias=p["bias"]),
    count_params=lambda p, ins: (
        ins[0][-1] * p["out_features"] + (p["out_features"] if p["bias"] else 0)
    ),
    macs=lambda p, ins, out: numel(out) * ins[0][-1],
    summary=("out_features",),
    channel_axis=-1,
)


def _flatten_shape(p: Params, ins: list[Shape]) -> Shape:
    return (numel(ins[0]),)


FLATTEN = LayerType(
    name="Flatten",
    category="Reshape",
    icon="mdi6.arrow-collapse-horizontal",
    help="Turns each sample into one long vector: 32x4x4 -> 512. Put it between convolutions and Linear layers.",
    params=(),
    infer=_flatten_shape,
    module=lambda p, ins: call("nn.Flatten"),
    input_kind="any",
)


def _reshape_shape(p: Params, ins: list[Shape]) -> Shape:
    return resolve_reshape(tuple(p["shape"]), numel(ins[0]))


RESHAPE = LayerType(
    name="Reshape",
    category="Reshape",
    icon="mdi6.resize",
    help=(
        "Rearranges each sample into a new shape with the same number of values: 64 -> 1x8x8. "
        "One axis may be -1 to be worked out."
    ),
    params=(
        Param(
            "shape",
            "ints",
            [-1],
            "New shape of one sample; one axis may be -1.",
            minimum=-1,
            badge="{}",
        ),
    ),
    infer=_reshape_shape,
    module=lambda p, ins: call("Reshape", _reshape_shape(p, ins)),
    input_kind="any",
    summary=("shape",),
)


def _permute_shape(p: Params, ins: list[Shape]) -> Shape:
    order = list(p["order"])
    if sorted(order) != list(range(len(ins[0]))):
        raise ShapeError(
            f"'order' must list each of the {len(ins[0])} sample axes once (0 to {len(ins[0]) - 1}), got {order}",
            param="order",
        )
    return tuple(ins[0][i] for i in order)


PERMUTE = LayerType(
    name="Permute",
    category="Reshape",
    icon="mdi6.swap-horizontal",
    help=(
        "Reorders the axes of each sample: with order [1, 0] a sequence T x F becomes F x T. "
        "Useful between Conv1d (channels first) and RNNs (steps first)."
    ),
    params=(
        Param("order", "ints", [1, 0], "New order of the sample axes (0 is the first).", minimum=0),
    ),
    infer=_permute_shape,
    module=lambda p, ins: call("Permute", tuple(p["order"])),
    input_kind="any",
    summary=("order",),
)

DROPOUT = LayerType(
    name="Dropout",
    category="Regularization",
    icon="mdi6.dots-hexagon",
    help=(
        "While training, zeroes a random fraction p of the values and scales the rest up; "
        "does nothing at inference. Shape is unchanged. Fights overfitting."
    ),
    params=(Param("p", "float", 0.5, "Fraction of values dropped while training.", 0.0, 0.99),),
    infer=lambda p, ins: ins[0],
    module=lambda p, ins: call("nn.Dropout", p["p"]),
    summary=("p",),
)

DROPOUT2D = LayerType(
    name="Dropout2d",
    category="Regularization",
    icon="mdi6.dots-grid",
    help="Dropout of whole feature maps (channels) of a C x H x W input while training. Shape unchanged.",
    params=(Param("p", "float", 0.2, "Fraction of channels dropped while training.", 0.0, 0.99),),
    infer=lambda p, ins: expect_rank(ins[0], (3,), "feature maps C x H x W"),
    module=lambda p, ins: call("nn.Dropout2d", p["p"]),
    summary=("p",),
)

IDENTITY = LayerType(
    name="Identity",
    category="Reshape",
    icon="mdi6.equal",
    help="Passes its input through unchanged. Handy as a named junction or placeholder.",
    params=(),
    infer=lambda p, ins: ins[0],
    module=lambda p, ins: call("nn.Identity"),
    input_kind="any",
)


def _embedding_shape(p: Params, ins: list[Shape]) -> Shape:
    return (*ins[0], p["embedding_dim"])


EMBEDDING = LayerType(
    name="Embedding",
    category="Sequence",
    icon="mdi6.alphabetical-variant",
    help=(
        "Looks up a learned vector for each token id: a sequence of T ids becomes T x embedding_dim. "
        "Needs an int64 Input; ids must be below num_embeddings."
    ),
    params=(
        Param(
            "num_embeddings",
            "int",
            32,
            "Vocabulary size: how many different token ids exist.",
            minimum=1,
            badge="vocab {}",
        ),
        Param(
            "embedding_dim", "int", 32, "Length of each token's vector.", minimum=1, badge="dim {}"
        ),
    ),
    infer=_embedding_shape,
    module=lambda p, ins: call("nn.Embedding", p["num_embeddings"], p["embedding_dim"]),
    count_params=lambda p, ins: p["num_embeddings"] * p["embedding_dim"],
    input_kind="int",
    summary=("num_embeddings", "embedding_dim"),
)


LAYERS = (INPUT, OUTPUT, LINEAR, FLATTEN, RESHAPE, PERMUTE, DROPOUT, DROPOUT2D, IDENTITY, EMBEDDING)
