"""ONNX operators -> catalogue layers, one small converter per operator.

Each converter gets the importer, the ONNX node, its input values and its
attributes, and returns the values of the node's outputs. It raises
`Unsupported` with the reason when this particular use has no layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.values import Const, Merged, ShapeVec, Tensor, Value

Converter = Callable[[Importer, Any, list[Value | None], dict[str, Any]], list[Value]]
CONVERTERS: dict[str, Converter] = {}


def converter(*ops: str) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for op in ops:
            CONVERTERS[op] = function
        return function

    return register


# ------------------------------------------------------------------ helpers
def tensor(value: Value | None, what: str = "input") -> Tensor:
    if not isinstance(value, Tensor):
        raise Unsupported(f"its {what} must be computed from the network's input")
    return value


def const(value: Value | None, what: str) -> np.ndarray:
    if isinstance(value, ShapeVec) and value.const() is not None:
        return value.const().value  # type: ignore[union-attr]
    if not isinstance(value, Const):
        raise Unsupported(f"its {what} must be a constant")
    return value.value


def optional_const(ins: list[Value | None], index: int, what: str) -> np.ndarray | None:
    return const(ins[index], what) if len(ins) > index and ins[index] is not None else None


def sample_axis(axis: int, x: Tensor) -> int:
    """An ONNX axis (batch axis included) as a sample axis; the batch axis is refused."""
    full = axis + x.full_rank if axis < 0 else axis
    if not 0 <= full < x.full_rank:
        raise Unsupported(f"axis {axis} does not exist")
    if full == 0:
        raise Unsupported("it works across the batch axis")
    return full - 1


def size(values: list[int]) -> int | list[int]:
    """One number when every axis agrees (reads better in the inspector), else one per axis."""
    return values[0] if len(set(values)) == 1 else list(values)


def pads_for(
    attrs: dict[str, Any],
    spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
) -> tuple[list[int], list[int]]:
    """Begin and end padding per spatial axis, auto_pad resolved."""
    axes = len(spatial)
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(attrs.get("pads", [0] * 2 * axes))
        return pads[:axes], pads[axes:]
    if auto == "VALID":
        return [0] * axes, [0] * axes
    begins, ends = [], []
    for n, k, s, d in zip(spatial, kernel, strides, dilations):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        small, large = total // 2, total - total // 2
        begins.append(small if auto == "SAME_UPPER" else large)
        ends.append(large if auto == "SAME_UPPER" else small)
    return begins, ends


def pre_pad(
    ctx: Importer, x: Tensor, begins: list[int], ends: list[int], mode: str = "constant"
) -> Tensor:
    """Padding a window cannot do itself (uneven sides) becomes a Pad layer in front."""
    from engine.onnx_import.ops_pad import pad_layer

    return pad_layer(ctx, x, begins, ends, mode)


# ------------------------------------------------------------------ dense and convolution
@converter("Gemm")
def gemm(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    """x @ W (+ b) on flat features is a Linear; so is one on axes merged into one (Hugging
    Face's Conv1D): then the Linear acts on the last axis and the axes stay merged."""
    merged = ins[0] if isinstance(ins[0], Merged) else None
    x = merged.tensor if merged is not None else tensor(ins[0])
    if (len(x.shape) != 1 and merged is None) or attrs.get("transA", 0):
        raise Unsupported("only x @ W (+ b) on flat features maps to Linear")
    w = const(ins[1], "weight") * float(attrs.get("alpha", 1.0))
    w = w if attrs.get("transB", 0) else w.T
    bias = optional_const(ins, 2, "bias")
    out = w.shape[0]
    if bias is not None:
        bias = np.broadcast_to(bias * float(attrs.get("beta", 1.0)), (1, out)).reshape(out)
    linear = ctx.add_layer(
        "Linear", {"out_features": out, "bias": bias is not None}, [x], {"weight": w, "bias": bias}
    )
    return [Merged(linear, merged.reshape) if merged is not None else linear]


@converter("Conv")
def conv(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    w = const(ins[1], "weight")
    bias = optional_const(ins, 2, "bias")
    axes = w.ndim - 2
    if axes not in (1, 2, 3):
        raise Unsupported(f"{axes}-D convolutions have no layer (1-D, 2-D and 3-D do)")
    kernel = list(w.shape[2:])
    strides = list(attrs.get("strides", [1] * axes))
    dilations = list(attrs.get("dilations", [1] * axes))
    begins, ends = pads_for(attrs, x.shape[1:], kernel, strides, dilations)
    if begins != ends:
        x, begins = pre_pad(ctx, x, begins, ends), [0] * axes
    params = {
        "out_channels": int(w.shape[0]),
        "kernel_size": size(kernel),
        "stride": size(strides),
        "padding": size(begins),
        "dilation": size(dilations),
        "groups": int(attrs.get("group", 1)),
        "bias": bias is not None,
    }
    return [ctx.add_layer(f"Conv{axes}d", params, [x], {"weight": w, "bias": bias})]


@converter("ConvTranspose")
def conv_transpose(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    w = const(ins[1], "weight")
    bias = optional_const(ins, 2, "bias")
    if w.ndim != 4:
        raise Unsupported("only 2-D transposed convolutions have a layer")
    if attrs.get("group", 1) != 1 or any(d != 1 for d in attrs.get("dilations", [1, 1])):
        raise Unsupported("grouped or dilated transposed convolutions have no layer")
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "", "VALID") or "output_shape" in attrs:
        raise Unsupported("automatic output sizes of transposed convolutions are not supported")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if pads[:2] != pads[2:]:
        raise Unsupported("uneven padding of a transposed convolution has no layer")
    params = {
        "out_channels": int(w.shape[1]),
        "kernel_size": size(list(w.shape[2:])),
        "stride": size(list(attrs.get("strides", [1, 1]))),
        "padding": size(pads[:2]),
        "output_padding": size(list(attrs.get("output_padding", [0, 0]))),
        "bias": bias is not None,
    }
    return [ctx.add_layer("ConvTranspose2d", params, [x], {"weight": w, "bias": bias})]


# ------------------------------------------------------------------ pooling
@converter("MaxPool", "AveragePool")
def pool(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("the indices output of MaxPool has no layer")
    kernel = list(attrs["kernel_shape"])
    axes = len(kernel)
    if axes not in (1, 2, 3):
        raise Unsupported(f"{axes}-D pooling has no layer (1-D, 2-D and 3-D do)")
    average = node.op_type == "AveragePool"
    dilations = list(attrs.get("dilations", [1] * axes))
    if average and any(d != 1 for d in dilations):
        raise Unsupported("a dilated average has no layer (max pooling takes a dilation)")
    strides = list(attrs.get("strides", [1] * axes))
    begins, ends = pads_for(attrs, x.shape[1:], kernel, strides, dilations)
    counted = bool(attrs.get("count_include_pad", 0))
    ceil = bool(attrs.get("ceil_mode", 0))
    crop: tuple[list[int], list[int]] | None = None
    if begins != ends:
        window = _Window(kernel, strides, dilations, average, counted)
        x, begins, ceil, crop = _uneven_window(ctx, x, window, begins, ends, ceil)
    params: dict[str, Any] = {
        "kernel_size": size(kernel),
        "stride": size(strides),
        "padding": size(begins),
        "ceil_mode": ceil,
    }
    if average:
        params["count_include_pad"] = counted or not any(begins)
    else:
        params["dilation"] = size(dilations)
    kind = "Avg" if average else "Max"
    pooled = ctx.add_layer(f"{kind}Pool{axes}d", params, [x])
    if crop is None:
        return [pooled]
    from engine.onnx_import.ops_pad import pad_layer

    return [pad_layer(ctx, pooled, [-c for c in crop[0]], [-c for c in crop[1]])]


@dataclass(frozen=True)
class _Window:
    kernel: list[int]
    strides: list[int]
    dilations: list[int]
    average: bool
    counted: bool  # an average's divisor counts the padding


def _uneven_window(
    ctx: Importer, x: Tensor, window: _Window, begins: list[int], ends: list[int], ceil: bool
) -> tuple[Tensor, list[int], bool, tuple[list[int], list[int]] | None]:
    """A pooling window padded more on one side, in what computes the same with torch's
    even padding: the (maybe padded) input, the padding left for the window, its ceil_mode,
    and the outputs to crop off after it (before and after, per axis), if any."""
    kernel, strides, average = window.kernel, window.strides, window.average
    axes = len(kernel)
    if average and window.counted:  # the zeros are averaged in: pad them in front
        return pre_pad(ctx, x, begins, ends), [0] * axes, ceil, None
    if not ceil and _ceil_mode_covers(x.shape[1:], kernel, strides, begins, ends, average):
        return x, begins, True, None
    if not average and set(window.dilations) == {1} and max(*begins, *ends) < min(kernel):
        # every window that reaches into the padding also covers the edge value the padding
        # repeats, so copies of the edge change no maximum
        return pre_pad(ctx, x, begins, ends, "replicate"), [0] * axes, ceil, None
    crop = None if ceil else _crop_after_even_padding(x.shape[1:], window, begins, ends)
    if crop is None:
        raise Unsupported("uneven padding of a pooling window has no layer")
    return x, [max(b, e) for b, e in zip(begins, ends)], False, crop


def _crop_after_even_padding(
    spatial: tuple[int, ...], window: _Window, begins: list[int], ends: list[int]
) -> tuple[list[int], list[int]] | None:
    """With the larger side's padding on both sides, the windows are the file's plus a few
    more at the edges (padding that max ignores and this average leaves out of the count):
    how many to crop off before and after, per axis; None when the windows do not line up."""
    from engine.layers._shape import sliding_window

    front, back = [], []
    for n, k, s, d, b, e in zip(
        spatial, window.kernel, window.strides, window.dilations, begins, ends
    ):
        even = max(b, e)
        if 2 * even > k or (even - b) % s:
            return None
        before = (even - b) // s
        wanted = sliding_window(n + b + e, k, s, 0, d)
        after = sliding_window(n, k, s, even, d) - before - wanted
        if after < 0 or wanted < 1:
            return None
        front.append(before)
        back.append(after)
    return front, back


def _ceil_mode_covers(
    spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    begins: list[int],
    ends: list[int],
    average: bool,
) -> bool:
    """True when extra padding at the end (Caffe's way of rounding up, common in model-zoo
    files) is what torch's ceil_mode computes: the same windows, whose part past the input
    max ignores and an average leaves out of the count (so averages need no front padding)."""
    from engine.layers._shape import sliding_window

    for n, k, s, b, e in zip(spatial, kernel, strides, begins, ends):
        if e < b or 2 * b > k or (average and b):
            return False
        if (n + b + e - k) // s + 1 != sliding_window(n, k, s, b, ceil=True):
            return False
    return True


@converter("GlobalAveragePool", "GlobalMaxPool")
def global_pool(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    axes = len(x.shape) - 1
    if axes not in (1, 2, 3):
        raise Unsupported(f"global pooling over {axes} axes has no layer")
    if node.op_type == "GlobalAveragePool":
        return [ctx.add_layer(f"AdaptiveAvgPool{axes}d", {"output_size": 1}, [x])]
    window = size(list(x.shape[1:]))
    return [ctx.add_layer(f"MaxPool{axes}d", {"kernel_size": window, "stride": window}, [x])]
