"""Normalization layers: batch, instance, layer, group and local response normalization."""

from __future__ import annotations

from engine.layers._shape import expect_rank, fmt
from engine.layers.base import LayerType, Param, Params, Shape, ShapeError, call, numel

_EPS = Param(
    "eps", "float", 1e-5, "Small number added for numerical safety.", minimum=1e-12, maximum=1.0
)
_MOMENTUM = Param(
    "momentum", "float", 0.1, "How fast the running statistics follow new batches.", 0.0, 1.0
)


def _batch_norm(axes: int) -> LayerType:
    name = f"BatchNorm{axes}d"
    ranks = {1: (1, 2), 2: (3,), 3: (4,)}[axes]
    what = {
        1: "features N or channels C x L",
        2: "images C x H x W",
        3: "volumes C x D x H x W",
    }[axes]

    def infer(p: Params, ins: list[Shape]) -> Shape:
        expect_rank(ins[0], ranks, what)
        return ins[0]

    return LayerType(
        name=name,
        category="Normalization",
        icon="mdi6.chart-bell-curve",
        help=(
            "Normalizes each channel over the batch to zero mean and unit variance, then scales and "
            "shifts it with learned values. Shape unchanged. Makes deep networks train faster and steadier; "
            "put it between a convolution (or Linear) and its activation."
        ),
        params=(
            _EPS,
            _MOMENTUM,
            Param("affine", "bool", True, "Learn a scale and shift per channel."),
        ),
        infer=infer,
        module=lambda p, ins: call(
            f"nn.{name}", ins[0][0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"]
        ),
        count_params=lambda p, ins: 2 * ins[0][0] if p["affine"] else 0,
        macs=lambda p, ins, out: 2 * numel(out),
        channel_axis=0,
    )


LAYER_NORM = LayerType(
    name="LayerNorm",
    category="Normalization",
    icon="mdi6.chart-bell-curve-cumulative",
    help=(
        "Normalizes each sample over its last axis (the features of each step), then scales and shifts. "
        "Shape unchanged. The normalization Transformers use; works with any batch size."
    ),
    params=(
        _EPS,
        Param("elementwise_affine", "bool", True, "Learn a scale and shift per feature."),
    ),
    infer=lambda p, ins: ins[0],
    module=lambda p, ins: call(
        "nn.LayerNorm", ins[0][-1], eps=p["eps"], elementwise_affine=p["elementwise_affine"]
    ),
    count_params=lambda p, ins: 2 * ins[0][-1] if p["elementwise_affine"] else 0,
    macs=lambda p, ins, out: 2 * numel(out),
    channel_axis=-1,
)


def _group_norm_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (1, 2, 3), "channels first (C, C x L or C x H x W)")
    if ins[0][0] % p["num_groups"]:
        raise ShapeError(
            f"num_groups ({p['num_groups']}) must divide the {ins[0][0]} channels",
            param="num_groups",
        )
    return ins[0]


GROUP_NORM = LayerType(
    name="GroupNorm",
    category="Normalization",
    icon="mdi6.group",
    help=(
        "Normalizes groups of channels within each sample. Shape unchanged. A batch-size-independent "
        "alternative to BatchNorm for small batches."
    ),
    params=(
        Param(
            "num_groups",
            "int",
            4,
            "Number of channel groups; must divide the channels.",
            minimum=1,
            badge="{} groups",
        ),
        _EPS,
        Param("affine", "bool", True, "Learn a scale and shift per channel."),
    ),
    infer=_group_norm_shape,
    module=lambda p, ins: call(
        "nn.GroupNorm", p["num_groups"], ins[0][0], eps=p["eps"], affine=p["affine"]
    ),
    count_params=lambda p, ins: 2 * ins[0][0] if p["affine"] else 0,
    macs=lambda p, ins, out: 2 * numel(out),
    summary=("num_groups",),
    channel_axis=0,
)

LOCAL_RESPONSE_NORM = LayerType(
    name="LocalResponseNorm",
    category="Normalization",
    icon="mdi6.contrast-box",
    help="Divides each value by the activity of neighbouring channels (as in AlexNet). Shape unchanged.",
    params=(
        Param("size", "int", 5, "Number of neighbouring channels.", minimum=1),
        Param("alpha", "float", 1e-4, "Scale.", minimum=0.0),
        Param("beta", "float", 0.75, "Exponent.", minimum=0.0),
        Param("k", "float", 1.0, "Additive constant.", minimum=0.0),
    ),
    infer=lambda p, ins: expect_rank(ins[0], (2, 3), "channels first"),
    module=lambda p, ins: call(
        "nn.LocalResponseNorm", p["size"], alpha=p["alpha"], beta=p["beta"], k=p["k"]
    ),
    summary=("size",),
)


def _instance_norm_shape(p: Params, ins: list[Shape]) -> Shape:
    shape = expect_rank(ins[0], (2, 3, 4), "channels first: C x L, C x H x W or C x D x H x W")
    if numel(shape[1:]) < 2:
        raise ShapeError(
            f"needs more than one value per channel to normalize, but gets {fmt(shape)}",
            hint="normalize before the pooling that shrank it, or use LayerNorm",
        )
    return shape


INSTANCE_NORM = LayerType(
    name="InstanceNorm",
    category="Normalization",
    icon="mdi6.image-filter-center-focus-weak",
    help=(
        "Normalizes each channel of each sample on its own, over its length, height and width "
        "(or depth too): no batch statistics, so a sample's result never depends on the others "
        "in its batch. Shape unchanged; for channels-first signals, images and volumes. The "
        "normalization of style transfer and many image-to-image networks; with affine on, "
        "it learns a scale and shift per channel."
    ),
    params=(
        _EPS,
        Param("affine", "bool", False, "Learn a scale and shift per channel."),
    ),
    infer=_instance_norm_shape,
    module=lambda p, ins: call(
        f"nn.InstanceNorm{len(ins[0]) - 1}d", ins[0][0], eps=p["eps"], affine=p["affine"]
    ),
    count_params=lambda p, ins: 2 * ins[0][0] if p["affine"] else 0,
    macs=lambda p, ins, out: 2 * numel(out),
    channel_axis=0,
)

LAYERS = (
    _batch_norm(1),
    _batch_norm(2),
    _batch_norm(3),
    INSTANCE_NORM,
    LAYER_NORM,
    GROUP_NORM,
    LOCAL_RESPONSE_NORM,
)
