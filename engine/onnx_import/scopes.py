"""Module scopes an exporter left in an ONNX file, read per operator.

torch's TorchScript exporter names operators by the module path that made them
(``/layer1/layer1.0/conv1/Conv``); its dynamo exporter names them ``node_conv2d_3`` and
keeps the path in metadata (``pkg.torch.onnx.name_scopes``: ``['', 'layer1', 'layer1.0',
'layer1.0.conv1', 'conv2d_3']``) beside the module classes (``pkg.torch.onnx.class_hierarchy``).
Either way a scope is the tuple of module names above the operator, the operator itself
left out; an operator with neither is at the top, ``()``.
"""

from __future__ import annotations

import ast
import re
from typing import Any

Scope = tuple[str, ...]

NAME_SCOPES = "pkg.torch.onnx.name_scopes"
CLASS_HIERARCHY = "pkg.torch.onnx.class_hierarchy"
# containers say nothing about what they hold: such a scope is named after itself instead
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})


def _metadata(node: Any) -> dict[str, str]:
    return {p.key: p.value for p in getattr(node, "metadata_props", ())}


def _listed(text: str | None) -> list[str] | None:
    if not text:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def scope_of(node: Any) -> Scope:
    """The module path above one ONNX operator."""
    scopes = _listed(_metadata(node).get(NAME_SCOPES))
    if scopes is not None:
        return tuple(s for s in scopes[:-1] if s)
    name = getattr(node, "name", "") or ""
    if not name.startswith("/"):
        return ()
    return tuple(p for p in name.strip("/").split("/")[:-1] if p)


def classes_of(node: Any) -> dict[Scope, str]:
    """Each scope of the operator with the class of its module (``BasicBlock``), where the
    file says (dynamo's metadata); empty otherwise."""
    meta = _metadata(node)
    scopes, classes = _listed(meta.get(NAME_SCOPES)), _listed(meta.get(CLASS_HIERARCHY))
    if scopes is None or classes is None or len(scopes) != len(classes):
        return {}
    found: dict[Scope, str] = {}
    path: list[str] = []
    for scope, cls in zip(scopes[:-1], classes[:-1]):
        if scope:
            path.append(scope)
            found[tuple(path)] = cls.rsplit(".", 1)[-1]
    return found


def relative(scope: Scope, depth: int) -> str:
    """The name of `scope`'s module at `depth` inside its parent: ``layer1.0`` in ``layer1``
    is ``0``, dynamo's ``layer1.0.conv1`` in ``layer1.0`` is ``conv1``."""
    name = scope[depth]
    if depth > 0 and name.startswith(scope[depth - 1] + "."):
        name = name[len(scope[depth - 1]) + 1 :]
    return name


def camel(text: str) -> str:
    """``layer1`` -> ``Layer1``, ``dense_block`` -> ``DenseBlock``: a class-like name."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts)
    return name if name[:1].isalpha() else "Block" + name


def definition_name(scope: Scope, cls: str | None) -> str:
    """A readable definition name for the first scope of a kind: its module class when the
    file says and it is not a container, else from the scope (``layer1.0`` -> ``Layer1Block``,
    ``layer1`` -> ``Layer1``)."""
    if cls and cls not in CONTAINERS and re.match(r"^[A-Za-z][A-Za-z0-9_]*$", cls):
        return cls[:60]
    own = relative(scope, len(scope) - 1)
    if own.isdigit() and len(scope) > 1:  # an item of a Sequential: named after the sequence
        return (camel(relative(scope, len(scope) - 2)) + "Block")[:60]
    return camel(own)[:60] or "Block"
