"""Convolutions, pooling, upsampling and padding for 1-D signals and 2-D images."""

from __future__ import annotations

import math

from engine.layers._shape import expect_rank, fmt, window_output
from engine.layers.base import (
    LayerType,
    Param,
    Params,
    Shape,
    ShapeError,
    call,
    numel,
    per_axis,
)

_AXES_NAME = {1: "signals C x L", 2: "images C x H x W"}
_CONV_SHAPES = {1: "C x L -> out_channels x L'", 2: "C x H x W -> out_channels x H' x W'"}


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
        icon="mdi6.grid" if axes == 2 else "mdi6.chart-timeline-variant",
        help=(
            f"Slides learned filters over {'an image' if axes == 2 else 'a signal'}: "
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


def _pool(kind: str, axes: int) -> LayerType:
    name = f"{kind}Pool{axes}d"

    def infer(p: Params, ins: list[Shape]) -> Shape:
        expect_rank(ins[0], (axes + 1,), _AXES_NAME[axes])
        return (
            ins[0][0],
            *window_output(ins[0][1:], dict(p), axes, ceil=p["ceil_mode"], dilated=False),
        )

    what = "largest" if kind == "Max" else "average"
    return LayerType(
        name=name,
        category="Pooling",
        icon="mdi6.arrow-collapse-all" if kind == "Max" else "mdi6.blur",
        help=(
            f"Keeps the {what} value of each window, shrinking the {'image' if axes == 2 else 'signal'}: "
            "with kernel 2, H x W -> H/2 x W/2; channels unchanged. Adds tolerance to small shifts."
        ),
        params=(
            Param("kernel_size", "size", 2, "Window size.", minimum=1, badge="k {}"),
            Param(
                "stride",
                "size",
                None,
                "Step between windows (empty = kernel_size).",
                minimum=1,
                optional=True,
            ),
            Param(
                "padding", "size", 0, "Padding on each side (at most half the kernel).", minimum=0
            ),
            Param("ceil_mode", "bool", False, "Round the output size up instead of down."),
        ),
        infer=infer,
        module=lambda p, ins: call(
            f"nn.{name}",
            kernel_size=p["kernel_size"],
            stride=p["stride"] if p["stride"] is not None else p["kernel_size"],
            padding=p["padding"],
            ceil_mode=p["ceil_mode"],
        ),
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
            "global average pooling (C x H x W -> C x 1 x 1), as ResNets use before their classifier."
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


def _pad_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (3,), _AXES_NAME[2])
    left, right, top, bottom = p["padding"]
    c, h, w = ins[0]
    return (c, h + top + bottom, w + left + right)


PAD2D = LayerType(
    name="ZeroPad2d",
    category="Convolution",
    icon="mdi6.border-outside",
    help="Adds rows and columns of zeros around each feature map: [left, right, top, bottom].",
    params=(
        Param(
            "padding",
            "ints",
            [1, 1, 1, 1],
            "Zeros to add: left, right, top, bottom.",
            minimum=0,
            length=4,
            badge="pad {}",
        ),
    ),
    infer=_pad_shape,
    module=lambda p, ins: call("nn.ZeroPad2d", tuple(p["padding"])),
    summary=("padding",),
)

LAYERS = (
    _conv(1),
    _conv(2),
    CONV_TRANSPOSE_2D,
    _pool("Max", 1),
    _pool("Avg", 1),
    _pool("Max", 2),
    _pool("Avg", 2),
    _adaptive(1),
    _adaptive(2),
    UPSAMPLE,
    PAD2D,
)
