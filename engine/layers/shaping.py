"""Layers that cut, pick and repeat values without learning anything: Split, Slice, Select,
Squeeze, Unsqueeze, Expand, Tile."""

from __future__ import annotations

from engine.layers._shape import fmt, sample_axis
from engine.layers.base import LayerType, Param, Params, Port, Shape, ShapeError, call

MAX_PIECES = 16


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


# ------------------------------------------------------------------ picking entries
def _axis_param(default: int = 0, what: str = "Sample axis") -> Param:
    return Param(
        "axis", "int", default, f"{what} (0 is the first after the batch, -1 the last).", -8, 7
    )


def _slice_length(p: Params, shape: Shape) -> tuple[int, int]:
    """The axis and how many entries the slice keeps there."""
    axis = sample_axis(p["axis"], shape)
    kept = len(range(shape[axis])[p["start"] : p["end"] : p["step"]])
    if kept == 0:
        end = "the end" if p["end"] is None else p["end"]
        raise ShapeError(
            f"from {p['start']} to {end} in steps of {p['step']}, axis {p['axis']} "
            f"({shape[axis]} entries) keeps nothing",
            param="start",
            hint=f"start must come before end; entries are numbered 0 to {shape[axis] - 1}, "
            "or -1 for the last",
        )
    return axis, kept


def _slice_shape(p: Params, ins: list[Shape]) -> Shape:
    (shape,) = ins
    axis, kept = _slice_length(p, shape)
    return (*shape[:axis], kept, *shape[axis + 1 :])


SLICE = LayerType(
    name="Slice",
    category="Reshape",
    icon="mdi6.box-cutter",
    help=(
        "Keeps part of one axis, as Python's x[start:end:step] does: 32x8x8 with start 0 and "
        "end 16 on axis 0 gives 16x8x8. Negative positions count from the end; no end means "
        "to the end. A ShuffleNet channel split is two Slices, or a Split."
    ),
    params=(
        _axis_param(),
        Param("start", "int", 0, "First entry kept (negative counts from the end).", badge="{}:"),
        Param(
            "end",
            "int",
            None,
            "Entry to stop before (negative counts from the end); empty: to the end.",
            optional=True,
            badge=":{}",
        ),
        Param("step", "int", 1, "Keep every step-th entry.", minimum=1, badge="step {}"),
    ),
    infer=_slice_shape,
    module=lambda p, ins: call("Slice", p["axis"], p["start"], p["end"], p["step"]),
    input_kind="any",
    summary=("axis", "start", "end"),
)


def _select_shape(p: Params, ins: list[Shape]) -> Shape:
    (shape,) = ins
    axis = sample_axis(p["axis"], shape)
    if not -shape[axis] <= p["index"] < shape[axis]:
        raise ShapeError(
            f"index {p['index']} does not exist on axis {p['axis']}, which has {shape[axis]} "
            "entries",
            param="index",
            hint=f"use 0 to {shape[axis] - 1}, or -1 for the last",
        )
    if len(shape) == 1:
        raise ShapeError(
            f"selecting one entry of a {fmt(shape)} sample would leave no axis at all",
            param="axis",
            hint="use a Slice of one entry to keep the axis",
        )
    return (*shape[:axis], *shape[axis + 1 :])


SELECT = LayerType(
    name="Select",
    category="Reshape",
    icon="mdi6.cursor-default-click-outline",
    help=(
        "Takes the one entry at 'index' along an axis and drops that axis: a ViT's class "
        "token is index 0 of axis 0 of its 197x768 tokens, giving 768. Negative indices count "
        "from the end."
    ),
    params=(
        _axis_param(),
        Param("index", "int", 0, "Which entry (negative counts from the end).", badge="[{}]"),
    ),
    infer=_select_shape,
    module=lambda p, ins: call("Select", p["axis"], p["index"]),
    input_kind="any",
    summary=("axis", "index"),
)


# ------------------------------------------------------------------ axes of size 1
def _axes_param(default: list[int] | None, help_text: str, optional: bool = False) -> Param:
    return Param("axes", "ints", default, help_text, -8, 7, optional=optional, badge="axes {}")


def _squeezed(p: Params, shape: Shape) -> tuple[int, ...]:
    """The sample axes a Squeeze drops."""
    if p["axes"] is None:
        drop = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        drop = tuple(sorted({sample_axis(a, shape, "axes") for a in p["axes"]}))
    wrong = [a for a in drop if shape[a] != 1]
    if wrong:
        raise ShapeError(
            f"axis {wrong[0]} of {fmt(shape)} has {shape[wrong[0]]} entries; only axes of size "
            "1 can be squeezed",
            param="axes",
            hint="a Select picks one entry of a longer axis, a Reduce averages it away",
        )
    if len(drop) == len(shape):
        raise ShapeError(
            f"squeezing every axis of {fmt(shape)} would leave no axis at all",
            param="axes",
            hint="keep one axis",
        )
    return drop


def _squeeze_shape(p: Params, ins: list[Shape]) -> Shape:
    drop = _squeezed(p, ins[0])
    return tuple(n for i, n in enumerate(ins[0]) if i not in drop)


SQUEEZE = LayerType(
    name="Squeeze",
    category="Reshape",
    icon="mdi6.arrow-collapse-vertical",
    help=(
        "Drops axes of size 1: 32x1x1 -> 32. Without axes, every axis of size 1 goes. The "
        "values do not change."
    ),
    params=(_axes_param(None, "Sample axes to drop; empty: every axis of size 1.", optional=True),),
    infer=_squeeze_shape,
    module=lambda p, ins: call("Squeeze", tuple(a + 1 for a in _squeezed(p, ins[0]))),
    input_kind="any",
    summary=("axes",),
)


def _unsqueezed(p: Params, shape: Shape) -> tuple[int, ...]:
    """Where the new axes of an Unsqueeze stand in the result (sample axes)."""
    rank = len(shape) + len(p["axes"])
    places = [a + rank if a < 0 else a for a in p["axes"]]
    if any(not 0 <= a < rank for a in places) or len(set(places)) != len(places):
        raise ShapeError(
            f"axes {list(p['axes'])} are not distinct places in a {rank}-axis result",
            param="axes",
            hint=f"use 0 to {rank - 1} (0 is the first after the batch), or -1 for the end",
        )
    return tuple(sorted(places))


def _unsqueeze_shape(p: Params, ins: list[Shape]) -> Shape:
    places = _unsqueezed(p, ins[0])
    rest = iter(ins[0])
    return tuple(1 if i in places else next(rest) for i in range(len(ins[0]) + len(places)))


UNSQUEEZE = LayerType(
    name="Unsqueeze",
    category="Reshape",
    icon="mdi6.arrow-expand-vertical",
    help=(
        "Inserts axes of size 1 at the given places of the result: 32 with axes [1, 2] gives "
        "32x1x1 (ready to gate a 32xHxW map). The values do not change."
    ),
    params=(_axes_param([0], "Where the new axes stand in the result (0 is the first)."),),
    infer=_unsqueeze_shape,
    module=lambda p, ins: call("Unsqueeze", tuple(a + 1 for a in _unsqueezed(p, ins[0]))),
    input_kind="any",
    summary=("axes",),
)


# ------------------------------------------------------------------ repeating
def _expand_shape(p: Params, ins: list[Shape]) -> Shape:
    (shape,) = ins
    target = tuple(p["shape"])
    if len(target) < len(shape):
        raise ShapeError(
            f"cannot expand {fmt(shape)} to fewer axes ({len(target)})",
            param="shape",
            hint=f"give at least {len(shape)} sizes (-1 keeps a size)",
        )
    lined = (1,) * (len(target) - len(shape)) + shape
    out = []
    for axis, (have, want) in enumerate(zip(lined, target)):
        if want == -1:
            if axis < len(target) - len(shape):
                raise ShapeError(
                    f"-1 keeps a size, but axis {axis} is new", param="shape", hint="give it a size"
                )
            out.append(have)
        elif have in (1, want) and want >= 1:
            out.append(want)
        else:
            raise ShapeError(
                f"axis {axis} has {have} entries, which cannot be expanded to {want}",
                param="shape",
                hint="only axes of size 1 stretch (a Tile repeats longer ones); -1 keeps a size",
            )
    return tuple(out)


EXPAND = LayerType(
    name="Expand",
    category="Reshape",
    icon="mdi6.arrow-expand-horizontal",
    help=(
        "Stretches axes of size 1 to a larger size without copying: 1x768 to 197x768. Shapes "
        "are lined up from the last axis, so new axes may be added in front; -1 keeps a size."
    ),
    params=(
        Param(
            "shape",
            "ints",
            [-1],
            "Shape per sample after expanding; -1 keeps that axis's size.",
            minimum=-1,
            badge="{}",
        ),
    ),
    infer=_expand_shape,
    module=lambda p, ins: call("Expand", _expand_shape(p, ins)),
    input_kind="any",
    summary=("shape",),
)


def _tile_repeats(p: Params, shape: Shape) -> tuple[int, ...]:
    repeats = tuple(p["repeats"])
    if len(repeats) > len(shape):
        raise ShapeError(
            f"{len(repeats)} repeats for a {len(shape)}-axis sample ({fmt(shape)})",
            param="repeats",
            hint="give one per axis; missing leading ones repeat once",
        )
    return (1,) * (len(shape) - len(repeats)) + repeats


TILE = LayerType(
    name="Tile",
    category="Reshape",
    icon="mdi6.view-grid-plus-outline",
    help=(
        "Repeats each sample along its axes: 2x3 with repeats [2, 3] gives 4x9 (the entries "
        "copied block by block, as torch's repeat and numpy's tile do)."
    ),
    params=(
        Param(
            "repeats",
            "ints",
            [2],
            "How many times along each axis (lined up from the last).",
            minimum=1,
            maximum=4096,
            badge="x{}",
        ),
    ),
    infer=lambda p, ins: tuple(n * r for n, r in zip(ins[0], _tile_repeats(p, ins[0]))),
    module=lambda p, ins: call("Tile", _tile_repeats(p, ins[0])),
    input_kind="any",
    summary=("repeats",),
)

LAYERS = (SPLIT, SLICE, SELECT, SQUEEZE, UNSQUEEZE, EXPAND, TILE)
