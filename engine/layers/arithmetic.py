"""Arithmetic between two wires, in order: a - b, a / b, a ** b, maximum, minimum, a @ b.

The order matters, so each input is its own port (`a` and `b`) rather than one port taking
any number of wires. Shapes broadcast as numpy's do, on each sample's shape (the batch axis
is never involved): lined up from the last axis, each axis the same size in both or 1.
"""

from __future__ import annotations

from engine.layers._shape import broadcast, fmt
from engine.layers.base import LayerType, Params, Port, Shape, ShapeError, call, numel

CATEGORY = "Math"


def _binary(name: str, operation: str, icon: str, help_text: str, a: str, b: str) -> LayerType:
    return LayerType(
        name=name,
        category=CATEGORY,
        icon=icon,
        help=help_text
        + " Shapes broadcast as in numpy, lined up from the last axis (an axis of size 1 "
        "stretches to fit).",
        params=(),
        infer=lambda p, ins: broadcast(ins, name),
        module=lambda p, ins: call("Binary", operation),
        inputs=(Port("a", a), Port("b", b)),
        macs=lambda p, ins, out: numel(out),
    )


def _matmul_shape(p: Params, ins: list[Shape]) -> Shape:
    a, b = ins
    for port, shape in (("a", a), ("b", b)):
        if len(shape) < 2:
            raise ShapeError(
                f"MatMul multiplies matrices, but input '{port}' is {fmt(shape)} per sample "
                "(it needs at least 2 axes)",
                hint="Reshape a vector of N to 1xN (a row) or Nx1 (a column) first",
            )
    if a[-1] != b[-2]:
        raise ShapeError(
            f"MatMul of {fmt(a)} by {fmt(b)}: the last axis of 'a' ({a[-1]}) must equal the "
            f"next to last of 'b' ({b[-2]})",
            hint="a Permute of 'b' swaps its last two axes (keys -> keys transposed)",
        )
    leading = broadcast([a[:-2], b[:-2]], "MatMul") if (a[:-2] or b[:-2]) else ()
    return (*leading, a[-2], b[-1])


MATMUL = LayerType(
    name="MatMul",
    category=CATEGORY,
    icon="mdi6.matrix",
    help=(
        "The matrix product of two wires, per sample: a (n x k) times b (k x m) gives n x m; "
        "axes before the last two broadcast (heads x steps x d times heads x d x steps). "
        "Attention scores are queries times keys transposed. For a product with learned "
        "weights use Linear."
    ),
    params=(),
    infer=_matmul_shape,
    module=lambda p, ins: call("MatMul"),
    inputs=(Port("a", "The left matrix (n x k)."), Port("b", "The right matrix (k x m).")),
    macs=lambda p, ins, out: numel(out) * ins[0][-1],
)

LAYERS = (
    _binary(
        "Subtract",
        "subtract",
        "mdi6.minus-circle-outline",
        "a - b, element by element.",
        "The value subtracted from.",
        "The value subtracted.",
    ),
    _binary(
        "Divide",
        "divide",
        "mdi6.division",
        "a / b, element by element (a normalisation, a ratio).",
        "The dividend.",
        "The divisor.",
    ),
    _binary(
        "Power",
        "power",
        "mdi6.exponent",
        "a raised to the power b, element by element (a negative a to a fractional b is NaN).",
        "The base.",
        "The exponent.",
    ),
    _binary(
        "Maximum",
        "maximum",
        "mdi6.arrow-collapse-up",
        "The larger of a and b, element by element.",
        "One input.",
        "The other input.",
    ),
    _binary(
        "Minimum",
        "minimum",
        "mdi6.arrow-collapse-down",
        "The smaller of a and b, element by element.",
        "One input.",
        "The other input.",
    ),
    MATMUL,
)
