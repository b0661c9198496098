"""Activation functions: the non-linearities between layers. None changes the shape."""

from __future__ import annotations

from collections.abc import Callable

from engine.layers.base import Call, LayerType, Param, Params, Shape, ShapeError, call, numel


def _same(p: Params, ins: list[Shape]) -> Shape:
    return ins[0]


def _activation(
    name: str,
    icon: str,
    help_text: str,
    params: tuple[Param, ...] = (),
    rectifier: bool = False,
    infer: Callable[[Params, list[Shape]], Shape] = _same,
) -> LayerType:
    return LayerType(
        name=name,
        category="Activation",
        icon=icon,
        help=help_text + " Shape unchanged.",
        params=params,
        infer=infer,
        module=lambda p, ins: call(f"nn.{name}", **{q.name: p[q.name] for q in params}),
        macs=lambda p, ins, out: numel(out),
        summary=tuple(q.name for q in params),
        rectifier=rectifier,
    )


def _along_axis(p: Params, ins: list[Shape]) -> Shape:
    axis = p["axis"]
    if not -len(ins[0]) <= axis < len(ins[0]):
        raise ShapeError(
            f"axis {axis} does not exist in a {len(ins[0])}-axis sample",
            param="axis",
            hint="use -1 for the last axis",
        )
    return ins[0]


def _softmax(name: str, help_text: str) -> LayerType:
    def dim(p: Params) -> int:
        return p["axis"] + 1 if p["axis"] >= 0 else p["axis"]

    return LayerType(
        name=name,
        category="Activation",
        icon="mdi6.chart-bar-stacked",
        help=help_text,
        params=(
            Param(
                "axis",
                "int",
                -1,
                "Sample axis to normalize over (-1 = last).",
                minimum=-8,
                maximum=7,
            ),
        ),
        infer=_along_axis,
        module=lambda p, ins: call(f"nn.{name}", dim=dim(p)),
        macs=lambda p, ins, out: 3 * numel(out),
        summary=("axis",),
    )


_PRELU = LayerType(
    name="PReLU",
    category="Activation",
    icon="mdi6.chart-line-variant",
    help="Like LeakyReLU, but the slope for negative values is learned (one per channel or one shared). Shape unchanged.",
    params=(
        Param(
            "per_channel",
            "bool",
            False,
            "Learn one slope per channel (axis 0) instead of one shared.",
        ),
    ),
    infer=_same,
    module=lambda p, ins: call("nn.PReLU", ins[0][0] if p["per_channel"] else 1),
    count_params=lambda p, ins: ins[0][0] if p["per_channel"] else 1,
    macs=lambda p, ins, out: numel(out),
)


def _hardsigmoid_call(p: Params, ins: list[Shape]) -> Call:
    if abs(p["alpha"] - 1 / 6) < 1e-9 and p["beta"] == 0.5:
        return call("nn.Hardsigmoid")
    return call("HardSigmoid", p["alpha"], p["beta"])


_HARDSIGMOID = LayerType(
    name="HardSigmoid",
    category="Activation",
    icon="mdi6.math-integral",
    help=(
        "clamp(alpha * x + beta, 0, 1): a cheap, piecewise-linear Sigmoid, the gate of "
        "MobileNetV3's squeeze-and-excitation blocks (torch's alpha is 1/6; ONNX's default "
        "is 0.2). Shape unchanged."
    ),
    params=(
        Param("alpha", "float", 1 / 6, "Slope of the linear part.", minimum=0.0, maximum=1e6),
        Param("beta", "float", 0.5, "Value at x = 0.", minimum=-1e6, maximum=1e6),
    ),
    infer=_same,
    module=_hardsigmoid_call,
    macs=lambda p, ins, out: numel(out),
)


def _check_bounds(p: Params, ins: list[Shape]) -> Shape:
    if p["min_val"] >= p["max_val"]:
        raise ShapeError(
            f"min_val ({p['min_val']}) must be below max_val ({p['max_val']})",
            param="min_val",
            hint="lower min_val or raise max_val",
        )
    return ins[0]


LAYERS = (
    _activation(
        "ReLU",
        "mdi6.chart-line",
        "max(0, x): passes positives, zeroes negatives. The default choice.",
        rectifier=True,
    ),
    _activation(
        "ReLU6",
        "mdi6.chart-line",
        "min(max(0, x), 6): a ReLU capped at 6, which keeps activations small enough for "
        "low-precision arithmetic (MobileNet).",
        rectifier=True,
    ),
    _activation(
        "LeakyReLU",
        "mdi6.chart-line",
        "Like ReLU but lets a small slope through for negatives, so units never die completely.",
        (
            Param(
                "negative_slope",
                "float",
                0.01,
                "Slope for negative inputs.",
                minimum=0.0,
                maximum=1.0,
            ),
        ),
    ),
    _activation(
        "ELU",
        "mdi6.chart-bell-curve",
        "Smooth for negatives (tends to -alpha), identity for positives.",
        (Param("alpha", "float", 1.0, "Value approached for very negative inputs.", minimum=0.0),),
    ),
    _activation(
        "SELU",
        "mdi6.chart-bell-curve",
        "Scaled ELU that keeps activations normalized in deep MLPs.",
    ),
    _activation(
        "GELU",
        "mdi6.sine-wave",
        "A smooth ReLU weighted by the Gaussian CDF; standard in Transformers. GPT-2 and BERT's "
        "originals use the tanh approximation.",
        (
            Param(
                "approximate",
                "choice",
                "none",
                "none: exact, with erf; tanh: the tanh approximation GPT-2 uses.",
                choices=("none", "tanh"),
                badge="{}",
            ),
        ),
    ),
    _activation("SiLU", "mdi6.sine-wave", 'x * sigmoid(x) ("swish"): smooth and non-monotonic.'),
    _activation(
        "Sigmoid", "mdi6.math-integral", "Squashes values into (0, 1); for probabilities and gates."
    ),
    _activation("Tanh", "mdi6.math-integral", "Squashes values into (-1, 1); centred at zero."),
    _activation("Softplus", "mdi6.chart-line", "log(1 + e^x): a smooth ReLU that stays positive."),
    _activation(
        "Hardswish", "mdi6.chart-line", "A cheap piecewise approximation of SiLU (MobileNetV3)."
    ),
    _activation(
        "Mish",
        "mdi6.sine-wave",
        "x * tanh(softplus(x)): smooth and non-monotonic, like SiLU (YOLOv4).",
    ),
    _activation(
        "Softsign", "mdi6.math-integral", "x / (1 + |x|): like Tanh, approaching -1 and 1 slowly."
    ),
    _HARDSIGMOID,
    _activation(
        "Hardtanh",
        "mdi6.chart-line",
        "Clips values to [min_val, max_val]: a hard Tanh, or any clip (ONNX Clip).",
        (
            Param("min_val", "float", -1.0, "The lowest value let through.", badge="{} .."),
            Param("max_val", "float", 1.0, "The highest value let through.", badge="{}"),
        ),
        infer=_check_bounds,
    ),
    _PRELU,
    _softmax(
        "Softmax",
        "Turns scores into probabilities that sum to 1 along an axis. Not needed before a "
        "cross-entropy loss, which applies it itself.",
    ),
    _softmax(
        "LogSoftmax",
        "The logarithm of Softmax, numerically safer; pairs with a negative log-likelihood loss.",
    ),
)
