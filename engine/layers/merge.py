"""Layers that join branches: Add (residual), Multiply (gating), Concat.

Add and Multiply broadcast as numpy does, on each sample's shape: a squeeze-and-excitation
gate of 32x1x1 scales a 32x8x8 map, a learned 8-vector shifts every step of a 5x8 sequence.
"""

from __future__ import annotations

from engine.layers._shape import broadcast, fmt
from engine.layers.base import LayerType, Param, Params, Port, Shape, ShapeError, call, numel

_MANY = (
    Port("in", "Any number of wires; every axis but the joined one must match.", multiple=True),
)
_BROADCAST = (
    Port(
        "in",
        "Any number of wires whose shapes broadcast: lined up from the last axis, each axis "
        "the same size or 1.",
        multiple=True,
    ),
)


def _concat_shape(p: Params, ins: list[Shape]) -> Shape:
    rank = len(ins[0])
    axis = p["axis"] if p["axis"] >= 0 else rank + p["axis"]
    if not 0 <= axis < rank:
        raise ShapeError(f"axis {p['axis']} does not exist in a {rank}-axis sample", param="axis")
    for other in ins[1:]:
        if len(other) != rank or any(
            a != b for i, (a, b) in enumerate(zip(ins[0], other)) if i != axis
        ):
            raise ShapeError(
                f"Concat along axis {p['axis']} needs the other axes to match, but gets {fmt(ins[0])} and {fmt(other)}",
                param="axis",
            )
    return tuple(sum(s[axis] for s in ins) if i == axis else n for i, n in enumerate(ins[0]))


LAYERS = (
    LayerType(
        name="Add",
        category="Merge",
        icon="mdi6.plus-circle-outline",
        help=(
            "Adds its inputs element by element. Wire a block's input around it into an Add to "
            "make a residual (skip) connection. Shapes broadcast as in numpy, lined up from the "
            "last axis: 5x8 plus a learned 8 (a Parameter) adds it to every step; an axis of "
            "size 1 stretches to fit."
        ),
        params=(),
        infer=lambda p, ins: broadcast(ins, "Add"),
        module=lambda p, ins: call("Add"),
        inputs=_BROADCAST,
        macs=lambda p, ins, out: numel(out) * (len(ins) - 1),
    ),
    LayerType(
        name="Multiply",
        category="Merge",
        icon="mdi6.close-circle-outline",
        help=(
            "Multiplies its inputs element by element (gating). Shapes broadcast as in numpy, "
            "lined up from the last axis: a squeeze-and-excitation gate of 32x1x1 scales every "
            "position of a 32x8x8 map; an axis of size 1 stretches to fit."
        ),
        params=(),
        infer=lambda p, ins: broadcast(ins, "Multiply"),
        module=lambda p, ins: call("Multiply"),
        inputs=_BROADCAST,
        macs=lambda p, ins, out: numel(out) * (len(ins) - 1),
    ),
    LayerType(
        name="Concat",
        category="Merge",
        icon="mdi6.set-merge",
        help=(
            "Joins its inputs along one axis (0 = channels for images): 16x8x8 and 32x8x8 -> 48x8x8. "
            "The other axes must match. Used in Inception and DenseNet blocks."
        ),
        params=(
            Param(
                "axis", "int", 0, "Sample axis to join along (0 is the first, -1 the last).", -8, 7
            ),
        ),
        infer=_concat_shape,
        module=lambda p, ins: call("Concat", p["axis"]),
        inputs=_MANY,
        input_kind="any",
        summary=("axis",),
    ),
)
