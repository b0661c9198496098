"""Shape arithmetic shared by layer declarations."""

from __future__ import annotations

from typing import Any

from engine.layers.base import Shape, ShapeError, numel, per_axis


def expect_rank(shape: Shape, ranks: tuple[int, ...], what: str) -> Shape:
    """Refuse a shape with the wrong number of axes, saying what was expected; else return it."""
    if len(shape) not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ShapeError(
            f"expects {what} ({wanted} axes per sample) but gets {fmt(shape)}",
            hint=_rank_hint(shape, ranks),
        )
    return shape


def _rank_hint(shape: Shape, ranks: tuple[int, ...]) -> str:
    if len(shape) > max(ranks):
        return "add a Flatten (or a pooling layer) before it"
    return "add a Reshape before it, or feed it from a layer that keeps more axes"


def sliding_window(
    size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False
) -> int:
    """Output length of a convolution or pooling window along one axis."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil:
        return span // stride + 1
    out = -(-span // stride) + 1
    # torch drops a last window that would start entirely inside the right padding
    return out - 1 if (out - 1) * stride >= size + padding else out


def window_output(
    spatial: Shape, p: dict[str, Any], axes: int, ceil: bool = False, pooling: bool = False
) -> Shape:
    """Output size of a sliding window per spatial axis; `pooling` adds torch's rule that a
    pooling window's padding is at most half its kernel."""
    kernel = per_axis(p["kernel_size"], axes)
    stride = per_axis(p["stride"] if p.get("stride") is not None else p["kernel_size"], axes)
    padding = per_axis(p.get("padding", 0), axes)
    dilation = per_axis(p.get("dilation", 1), axes)
    for name, values in (
        ("kernel_size", kernel),
        ("stride", stride),
        ("padding", padding),
        ("dilation", dilation),
    ):
        if len(values) != axes:
            raise ShapeError(f"'{name}' needs {axes} numbers, one per axis", param=name)
    for k, pad in zip(kernel, padding):
        if pad * 2 > k and pooling:
            raise ShapeError(
                f"padding ({pad}) must be at most half the kernel size ({k})",
                param="padding",
                hint="lower it, or pad with a Pad layer first",
            )
    out = tuple(
        sliding_window(n, k, s, pad, d, ceil)
        for n, k, s, pad, d in zip(spatial, kernel, stride, padding, dilation)
    )
    if any(o < 1 for o in out):
        raise ShapeError(
            f"the window ({fmt(kernel)}) is larger than the input ({fmt(spatial)} after padding)",
            param="kernel_size",
            hint="use a smaller kernel, add padding, or remove a pooling step before it",
        )
    return out


def fmt(shape: Shape | tuple[int, ...]) -> str:
    """A shape as users read it on wires: ``32x8x8``."""
    return "x".join(str(s) for s in shape) if shape else "scalar"


def resolve_reshape(target: tuple[int, ...], size: int) -> Shape:
    """Resolve one -1 in a reshape target so the element count is kept."""
    unknown = [i for i, v in enumerate(target) if v == -1]
    if len(unknown) > 1:
        raise ShapeError("only one axis may be -1", param="shape")
    if any(v == 0 or v < -1 for v in target):
        raise ShapeError("axis sizes must be positive (or one -1)", param="shape")
    known = numel(tuple(v for v in target if v != -1))
    if unknown:
        if size % known:
            raise ShapeError(
                f"cannot fit {size} values into {fmt(target)}",
                param="shape",
                hint="change the shape",
            )
        return tuple(size // known if v == -1 else v for v in target)
    if known != size:
        raise ShapeError(
            f"cannot reshape {size} values into {fmt(target)} ({known} values)",
            param="shape",
            hint="the sizes must multiply to the number of values coming in",
        )
    return tuple(target)


def sample_axis(axis: int, shape: Shape, param: str = "axis") -> int:
    """A sample axis (negative counts from the end) as an index into `shape`; ShapeError if none."""
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(
            f"axis {axis} does not exist in a {len(shape)}-axis sample ({fmt(shape)})",
            param=param,
            hint="0 is the first axis after the batch, -1 the last",
        )
    return axis % len(shape)


def broadcast(ins: list[Shape], what: str) -> Shape:
    """numpy's broadcasting of per-sample shapes: axes lined up from the last, each the same
    size everywhere or 1 (which stretches). A mismatch names the axis and the sizes."""
    rank = max(len(shape) for shape in ins)
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in ins]
    out = []
    for axis in range(rank):
        sizes = sorted({shape[axis] for shape in padded} - {1})
        if len(sizes) > 1:
            listed = " and ".join(fmt(shape) for shape in ins)
            raise ShapeError(
                f"{what} cannot broadcast {listed}: axis {axis} has sizes "
                f"{', '.join(str(s) for s in sizes[:-1])} and {sizes[-1]}",
                hint="axes are lined up from the last; each must have the same size in every "
                "input, or 1 (which stretches to fit)",
            )
        out.append(sizes[0] if sizes else 1)
    return tuple(out)
