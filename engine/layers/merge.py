"""Layers that join branches: Add (residual), Multiply (gating), Concat."""

from __future__ import annotations

from engine.layers._shape import fmt, same_shapes
from engine.layers.base import LayerType, Param, Params, Port, Shape, ShapeError, call, numel

_MANY = (Port("in", "Any number of wires, all of the same shape.", multiple=True),)


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
            "Adds its inputs element by element; all must have the same shape, which is kept. "
            "Wire a block's input around it into an Add to make a residual (skip) connection."
        ),
        params=(),
        infer=lambda p, ins: same_shapes(ins, "Add"),
        module=lambda p, ins: call("Add"),
        inputs=_MANY,
        macs=lambda p, ins, out: numel(out) * (len(ins) - 1),
    ),
    LayerType(
        name="Multiply",
        category="Merge",
        icon="mdi6.close-circle-outline",
        help="Multiplies its inputs element by element (gating); all must have the same shape, which is kept.",
        params=(),
        infer=lambda p, ins: same_shapes(ins, "Multiply"),
        module=lambda p, ins: call("Multiply"),
        inputs=_MANY,
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
