"""ONNX Pad, and the padding a convolution or pooling window cannot do itself -> a Pad layer.

ONNX lists pads as every axis's begin, then every axis's end, batch and channels
included; the Pad layer takes torch's order (the last axis first, before then
after) for the spatial axes only, so the widths are reordered here, once.
"""

from __future__ import annotations

from typing import Any

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.ops import const, converter, sample_axis, tensor
from engine.onnx_import.values import Tensor, Value

_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad_layer(
    ctx: Importer,
    x: Tensor,
    begins: list[int],
    ends: list[int],
    mode: str = "constant",
    value: float = 0.0,
) -> Tensor:
    """A Pad layer widening the spatial axes of `x` by `begins` and `ends` (first axis first)."""
    axes = len(x.shape) - 1
    if axes not in (1, 2, 3) or len(begins) != axes or len(ends) != axes:
        raise Unsupported(f"padding {len(x.shape)}-axis samples has no layer (1-3 spatial axes do)")
    if min(*begins, *ends) < 0 and mode != "constant":
        raise Unsupported(f"negative '{mode}' padding (cropping while padding) has no layer")
    widths: list[int] = []
    for axis in reversed(range(axes)):
        widths += [begins[axis], ends[axis]]
    padding: int | list[int] = widths[0] if len(set(widths)) == 1 else widths
    params: dict[str, Any] = {"padding": padding, "mode": mode}
    if mode == "constant" and value != 0.0:
        params["value"] = value
    return ctx.add_layer("Pad", params, [x])


@converter("Pad")
def pad(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    onnx_mode = str(attrs.get("mode", "constant"))
    mode = _MODES.get(onnx_mode)
    if mode is None:
        raise Unsupported(f"'{onnx_mode}' padding has no layer")
    pads = attrs.get("pads")
    if pads is None:
        pads = [int(p) for p in const(ins[1], "pads").reshape(-1)]
    value = float(attrs.get("value", 0.0))
    if len(ins) > 2 and ins[2] is not None:
        values = const(ins[2], "value").reshape(-1)
        value = float(values[0]) if values.size else 0.0
    rank = x.full_rank
    axes = list(range(rank))
    if len(ins) > 3 and ins[3] is not None:  # opset 18: pads for the listed axes only
        axes = [a + rank if a < 0 else a for a in (int(a) for a in const(ins[3], "axes"))]
    if len(pads) != 2 * len(axes):
        raise Unsupported(f"it lists {len(pads)} pads for {len(axes)} axes")
    begins, ends = [0] * rank, [0] * rank
    for i, axis in enumerate(axes):
        begins[axis], ends[axis] = int(pads[i]), int(pads[len(axes) + i])
    if begins[0] or ends[0]:
        sample_axis(0, x)  # refuses padding the batch axis, in its words
    if not any(begins) and not any(ends):
        return [x]
    if begins[1] or ends[1]:
        raise Unsupported("padding the channel axis has no layer (Pad widens spatial axes)")
    return [pad_layer(ctx, x, begins[2:], ends[2:], mode, value)]
