"""Element-wise functions of one wire: exp, log, sqrt, abs, neg, reciprocal, erf.

None changes the shape. They are what imported files spell out (a Softmin is Softmax of
Neg, a Poisson loss takes an Exp) and what a formula drawn by hand needs.
"""

from __future__ import annotations

from engine.layers.arithmetic import CATEGORY
from engine.layers.base import LayerType, call, numel


def _function(name: str, function: str, icon: str, help_text: str) -> LayerType:
    return LayerType(
        name=name,
        category=CATEGORY,
        icon=icon,
        help=help_text + " Shape unchanged.",
        params=(),
        infer=lambda p, ins: ins[0],
        module=lambda p, ins: call("Elementwise", function),
        macs=lambda p, ins, out: numel(out),
    )


LAYERS = (
    _function("Exp", "exp", "mdi6.math-integral-box", "e to the power x."),
    _function("Log", "log", "mdi6.math-log", "The natural logarithm (NaN below 0, -inf at 0)."),
    _function("Sqrt", "sqrt", "mdi6.square-root", "The square root (NaN below 0)."),
    _function("Abs", "abs", "mdi6.numeric-positive-1", "The absolute value |x|."),
    _function("Neg", "neg", "mdi6.minus", "-x: flips the sign."),
    _function("Reciprocal", "reciprocal", "mdi6.division-box", "1 / x (infinite at 0)."),
    _function(
        "Erf",
        "erf",
        "mdi6.chart-bell-curve-cumulative",
        "The Gauss error function, from -1 to 1 (GELU is x/2 * (1 + erf(x / sqrt 2))).",
    ),
)
