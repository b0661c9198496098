"""A layer's help as people read it: the palette tooltip and the inspector's notes.

Everything here is generated from the layer's declaration (its help text, its
ports, its parameters with their help, accepted values and defaults), so the
help cannot drift from what the layer really does.
"""

from __future__ import annotations

from html import escape
from typing import Any

from designer import theme
from engine.layers.base import LayerType, Param, Port

TOOLTIP_WIDTH = 380  # pixels: a paragraph, not one endless line


def accepted(param: Param) -> str:
    """The values a parameter takes, in plain words ("whole number, at least 1")."""
    if param.kind == "choice":
        return "one of " + ", ".join(str(c) for c in param.choices)
    if param.kind == "bool":
        return "on or off"
    if param.kind == "str":
        return "text"
    noun = {
        "int": "whole number",
        "float": "number",
        "ints": "list of whole numbers",
        "size": "whole number, or one per axis",
    }[param.kind]
    if param.kind == "ints" and param.length is not None:
        noun = f"{param.length} whole numbers"
    low, high = param.minimum, param.maximum
    if low is not None and high is not None:
        span = f"from {_number(low)} to {_number(high)}"
    elif low is not None:
        span = f"at least {_number(low)}"
    elif high is not None:
        span = f"at most {_number(high)}"
    else:
        span = ""
    extra = ", or empty" if param.optional else ""
    return f"{noun}, {span}{extra}" if span else noun + extra


def default_text(param: Param) -> str:
    value = param.default
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def ports_text(layer: LayerType) -> str:
    """What wires a layer takes and gives, e.g. "Takes any number of inputs · gives one output"."""
    takes = _ports(layer.inputs, "input")
    gives = _ports(layer.outputs, "output")
    if not layer.inputs and layer.sized_by_batch:
        return f"Takes no wire (the same tensor for every sample) · gives {gives}"
    if not layer.inputs:
        return f"Data enters here · gives {gives}"
    if not layer.outputs:
        return f"Takes {takes} · the network's result"
    return f"Takes {takes} · gives {gives}"


def _ports(ports: tuple[Port, ...], noun: str) -> str:
    if len(ports) == 1:
        return f"any number of {noun}s" if ports[0].multiple else f"one {noun}"
    names = ", ".join(
        p.name + (" (any number)" if p.multiple else "") + (" (optional)" if p.optional else "")
        for p in ports
    )
    return f"{len(ports)} {noun}s ({names})"


def param_tooltip(param: Param) -> str:
    """Plain text for a parameter's label and field."""
    return f"{param.help}\nAccepts: {accepted(param)}\nDefault: {default_text(param)}"


def param_note(param: Param) -> str:
    """The dim line under a parameter's field in the inspector: its help and what it accepts."""
    text = accepted(param)  # "one of BasicBlock, ...": only the first letter raised
    return f"{param.help}\n{text[:1].upper()}{text[1:]} · default {default_text(param)}"


def layer_tooltip(layer: LayerType) -> str:
    """Rich text for the palette: what the layer does, its wires, then each parameter."""
    dim, warn = theme.current().text_dim, theme.current().warning
    parts = [
        f"<div style='width:{TOOLTIP_WIDTH}px'>",
        f"<p style='margin:0'><b style='font-size:11pt'>{escape(layer.name, quote=False)}</b>"
        f"&nbsp;&nbsp;<span style='color:{dim}'>{escape(layer.category, quote=False)}</span></p>",
        f"<p style='margin:6px 0'>{escape(layer.help, quote=False)}</p>",
        f"<p style='margin:0 0 6px 0; color:{dim}'>{escape(ports_text(layer))}</p>",
    ]
    if layer.params:
        rows = "".join(_param_row(p, dim) for p in layer.params)
        parts.append(f"<table cellspacing='0' cellpadding='2'>{rows}</table>")
    else:
        parts.append(f"<p style='margin:0; color:{dim}'>No parameters.</p>")
    if not layer.exports_onnx:
        note = layer.onnx_note or "This layer cannot be exported to ONNX."
        parts.append(f"<p style='margin:6px 0 0 0; color:{warn}'>{escape(note, quote=False)}</p>")
    parts.append(
        f"<p style='margin:6px 0 0 0; color:{dim}'><i>Drag onto the canvas, "
        "or double-click to add it.</i></p></div>"
    )
    return "".join(parts)


def _param_row(param: Param, dim: str) -> str:
    return (
        f"<tr><td valign='top'><b>{escape(param.name, quote=False)}</b>&nbsp;</td>"
        f"<td>{escape(param.help, quote=False)}<br><span style='color:{dim}'>{escape(accepted(param))}"
        f" · default {escape(default_text(param))}</span></td></tr>"
    )


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
