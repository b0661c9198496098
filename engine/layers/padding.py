"""Padding: widen (or crop) a signal, image or volume by any number of values on each side.

`Pad` takes one width per side of every spatial axis and pads with a constant,
a mirror image of the edge, copies of the edge or the opposite edge (wrapping
round), for 1-D, 2-D and 3-D maps alike. It is what the ONNX import puts in front
of a layer whose file pads unevenly. `ZeroPad2d`, the older image-only form, stays
for the projects that use it and for readers who know torch's layer of that name.
"""

from __future__ import annotations

from engine.layers._shape import expect_rank
from engine.layers.base import Call, LayerType, Param, Params, Shape, ShapeError, call

# widths are given as torch gives them: the last axis first, before then after
_SIDES = {
    1: "left, right",
    2: "left, right, top, bottom",
    3: "left, right, top, bottom, front, back",
}
_KIND = {1: "signals C x L", 2: "images C x H x W", 3: "volumes C x D x H x W"}
_AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_TORCH = {
    "constant": "ConstantPad",
    "reflect": "ReflectionPad",
    "replicate": "ReplicationPad",
    "circular": "CircularPad",
}


def widths(p: Params, axes: int) -> tuple[int, ...]:
    """The padding as torch reads it: (before, after) for the last axis, then the one before..."""
    value = p["padding"]
    if isinstance(value, (list, tuple)):
        if len(value) != 2 * axes:
            raise ShapeError(
                f"'padding' needs {2 * axes} numbers for {_KIND[axes]} "
                f"({_SIDES[axes]}), or one for every side (gets {len(value)})",
                param="padding",
            )
        return tuple(int(v) for v in value)
    return (int(value),) * (2 * axes)


def _pad_shape(p: Params, ins: list[Shape]) -> Shape:
    shape = expect_rank(ins[0], (2, 3, 4), "channels first: C x L, C x H x W or C x D x H x W")
    axes = len(shape) - 1
    sides = widths(p, axes)
    spatial = list(shape[1:])
    for axis in range(axes):
        before, after = sides[2 * axis], sides[2 * axis + 1]
        index = axes - 1 - axis  # torch lists the last axis first
        size, where = spatial[index], _AXIS_NAMES[axes][index]
        if p["mode"] == "reflect" and max(before, after) >= size:
            raise ShapeError(
                f"reflect padding must be smaller than the axis it mirrors: "
                f"{max(before, after)} on a {where} of {size}",
                param="padding",
                hint="pad less, or use 'replicate'",
            )
        if p["mode"] == "circular" and max(before, after) > size:
            raise ShapeError(
                f"circular padding can wrap at most the whole axis: "
                f"{max(before, after)} on a {where} of {size}",
                param="padding",
                hint="pad less, or use 'replicate'",
            )
        if min(before, after) < 0 and p["mode"] != "constant":
            raise ShapeError(
                f"only 'constant' padding can crop (negative widths); {p['mode']} cannot",
                param="padding",
                hint="use widths of 0 or more, or mode 'constant'",
            )
        spatial[index] = size + before + after
        if spatial[index] < 1:
            raise ShapeError(
                f"cropping {-(before + after)} from a {where} of {size} leaves nothing",
                param="padding",
                hint="crop less",
            )
    return (shape[0], *spatial)


def _pad_module(p: Params, ins: list[Shape]) -> Call:
    axes = len(ins[0]) - 1
    value = p["padding"]
    sides = tuple(value) if isinstance(value, (list, tuple)) else value
    name = f"nn.{_TORCH[p['mode']]}{axes}d"
    if p["mode"] == "constant":
        return call(name, sides, float(p["value"]))
    return call(name, sides)


PAD = LayerType(
    name="Pad",
    category="Convolution",
    icon="mdi6.border-outside",
    help=(
        "Widens each feature map by padding its sides, for signals, images and volumes: "
        "C x H x W -> C x (top + H + bottom) x (left + W + right). 'constant' pads with "
        "`value` (zeros by default), 'reflect' mirrors the values next to the edge, "
        "'replicate' repeats the edge, 'circular' wraps round to the other side. Use it for "
        "padding a convolution or pooling layer cannot do itself: uneven sides, or "
        "anything but zeros. Negative widths crop ('constant' mode), as in torch."
    ),
    params=(
        Param(
            "padding",
            "size",
            1,
            "Values added on each side: one number for every side, or one per side, the last "
            "axis first: left, right (signals); then top, bottom (images); then front, back "
            "(volumes). Negative widths crop.",
            badge="pad {}",
        ),
        Param(
            "mode",
            "choice",
            "constant",
            "What fills the new values.",
            choices=tuple(_TORCH),
            badge="{}",
        ),
        Param("value", "float", 0.0, "The number padded in ('constant' mode only)."),
    ),
    infer=_pad_shape,
    module=_pad_module,
    summary=("padding", "mode"),
)


def _zero_pad_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (3,), _KIND[2])
    left, right, top, bottom = p["padding"]
    c, h, w = ins[0]
    return (c, h + top + bottom, w + left + right)


ZERO_PAD_2D = LayerType(
    name="ZeroPad2d",
    category="Convolution",
    icon="mdi6.border-outside",
    help=(
        "Adds rows and columns of zeros around each image: [left, right, top, bottom]. "
        "Pad does the same for signals and volumes too, and pads with other values."
    ),
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
    infer=_zero_pad_shape,
    module=lambda p, ins: call("nn.ZeroPad2d", tuple(p["padding"])),
    summary=("padding",),
)

LAYERS = (PAD, ZERO_PAD_2D)
