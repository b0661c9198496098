"""What a layer type is: a declaration that everything else is generated from.

The palette, the inspector, validation, shape inference, the compiler, the
Python code export and `netwright layers` all read these declarations, so
adding a layer means adding one declaration (and its tests).

Shapes here are per sample, without the batch axis: a batch of 8x8 grey images
is ``(1, 8, 8)``; a sequence of 20 steps of 16 features is ``(20, 16)``. Every
wire carries one value per sample, even out of a layer with no input (a learned
class token is given once per sample), so every layer can take every wire.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from torch import nn

Shape = tuple[int, ...]
Params = Mapping[str, Any]
ParamKind = Literal["int", "float", "bool", "choice", "ints", "size", "str"]
InputKind = Literal["float", "int", "any"]
MAX_MAGNITUDE = 2**53  # the largest whole number a float holds exactly; no layer needs more


class ShapeError(Exception):
    """A shape problem found while inferring one node: message, parameter, hint."""

    def __init__(self, message: str, param: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.hint = hint


@dataclass(frozen=True)
class Param:
    """One editable parameter of a layer, with what makes a value acceptable."""

    name: str
    kind: ParamKind
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    length: int | None = None  # for "ints": exact length, or None for any length >= 1
    optional: bool = False  # None (absent) is allowed
    badge: str | None = None  # how the node's summary shows it: "{} ch", "k {}" ("name {}" if None)

    def check(self, value: Any) -> str | None:
        """None when `value` is acceptable, else what is wrong in plain words."""
        if value is None:
            return None if self.optional else f"'{self.name}' needs a value"
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"'{self.name}' must be true or false"
        if self.kind == "choice":
            if value in self.choices:
                return None
            listed = ", ".join(str(c) for c in self.choices)
            return f"'{self.name}' must be one of {listed} (got {value!r})"
        if self.kind == "str":
            return None if isinstance(value, str) else f"'{self.name}' must be text"
        if self.kind == "ints":
            return self._check_ints(value)
        if self.kind == "size":
            return self._check_size(value)
        return self._check_number(value)

    def _check_size(self, value: Any) -> str | None:
        """A size is one whole number, or one per spatial axis (``3`` or ``[1, 7]``)."""
        if isinstance(value, (list, tuple)):
            return self._check_ints(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return (
                f"'{self.name}' must be a whole number or a list of {self.length} (got {value!r})"
            )
        return self._check_range(value)

    def _check_number(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"'{self.name}' must be a number (got {value!r})"
        if self.kind == "int" and isinstance(value, float) and not value.is_integer():
            return f"'{self.name}' must be a whole number (got {value!r})"
        if isinstance(value, float) and not math.isfinite(value):
            return f"'{self.name}' must be a finite number (got {value!r})"
        return self._check_range(value)

    def _check_range(self, value: float) -> str | None:
        if abs(value) > MAX_MAGNITUDE:  # beyond any real layer; would overflow the size sums
            text = str(value)
            return f"'{self.name}' is far too large (got {text[:12] + '…' if len(text) > 12 else text})"
        if self.minimum is not None and value < self.minimum:
            return f"'{self.name}' must be at least {_fmt(self.minimum)} (got {_fmt(value)})"
        if self.maximum is not None and value > self.maximum:
            return f"'{self.name}' must be at most {_fmt(self.maximum)} (got {_fmt(value)})"
        return None

    def _check_ints(self, value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or not value:
            return f"'{self.name}' must be a list of whole numbers, such as [1, 28, 28]"
        if self.length is not None and len(value) != self.length:
            return f"'{self.name}' must have {self.length} numbers (got {len(value)})"
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                return f"'{self.name}' must contain whole numbers only (got {item!r})"
            problem = self._check_range(item)
            if problem:
                return problem
        return None

    def describe(self) -> str:
        """A short human description of the accepted values (for listings and tooltips)."""
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind in ("int", "float", "ints", "size"):
            low = "" if self.minimum is None else _fmt(self.minimum)
            high = "" if self.maximum is None else _fmt(self.maximum)
            span = f" in [{low or '-inf'}, {high or 'inf'}]" if (low or high) else ""
            noun = {
                "int": "whole number",
                "float": "number",
                "ints": "list of whole numbers",
                "size": "whole number (or one per axis)",
            }
            return noun[self.kind] + span
        return {"bool": "true or false", "str": "text"}[self.kind]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": self.default}
        if self.minimum is not None:
            data["minimum"] = self.minimum
        if self.maximum is not None:
            data["maximum"] = self.maximum
        if self.choices:
            data["choices"] = list(self.choices)
        if self.length is not None:
            data["length"] = self.length
        if self.optional:
            data["optional"] = True
        data["help"] = self.help
        return data


@dataclass(frozen=True)
class Port:
    """A named socket on a node. `multiple` ports take any number of wires; an `optional`
    one (always after the required ones) may be left unwired. `kind` is what numbers the
    port takes, when it differs from the layer's `input_kind` (a mask of token ids)."""

    name: str
    help: str = ""
    multiple: bool = False
    optional: bool = False
    kind: InputKind | None = None


@dataclass(frozen=True)
class Call:
    """One torch constructor call, such as ``nn.Linear(64, 10, bias=True)``.

    A layer declares the call once; the compiler makes the module from it and
    the Python export writes it as code, so the two can never disagree.
    """

    name: str  # "nn.Linear", or a class of engine.modules ("Reshape")
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def custom_module(self) -> str | None:
        """The engine.modules class this call needs copied into exported code, if any."""
        return None if self.name.startswith("nn.") else self.name

    def module(self) -> nn.Module:
        owner = torch_nn() if self.custom_module is None else torch_modules()
        constructor = getattr(owner, self.name.removeprefix("nn."))
        return constructor(*self.args, **self.kwargs)  # type: ignore[no-any-return]

    def code(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


def call(name: str, *args: Any, **kwargs: Any) -> Call:
    """``call("nn.Linear", 64, 10, bias=True)``: the way declarations spell their module."""
    return Call(name, args, kwargs)


def _no_params(p: Params, ins: list[Shape]) -> int:
    return 0


def _elementwise_macs(p: Params, ins: list[Shape], out: Shape) -> int:
    return 0


@dataclass(frozen=True)
class LayerType:
    """A declaration of one kind of layer."""

    name: str
    category: str
    icon: str  # a qtawesome name, e.g. "mdi6.layers"
    help: str  # what it does, shapes in and out, when to use it
    params: tuple[Param, ...]
    infer: Callable[[Params, list[Shape]], Shape]  # the (first) output's shape
    module: Callable[[Params, list[Shape]], Call] | None  # None: no module (Input, Output)
    inputs: tuple[Port, ...] = (Port("in"),)
    outputs: tuple[Port, ...] = (Port("out"),)
    count_params: Callable[[Params, list[Shape]], int] = _no_params
    macs: Callable[[Params, list[Shape], Shape], int] = _elementwise_macs
    input_kind: InputKind = "float"
    exports_onnx: bool = True
    onnx_note: str = ""
    summary: tuple[str, ...] = ()  # parameter names shown on the node
    # outputs that depend on the parameters (a Split's pieces): the ports, a shape for each, and
    # a module that returns a tuple of tensors in port order
    output_ports: Callable[[Params], tuple[Port, ...]] | None = None
    infer_outputs: Callable[[Params, list[Shape]], list[Shape]] | None = None
    rectifier: bool = False  # zero for negative inputs: its units can die (the probe counts them)
    channel_axis: int | None = None  # output axis it is affine along, per channel (import folding)
    # no wire comes in (a Parameter, a Constant): the module is called with the network's first
    # input, only to give one copy of its tensor per sample of the batch
    sized_by_batch: bool = False

    @property
    def multi_output(self) -> bool:
        return self.output_ports is not None

    def outputs_for(self, params: Params) -> tuple[Port, ...]:
        """The output ports a node of this type has with (resolved) `params`."""
        if self.output_ports is None:
            return self.outputs
        try:
            return self.output_ports(params)
        except (TypeError, ValueError, KeyError):  # parameters not usable yet: Problems says why
            return self.outputs

    def output_shapes(self, params: Params, ins: list[Shape]) -> list[Shape]:
        """Every output's shape, in port order; raises ShapeError."""
        if self.infer_outputs is not None:
            return list(self.infer_outputs(params, ins))
        return [self.infer(params, ins)]

    def build(self, params: Params, ins: list[Shape]) -> nn.Module:
        """The torch module for resolved `params` and input shapes `ins`."""
        assert self.module is not None, f"{self.name} has no module"
        return self.module(params, ins).module()

    def code(self, params: Params, ins: list[Shape]) -> str:
        """The constructor as Python source, for the code export."""
        assert self.module is not None, f"{self.name} has no module"
        return self.module(params, ins).code()

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def resolved(self, given: Params) -> dict[str, Any]:
        """Parameters with defaults filled in for anything not given."""
        values = {p.name: p.default for p in self.params}
        values.update({k: v for k, v in given.items() if k in values})
        return values

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "category": self.category,
            "icon": self.icon,
            "help": self.help,
            "inputs": [
                {
                    "name": p.name,
                    "multiple": p.multiple,
                    **({"optional": True} if p.optional else {}),
                }
                for p in self.inputs
            ],
            "outputs": [p.name for p in self.outputs],
            "parameters": [p.to_json() for p in self.params],
            "exports_onnx": self.exports_onnx,
        }


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def numel(shape: Shape) -> int:
    return math.prod(shape) if shape else 1


def per_axis(value: Any, axes: int) -> tuple[int, ...]:
    """Expand a size parameter (``3`` or ``[3, 3]``) to one value per spatial axis."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * axes


def torch_nn() -> Any:
    """torch.nn, imported only when a module is built (keeps `check` and `layers` fast)."""
    from torch import nn

    return nn


def torch_modules() -> Any:
    """engine.modules (custom torch layers), imported only when a module is built."""
    from engine import modules

    return modules
