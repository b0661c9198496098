"""ONNX reshaping, merging and constant-arithmetic operators -> catalogue layers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.ops import const, converter, optional_const, sample_axis, tensor
from engine.onnx_import.values import BATCH, Const, Merged, ShapeVec, Tensor, Value


# ------------------------------------------------------------------ reshaping
@converter("Flatten")
def flatten(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    axis = sample_axis(int(attrs.get("axis", 1)), x) if attrs.get("axis", 1) != 0 else 0
    if attrs.get("axis", 1) == 0:
        raise Unsupported("flattening from axis 0 merges the batch axis")
    if axis == 0:
        return [x if len(x.shape) == 1 else ctx.add_layer("Flatten", {}, [x], integer=x.integer)]
    return [reshape_to(ctx, x, (*x.shape[:axis], math.prod(x.shape[axis:])))]


def reshape_to(ctx: Importer, x: Tensor, shape: tuple[int, ...]) -> Tensor:
    if shape == x.shape:
        return x
    if len(shape) == 1:
        return ctx.add_layer("Flatten", {}, [x], integer=x.integer)
    return ctx.add_layer("Reshape", {"shape": list(shape)}, [x], integer=x.integer)


@converter("Reshape")
def reshape(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = ins[0].tensor if isinstance(ins[0], Merged) else tensor(ins[0])  # split again
    target = ins[1]
    if isinstance(target, Const):
        items: list[Any] = [int(v) for v in target.value.reshape(-1)]
    elif isinstance(target, ShapeVec):
        items = list(target.items)
    else:
        raise Unsupported("its target shape must be known before the network runs")
    first, rest = items[0], items[1:]
    count = math.prod(x.shape)
    rest = [x.shape[i] if v == 0 and i < len(x.shape) else v for i, v in enumerate(rest)]
    keeps_batch = first is BATCH or first == 0
    if not keeps_batch and first == -1 and -1 not in rest and math.prod(rest) == count:
        keeps_batch = True
    if not keeps_batch and isinstance(first, int) and first == ctx.fixed_batch and first > 0:
        keeps_batch = True
    if not keeps_batch and len(x.shape) >= 2 and [first, *rest] == [-1, x.shape[-1]]:
        return [Merged(x, node.name or "Reshape")]
    if not keeps_batch or any(v is BATCH for v in rest):
        raise Unsupported("it reshapes across the batch axis")
    if rest.count(-1) == 1:
        known = math.prod(v for v in rest if v != -1)
        if known <= 0 or count % known:
            raise Unsupported("its target shape does not fit the values")
        rest = [count // known if v == -1 else v for v in rest]
    if math.prod(rest) != count:
        raise Unsupported("its target shape does not fit the values")
    return [reshape_to(ctx, x, tuple(int(v) for v in rest))]


@converter("Squeeze", "Unsqueeze")
def squeeze(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    axes = attrs.get("axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        axes = [int(a) for a in const(ins[1], "axes").reshape(-1)]
    shape = [1, *x.shape]
    if node.op_type == "Squeeze":
        axes = axes if axes is not None else [i for i, n in enumerate(shape) if n == 1 and i]
        drop = {a + len(shape) if a < 0 else a for a in axes}
        if 0 in drop:
            raise Unsupported("it removes the batch axis")
        new = [n for i, n in enumerate(shape) if i not in drop]
    else:
        rank = len(shape) + len(axes or [])
        for a in sorted(a + rank if a < 0 else a for a in axes or []):
            if a == 0:
                raise Unsupported("it adds an axis before the batch axis")
            shape.insert(a, 1)
        new = shape
    return [reshape_to(ctx, x, tuple(new[1:]))]


@converter("Transpose")
def transpose(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    perm = list(attrs.get("perm", list(reversed(range(x.full_rank)))))
    if perm[0] != 0:
        raise Unsupported("it moves the batch axis")
    order = [p - 1 for p in perm[1:]]
    if order == sorted(order):
        return [x]
    return [ctx.add_layer("Permute", {"order": order}, [x], integer=x.integer)]


@converter("Concat")
def concat(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    """A constant among the pieces (ViT's class token before its patches) becomes a
    Parameter or Constant of its own."""
    from engine.onnx_import.constants import constant_layer

    present = [v for v in ins if v is not None]
    tensors = [v for v in present if isinstance(v, Tensor)]
    if not tensors:
        raise Unsupported("its inputs must be computed from the network's input")
    rank = tensors[0].full_rank
    xs = [v if isinstance(v, Tensor) else constant_layer(ctx, _constant(v), rank) for v in present]
    axis = sample_axis(int(attrs["axis"]), xs[0])
    if len(xs) == 1:
        return [xs[0]]
    return [ctx.add_layer("Concat", {"axis": axis}, xs, integer=all(x.integer for x in xs))]


def _constant(value: Value) -> Const:
    if isinstance(value, ShapeVec) and value.const() is not None:
        return value.const()  # type: ignore[return-value]
    if not isinstance(value, Const):
        raise Unsupported("its inputs must be computed from the network's input")
    return value


@converter("Resize", "Upsample")
def resize(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    scales = None
    if node.op_type == "Upsample" or ctx.opset < 11:
        scales = attrs.get("scales") or (optional_const(ins, 1, "scales") if len(ins) > 1 else None)
    else:
        scales = optional_const(ins, 2, "scales")
        sizes = optional_const(ins, 3, "sizes")
        if (scales is None or np.size(scales) == 0) and sizes is not None:
            full = (1, *x.shape)
            scales = [s / n for s, n in zip(sizes.reshape(-1)[1:], full)]
            scales = [1.0, *scales]
    if scales is None or np.size(scales) != x.full_rank:
        raise Unsupported("its scale factors must be constants")
    factors = [float(s) for s in np.asarray(scales).reshape(-1)]
    spatial = factors[2:]
    if factors[:2] != [1.0, 1.0] or len(set(spatial)) != 1 or not spatial[0].is_integer():
        raise Unsupported("only one whole-number factor for every spatial axis maps to Upsample")
    mode = str(attrs.get("mode", "nearest"))
    if mode not in ("nearest", "linear", "bilinear"):
        raise Unsupported(f"'{mode}' resizing has no layer")
    params = {
        "scale_factor": int(spatial[0]),
        "mode": "nearest" if mode == "nearest" else "bilinear",
    }
    return [ctx.add_layer("Upsample", params, [x])]


@converter("Gather")
def gather(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    data, indices = ins[0], ins[1]
    axis = int(attrs.get("axis", 0))
    if isinstance(data, Const) and isinstance(indices, Tensor):
        table = data.value
        if table.ndim != 2 or axis != 0 or not indices.integer:
            raise Unsupported(
                "only a lookup in a constant 2-D table by token ids maps to Embedding"
            )
        params = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
        return [ctx.add_layer("Embedding", params, [indices], {"weight": table})]
    x = tensor(data)
    index = const(indices, "index")
    if len(x.shape) == 2 and sample_axis(axis, x) == 0 and index.ndim == 0:
        position = int(index) % x.shape[0]
        if position in (0, x.shape[0] - 1):
            mode = "first" if position == 0 else "last"
            return [ctx.add_layer("SequencePool", {"mode": mode}, [x])]
    if index.ndim == 0:
        from engine.onnx_import.ops_select import picked

        return [picked(ctx, x, sample_axis(axis, x), index)]
    raise Unsupported("picking several entries out of a computed tensor has no layer")
