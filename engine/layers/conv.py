"""Convolutions, pooling and upsampling for 1-D signals, 2-D images and 3-D volumes.

One factory per kind of layer makes its 1-D, 2-D and 3-D variants, so the three
can never drift apart in parameters, checks or help.
"""

from __future__ import annotations

import math

from engine.layers._shape import expect_rank, fmt, window_output
from engine.layers.base import (
    Call,
    LayerType,
    Param,
    Params,
    Shape,
    ShapeError,
    call,
    numel,
    per_axis,
)

_AXES_NAME = {1: "signals C x L", 2: "images C x H x W", 3: "volumes C x D x H x W"}
_CONV_SHAPES = {
    1: "C x L -> out_channels x L'",
    2: "C x H x W -> out_channels x H' x W'",
    3: "C x D x H x W -> out_channels x D' x H' x W'",
}
_WHAT = {1: "a signal", 2: "an image", 3: "a volume (a video clip, a CT or MRI scan)"}
_ICON = {1: "mdi6.chart-timeline-variant", 2: "mdi6.grid", 3: "mdi6.cube-outline"}


def _kernel_params(default_kernel: int) -> tuple[Param, ...]:
    return (
        Param(
            "kernel_size",
            "size",
            default_kernel,
            "Window size (one number, or one per axis).",
            minimum=1,
            badge="k {}",
        ),
        Param(
            "stride", "size", 1, "Step between windows; 2 halves the size.", minimum=1, badge="s {}"
        ),
        Param(
            "padding",
            "size",
            0,
            "Zeros added on each side; kernel_size // 2 keeps the size.",
            minimum=0,
            badge="pad {}",
        ),
        Param("dilation", "size", 1, "Spacing between kernel taps (widens the view).", minimum=1),
    )


def _conv(axes: int) -> LayerType:
    def infer(p: Params, ins: list[Shape]) -> Shape:
        expect_rank(ins[0], (axes + 1,), _AXES_NAME[axes])
        channels = ins[0][0]
        if channels % p["groups"] or p["out_channels"] % p["groups"]:
            raise ShapeError(
                f"groups ({p['groups']}) must divide both the input channels ({channels}) "
                f"and out_channels ({p['out_channels']})",
                param="groups",
            )
        return (p["out_channels"], *window_output(ins[0][1:], dict(p), axes))

    def weights(p: Params, ins: list[Shape]) -> int:
        k = math.prod(per_axis(p["kernel_size"], axes))
        return p["out_channels"] * (ins[0][0] // p["groups"]) * k + (
            p["out_channels"] if p["bias"] else 0
        )

    def macs(p: Params, ins: list[Shape], out: Shape) -> int:
        return numel(out) * (ins[0][0] // p["groups"]) * math.prod(per_axis(p["kernel_size"], axes))

    name = f"Conv{axes}d"
    return LayerType(
        name=name,
        category="Convolution",
        icon=_ICON[axes],
        help=(
            f"Slides learned filters over {_WHAT[axes]}: "
            f"{_CONV_SHAPES[axes]}. "
            "Finds local patterns wherever they are; padding = kernel_size // 2 keeps the size."
        ),
        params=(
            Param(
                "out_channels",
                "int",
                16,
                "Number of filters (output channels).",
                minimum=1,
                badge="{} ch",
            ),
            *_kernel_params(3),
            Param(
                "groups",
                "int",
                1,
                "Split channels into independent groups (depthwise = channels).",
                minimum=1,
            ),
            Param("bias", "bool", True, "Learn a bias per output channel."),
        ),
        infer=infer,
        module=lambda p, ins: call(
            f"nn.{name}",
            ins[0][0],
            p["out_channels"],
            kernel_size=p["kernel_size"],
            stride=p["stride"],
            padding=p["padding"],
            dilation=p["dilation"],
            groups=p["groups"],
            bias=p["bias"],
        ),
        count_params=weights,
        macs=macs,
        summary=("out_channels", "kernel_size", "stride"),
        channel_axis=0,
    )


def _conv_transpose_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (3,), _AXES_NAME[2])
    kernel, stride = per_axis(p["kernel_size"], 2), per_axis(p["stride"], 2)
    padding, extra = per_axis(p["padding"], 2), per_axis(p["output_padding"], 2)
    if any(e >= s for e, s in zip(extra, stride)):
        raise ShapeError("output_padding must be smaller than stride", param="output_padding")
    out = tuple(
        (n - 1) * s - 2 * pad + k + e
        for n, s, pad, k, e in zip(ins[0][1:], stride, padding, kernel, extra)
    )
    if any(o < 1 for o in out):
        raise ShapeError(
            f"the output would be empty ({fmt(out)})", param="padding", hint="reduce padding"
        )
    return (p["out_channels"], *out)


CONV_TRANSPOSE_2D = LayerType(
    name="ConvTranspose2d",
    category="Convolution",
    icon="mdi6.arrow-expand-all",
    help=(
        'A learned upsampling ("deconvolution"): with kernel 2 and stride 2, C x H x W -> '
        "out_channels x 2H x 2W. Used in decoders, autoencoders and GAN generators."
    ),
    params=(
        Param("out_channels", "int", 16, "Number of output channels.", minimum=1, badge="{} ch"),
        Param("kernel_size", "size", 2, "Window size.", minimum=1, badge="k {}"),
        Param("stride", "size", 2, "Upsampling factor.", minimum=1, badge="s {}"),
        Param(
            "padding", "size", 0, "Trims this many pixels from each side of the output.", minimum=0
        ),
        Param(
            "output_padding",
            "size",
            0,
            "Extra pixels on one side (smaller than stride).",
            minimum=0,
        ),
        Param("bias", "bool", True, "Learn a bias per output channel."),
    ),
    infer=_conv_transpose_shape,
    module=lambda p, ins: call(
        "nn.ConvTranspose2d",
        ins[0][0],
        p["out_channels"],
        kernel_size=p["kernel_size"],
        stride=p["stride"],
        padding=p["padding"],
        output_padding=p["output_padding"],
        bias=p["bias"],
    ),
    count_params=lambda p, ins: (
        ins[0][0] * p["out_channels"] * math.prod(per_axis(p["kernel_size"], 2))
        + (p["out_channels"] if p["bias"] else 0)
    ),
    macs=lambda p, ins, out: (
        numel(ins[0]) * p["out_channels"] * math.prod(per_axis(p["kernel_size"], 2))
    ),
    summary=("out_channels", "kernel_size", "stride"),
    channel_axis=0,
)


def _pool_params(kind: str) -> tuple[Param, ...]:
    """Max pooling can spread its window (dilation); an average can leave padding out."""
    common = (
        Param("kernel_size", "size", 2, "Window size.", minimum=1, badge="k {}"),
        Param(
            "stride",
            "size",
            None,
            "Step between windows (empty = kernel_size).",
            minimum=1,
            optional=True,
        ),
        Param("padding", "size", 0, "Padding on each side (at most half the kernel).", minimum=0),
        Param("ceil_mode", "bool", False, "Round the output size up instead of down."),
    )
    if kind == "Max":
        return (
            *common,
            Param(
                "dilation", "size", 1, "Spacing between window taps (widens the view).", minimum=1
            ),
        )
    return (
        *common,
        Param(
            "count_include_pad",
            "bool",
            True,
            "Count the padding in each average (off: average only the real values under the "
            "window, as ONNX files usually do).",
        ),
    )


def _pool(kind: str, axes: int) -> LayerType:
    name = f"{kind}Pool{axes}d"

    def infer(p: Params, ins: list[Shape]) -> Shape:
        expect_rank(ins[0], (axes + 1,), _AXES_NAME[axes])
        return (
            ins[0][0],
            *window_output(ins[0][1:], dict(p), axes, ceil=p["ceil_mode"], pooling=True),
        )

    def module(p: Params, ins: list[Shape]) -> Call:
        extra = (
            {"dilation": p["dilation"]}
            if kind == "Max"
            else {"count_include_pad": p["count_include_pad"]}
        )
        return call(
            f"nn.{name}",
            kernel_size=p["kernel_size"],
            stride=p["stride"] if p["stride"] is not None else p["kernel_size"],
            padding=p["padding"],
            ceil_mode=p["ceil_mode"],
            **extra,
        )

    what = "largest" if kind == "Max" else "average"
    halves = {1: "L -> L/2", 2: "H x W -> H/2 x W/2", 3: "D x H x W -> D/2 x H/2 x W/2"}
    return LayerType(
        name=name,
        category="Pooling",
        icon="mdi6.arrow-collapse-all" if kind == "Max" else "mdi6.blur",
        help=(
            f"Keeps the {what} value of each window, shrinking {_WHAT[axes]}: "
            f"with kernel 2, {halves[axes]}; channels unchanged. Adds tolerance to small shifts."
        ),
        params=_pool_params(kind),
        infer=infer,
        module=module,
        macs=lambda p, ins, out: numel(out) * math.prod(per_axis(p["kernel_size"], axes)),
        summary=("kernel_size",),
    )


def _adaptive(axes: int) -> LayerType:
    name = f"AdaptiveAvgPool{axes}d"

    def infer(p: Params, ins: list[Shape]) -> Shape:
        expect_rank(ins[0], (axes + 1,), _AXES_NAME[axes])
        size = per_axis(p["output_size"], axes)
        if len(size) != axes:
            raise ShapeError(f"'output_size' needs {axes} numbers", param="output_size")
        return (ins[0][0], *size)

    return LayerType(
        name=name,
        category="Pooling",
        icon="mdi6.image-size-select-small",
        help=(
            "Averages each channel down to a fixed size whatever the input size; output_size 1 gives "
            "global average pooling (C x H x W -> C x 1 x 1), as ResNets use before their "
            "classifier."
        ),
        params=(
            Param(
                "output_size", "size", 1, "Size of each output channel.", minimum=1, badge="size {}"
            ),
        ),
        infer=infer,
        module=lambda p, ins: call(f"nn.{name}", p["output_size"]),
        macs=lambda p, ins, out: numel(ins[0]),
        summary=("output_size",),
    )


def _upsample_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (2, 3), "signals C x L or images C x H x W")
    return (ins[0][0], *(n * p["scale_factor"] for n in ins[0][1:]))


UPSAMPLE = LayerType(
    name="Upsample",
    category="Convolution",
    icon="mdi6.arrow-expand",
    help="Enlarges each feature map by an integer factor without learning: C x H x W -> C x 2H x 2W.",
    params=(
        Param(
            "scale_factor", "int", 2, "How many times larger.", minimum=1, maximum=16, badge="× {}"
        ),
        Param(
            "mode",
            "choice",
            "nearest",
            "How new pixels are filled.",
            choices=("nearest", "bilinear"),
        ),
    ),
    infer=_upsample_shape,
    module=lambda p, ins: call(
        "nn.Upsample",
        scale_factor=float(p["scale_factor"]),
        mode=p["mode"]
        if len(ins[0]) == 3
        else ("linear" if p["mode"] == "bilinear" else "nearest"),
    ),
    summary=("scale_factor",),
)


LAYERS = (
    _conv(1),
    _conv(2),
    _conv(3),
    CONV_TRANSPOSE_2D,
    _pool("Max", 1),
    _pool("Avg", 1),
    _pool("Max", 2),
    _pool("Avg", 2),
    _pool("Max", 3),
    _pool("Avg", 3),
    _adaptive(1),
    _adaptive(2),
    _adaptive(3),
    UPSAMPLE,
)
