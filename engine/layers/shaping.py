"""Layers that cut and rearrange values without learning anything: Split."""

from __future__ import annotations

from engine.layers._shape import fmt
from engine.layers.base import LayerType, Param, Params, Port, Shape, ShapeError, call

MAX_PIECES = 16


def sample_axis(axis: int, shape: Shape) -> int:
    """A sample axis (negative counts from the end) as an index into `shape`; ShapeError if none."""
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(
            f"axis {axis} does not exist in a {len(shape)}-axis sample ({fmt(shape)})",
            param="axis",
            hint="0 is the first axis after the batch, -1 the last",
        )
    return axis % len(shape)


def _piece_ports(p: Params) -> tuple[Port, ...]:
    count = len(p["sizes"]) if p["sizes"] else p["pieces"]
    return tuple(Port(f"out{i + 1}", f"Piece {i + 1}.") for i in range(min(count, MAX_PIECES)))


def _piece_sizes(p: Params, shape: Shape) -> tuple[int, ...]:
    axis = sample_axis(p["axis"], shape)
    length = shape[axis]
    if p["sizes"]:
        sizes = tuple(p["sizes"])
        if not 2 <= len(sizes) <= MAX_PIECES:
            raise ShapeError(
                f"a Split gives 2 to {MAX_PIECES} pieces, but {len(sizes)} sizes are given",
                param="sizes",
            )
        if sum(sizes) != length:
            raise ShapeError(
                f"the sizes {list(sizes)} add up to {sum(sizes)}, but axis {p['axis']} has {length}",
                param="sizes",
                hint=f"make them add up to {length}, or leave sizes empty for equal pieces",
            )
        return sizes
    if length % p["pieces"]:
        raise ShapeError(
            f"axis {p['axis']} has {length} values, which do not split into {p['pieces']} equal pieces",
            param="pieces",
            hint="choose a number of pieces that divides it, or give the sizes",
        )
    return (length // p["pieces"],) * p["pieces"]


def _split_shapes(p: Params, ins: list[Shape]) -> list[Shape]:
    (shape,) = ins
    axis = sample_axis(p["axis"], shape)
    return [(*shape[:axis], size, *shape[axis + 1 :]) for size in _piece_sizes(p, shape)]


SPLIT = LayerType(
    name="Split",
    category="Reshape",
    icon="mdi6.call-split",
    help=(
        "Cuts each sample into pieces along one axis, one output per piece: 32x8x8 in 2 pieces "
        "along axis 0 gives two 16x8x8. Equal pieces, or the sizes you give. ShuffleNet splits "
        "its channels this way; a Transformer splits one projection into queries, keys and values."
    ),
    params=(
        Param(
            "pieces",
            "int",
            2,
            "How many equal pieces (when no sizes are given).",
            2,
            MAX_PIECES,
            badge="{} pieces",
        ),
        Param(
            "sizes",
            "ints",
            None,
            "The size of each piece along the axis (empty: equal pieces).",
            minimum=1,
            optional=True,
        ),
        Param("axis", "int", 0, "Sample axis to cut along (0 is the first, -1 the last).", -8, 7),
    ),
    infer=lambda p, ins: _split_shapes(p, ins)[0],
    infer_outputs=_split_shapes,
    output_ports=_piece_ports,
    module=lambda p, ins: call("Split", _piece_sizes(p, ins[0]), p["axis"]),
    input_kind="any",
    summary=("pieces", "axis"),
)

LAYERS = (SPLIT,)
