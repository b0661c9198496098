"""ONNX operators that pick, cut, repeat or summarise values -> catalogue layers: Split,
Slice, Expand, Tile and the reductions. The batch axis is never cut, repeated or reduced;
an operator that would is refused by name."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.ops import const, converter, optional_const, sample_axis, tensor
from engine.onnx_import.values import BATCH, ShapeVec, Tensor, Value

_END = 2**62  # ONNX writes "to the end" as a huge number (INT64_MAX, or INT32_MAX)


@converter("Split")
def split(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    axis = sample_axis(int(attrs.get("axis", 0)), x)
    outputs = len(node.output)
    sizes = attrs.get("split")
    if sizes is None:
        given = optional_const(ins, 1, "piece sizes")
        sizes = None if given is None or given.size == 0 else [int(s) for s in given.reshape(-1)]
    if sizes is None:
        length = x.shape[axis]
        piece = -(-length // outputs)  # ONNX: equal pieces, the last one smaller if need be
        sizes = [piece] * (length // piece) + ([length % piece] if length % piece else [])
    sizes = [int(s) for s in sizes]
    if len(sizes) == 1:
        return [x]
    params: dict[str, Any] = {"axis": axis}
    if len(set(sizes)) == 1:
        params["pieces"] = len(sizes)
    else:
        params["sizes"] = sizes
    return list(ctx.add_layer_outputs("Split", params, [x], integer=x.integer))


@converter("Slice")
def slice_(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    """One Slice layer per axis cut; a batch axis taken whole is no cut."""
    x = tensor(ins[0])
    if len(ins) > 1:  # opset 10 and later: starts, ends, axes, steps are inputs
        starts = [int(v) for v in const(ins[1], "starts").reshape(-1)]
        ends = [int(v) for v in const(ins[2], "ends").reshape(-1)]
        axes_given = optional_const(ins, 3, "axes")
        steps_given = optional_const(ins, 4, "steps")
        axes = list(range(len(starts))) if axes_given is None else axes_given.reshape(-1).tolist()
        steps = [1] * len(starts) if steps_given is None else steps_given.reshape(-1).tolist()
    else:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    result = x
    for axis, start, end, step in zip(axes, starts, ends, steps):
        full = int(axis) % x.full_rank
        if full == 0:
            if int(start) == 0 and int(end) >= _END // 2**31 and int(step) == 1:
                continue  # the whole batch
            raise Unsupported("it cuts the batch axis")
        if int(step) < 1:
            raise Unsupported("slicing backwards (a negative step) has no layer")
        length = result.shape[full - 1]
        stop = None if int(end) >= length else int(end)
        begin = max(int(start), -length)
        if begin == 0 and stop is None and int(step) == 1:
            continue
        params = {"axis": full - 1, "start": begin, "end": stop, "step": int(step)}
        result = ctx.add_layer("Slice", params, [result], integer=x.integer)
    return [result]


@converter("Expand")
def expand(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    target = ins[1]
    if isinstance(target, ShapeVec):
        items: list[Any] = list(target.items)
    else:
        items = [int(v) for v in const(target, "shape").reshape(-1)]
    if any(i is BATCH for i in items[1:]):
        raise Unsupported("it expands to a size computed from the batch size")
    if len(items) >= x.full_rank and items[-x.full_rank] not in (BATCH, 1, ctx.fixed_batch):
        raise Unsupported("it repeats the whole batch")
    plain = [1 if i is BATCH else int(i) for i in items]
    try:
        full = np.broadcast_shapes((1, *x.shape), tuple(plain))
    except ValueError:
        raise Unsupported(
            f"it expands {list(x.shape)} to {plain}, which do not broadcast"
        ) from None
    shape = tuple(int(n) for n in full[1:])
    if len(full) > x.full_rank and any(n != 1 for n in full[: len(full) - x.full_rank]):
        raise Unsupported("it adds axes in front of the batch axis")
    if shape == x.shape:
        return [x]
    return [ctx.add_layer("Expand", {"shape": list(shape)}, [x], integer=x.integer)]


@converter("Tile")
def tile(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    repeats = [int(r) for r in const(ins[1], "repeats").reshape(-1)]
    if len(repeats) != x.full_rank:
        raise Unsupported(f"{len(repeats)} repeats for a tensor of {x.full_rank} axes")
    if repeats[0] != 1:
        raise Unsupported("it repeats the whole batch")
    if all(r == 1 for r in repeats):
        return [x]
    return [ctx.add_layer("Tile", {"repeats": repeats[1:]}, [x], integer=x.integer)]


# ------------------------------------------------------------------ reductions
_MODES = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "max", "ReduceMin": "min"}


@converter(*_MODES)
def reduce(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    axes_value = attrs.get("axes")
    if axes_value is None and len(ins) > 1 and ins[1] is not None:
        axes_value = [int(a) for a in const(ins[1], "axes").reshape(-1)]
    if not axes_value:
        if attrs.get("noop_with_empty_axes", 0):
            return [x]
        raise Unsupported("reducing over every axis includes the batch axis")
    axes = sorted({sample_axis(int(a), x) for a in axes_value})
    keep = bool(attrs.get("keepdims", 1))
    mode = _MODES[node.op_type]
    if len(x.shape) == 2 and axes == [0] and not keep and mode in ("mean", "max"):
        return [ctx.add_layer("SequencePool", {"mode": mode}, [x])]
    spatial = list(range(1, len(x.shape)))
    if mode == "mean" and axes == spatial and len(spatial) in (1, 2, 3):
        pooled = ctx.add_layer(f"AdaptiveAvgPool{len(spatial)}d", {"output_size": 1}, [x])
        return [pooled if keep else ctx.add_layer("Flatten", {}, [pooled])]
    params = {"mode": mode, "axes": axes, "keep_axes": keep}
    return [ctx.add_layer("Reduce", params, [x])]


def picked(ctx: Importer, x: Tensor, axis: int, index: np.ndarray) -> Tensor:
    """Gather of one entry (a scalar index) along a sample axis: a Select."""
    length = x.shape[axis]
    position = int(index)
    if not -length <= position < length:
        raise Unsupported(f"index {position} is outside an axis of {length}")
    return ctx.add_layer("Select", {"axis": axis, "index": position}, [x], integer=x.integer)
