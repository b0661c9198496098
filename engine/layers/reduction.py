"""Reduce: the mean, sum, maximum or minimum over chosen axes of each sample.

A global pooling over any axes: the mean over the steps of a sequence, the squeeze of a
squeeze-and-excitation block (the mean over height and width, the axes kept), a sum over
the last axis. The batch axis is never reduced.
"""

from __future__ import annotations

from engine.layers._shape import fmt, sample_axis
from engine.layers.base import LayerType, Param, Params, Shape, ShapeError, call, numel


def reduced_axes(p: Params, shape: Shape) -> tuple[int, ...]:
    """The sample axes reduced, counted from 0, in order."""
    axes = tuple(sorted({sample_axis(a, shape, "axes") for a in p["axes"]}))
    if len(axes) == len(shape) and not p["keep_axes"]:
        raise ShapeError(
            f"reducing every axis of {fmt(shape)} without keeping them would leave no axis at all",
            param="keep_axes",
            hint="keep the axes (each becomes 1), or reduce fewer",
        )
    return axes


def _reduce_shape(p: Params, ins: list[Shape]) -> Shape:
    (shape,) = ins
    axes = reduced_axes(p, shape)
    if p["keep_axes"]:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


REDUCE = LayerType(
    name="Reduce",
    category="Pooling",
    icon="mdi6.sigma",
    help=(
        "The mean, sum, maximum or minimum over some axes of each sample: a 32x8x8 map "
        "averaged over axes [1, 2] gives 32 (or 32x1x1 with the axes kept, ready to gate the "
        "map). Negative axes count from the end; the batch axis is never reduced."
    ),
    params=(
        Param(
            "mode",
            "choice",
            "mean",
            "What to compute over the axes.",
            choices=("mean", "sum", "max", "min"),
            badge="{}",
        ),
        Param(
            "axes",
            "ints",
            [-1],
            "Sample axes to reduce (0 is the first after the batch, -1 the last).",
            -8,
            7,
            badge="axes {}",
        ),
        Param("keep_axes", "bool", False, "Keep each reduced axis, with size 1."),
    ),
    infer=_reduce_shape,
    module=lambda p, ins: call(
        "Reduce", p["mode"], tuple(a + 1 for a in reduced_axes(p, ins[0])), p["keep_axes"]
    ),
    macs=lambda p, ins, out: numel(ins[0]),
    summary=("mode", "axes"),
)

LAYERS = (REDUCE,)
