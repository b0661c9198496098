"""Blocks: named subgraphs defined once per project and used by `Block` nodes.

A definition is an ordinary `Graph` whose boundary is `BlockInput` and
`BlockOutput` nodes; a use is a node of type `Block` whose `block` parameter
names it (docs/blocks.md). Catalogue layers have fixed ports, a use's come from
its definition, so this module makes a use's `LayerType` on demand, and every
reader of ports and parameters asks `layer_for` instead of the catalogue.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.layers import layer_type
from engine.layers.base import LayerType, Param, ParamKind, Port

if TYPE_CHECKING:
    from engine.graph import Graph, Node

BLOCK = "Block"
BLOCK_INPUT = "BlockInput"
BLOCK_OUTPUT = "BlockOutput"
BLOCK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
CATEGORY = "Blocks"

BLOCK_INPUT_LAYER = LayerType(
    name=BLOCK_INPUT,
    category=CATEGORY,
    icon="mdi6.import",
    help=(
        "Where data enters a block. It takes the shape of the wire into the block node's "
        "matching input port. Only inside a block definition."
    ),
    params=(),
    infer=lambda p, ins: (),  # analysis gives it the use's input shape
    module=None,
    inputs=(),
    input_kind="any",
)

BLOCK_OUTPUT_LAYER = LayerType(
    name=BLOCK_OUTPUT,
    category=CATEGORY,
    icon="mdi6.export",
    help="Where data leaves a block, through the block node's matching output port.",
    params=(),
    infer=lambda p, ins: ins[0],
    module=None,
    outputs=(),
    input_kind="any",
)

BOUNDARY = {BLOCK_INPUT: BLOCK_INPUT_LAYER, BLOCK_OUTPUT: BLOCK_OUTPUT_LAYER}


def block_problem(name: str) -> str | None:
    """Why `name` cannot name a block definition, or None when it can."""
    if not BLOCK_NAME.match(name):
        return (
            f"'{name[:40]}' is not a usable block name: up to 64 letters, digits and _, "
            "starting with a letter"
        )
    return None


def boundary_ids(definition: Graph, kind: str) -> tuple[str, ...]:
    """The ids of a definition's `BlockInput`s (or `BlockOutput`s), in its node order."""
    return tuple(node.id for node in definition if node.type == kind)


def port_names(definition: Graph, kind: str) -> tuple[str, ...]:
    """A use's port names for the boundary nodes of `kind`: ``in``/``out`` when there is one
    (a one-in-one-out block wires like any layer), else the boundary nodes' ids."""
    ids = boundary_ids(definition, kind)
    if len(ids) == 1:
        return ("in",) if kind == BLOCK_INPUT else ("out",)
    return ids


def definition_of(node: Node, blocks: Mapping[str, Graph]) -> tuple[str, Graph] | None:
    """The name and graph of the definition a `Block` node uses, None if it names none."""
    name = node.params.get("block")
    if node.type != BLOCK or not isinstance(name, str) or name not in blocks:
        return None
    return name, blocks[name]


def block_layer(name: str, definition: Graph) -> LayerType:
    """The `LayerType` of a use of `definition`: its ports, its one parameter."""
    inputs = tuple(Port(p) for p in port_names(definition, BLOCK_INPUT))
    outputs = tuple(Port(p) for p in port_names(definition, BLOCK_OUTPUT))
    return LayerType(
        name=BLOCK,
        category=CATEGORY,
        icon="mdi6.cube-outline",
        help=f"A use of block '{name}': the layers of its definition, run as one node.",
        params=(
            Param("block", "str", name, "The block definition this node uses."),
            *(
                use_param(name, definition, key, default)
                for key, default in declared(definition).items()
            ),
        ),
        infer=lambda p, ins: (),  # analysis looks inside the definition
        module=None,
        inputs=inputs,
        outputs=outputs or (Port("out"),),
        output_ports=(lambda p: outputs) if len(outputs) > 1 else None,
        input_kind="any",
        summary=("block", *declared(definition)),
    )


def layer_for(node: Node, blocks: Mapping[str, Graph]) -> LayerType | None:
    """The declaration of `node`: a catalogue layer, a block boundary, or a block use's;
    None for an unknown type or a use of a definition the project does not have."""
    if node.type == BLOCK:
        found = definition_of(node, blocks)
        return block_layer(*found) if found is not None else None
    return BOUNDARY.get(node.type) or layer_type(node.type)


def definition_loop(blocks: Mapping[str, Graph]) -> list[str] | None:
    """A loop of definitions using each other (``["A", "B", "A"]``), None when there is none."""
    uses = {
        name: [n.params.get("block") for n in graph if n.type == BLOCK]
        for name, graph in blocks.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return [*trail[trail.index(name) :], name]
        if name in done or name not in uses:
            return None
        for used in uses[name]:
            if isinstance(used, str):
                loop = visit(used, [*trail, name])
                if loop:
                    return loop
        done.add(name)
        return None

    for name in blocks:
        loop = visit(name, [])
        if loop:
            return loop
    return None


def uses_of(blocks: Mapping[str, Graph], graphs: Mapping[str, Graph]) -> dict[str, int]:
    """How many `Block` nodes use each definition, across networks and definitions."""
    counts = dict.fromkeys(blocks, 0)
    for graph in [*graphs.values(), *blocks.values()]:
        for node in graph:
            name = node.params.get("block")
            if node.type == BLOCK and isinstance(name, str) and name in counts:
                counts[name] += 1
    return counts


# Per-use parameters (docs/blocks.md): a definition declares `"params": {"channels": 64}` (kept
# in its graph's `extra`), a layer inside refers to one as `{"param": "channels"}`, a use sets
# `{"block": "B", "channels": 128}`. Each use is analysed as its definition with the
# references replaced by its values, so everything downstream sees plain numbers.
REFERENCE = "param"
PARAM_KINDS: dict[type, ParamKind] = {bool: "bool", int: "int", float: "float", str: "str"}


def reference(value: Any) -> str | None:
    """The block parameter a layer parameter refers to (``{"param": "channels"}``), or None."""
    if isinstance(value, dict) and set(value) == {REFERENCE} and isinstance(value[REFERENCE], str):
        return value[REFERENCE]
    return None


def declared(definition: Graph) -> dict[str, Any]:
    """The parameters a definition declares, with their defaults (none: ``{}``)."""
    params = definition.extra.get("params")
    return dict(params) if isinstance(params, dict) else {}


def declaration_problems(definition: Graph) -> list[str]:
    """What is wrong with a definition's declared parameters, in plain words."""
    params = definition.extra.get("params")
    if params is None:
        return []
    if not isinstance(params, dict):
        return ['"params" must be an object of parameter names and their defaults']
    problems = []
    for name, default in params.items():
        if not name.isidentifier() or name == "block":
            problems.append(f"'{name}' cannot name a block parameter: use a Python name, not block")
        elif type(default) not in PARAM_KINDS:
            problems.append(f"parameter '{name}' needs a number, text or true/false as default")
    return problems


def use_values(node: Node, definition: Graph) -> dict[str, Any]:
    """A use's value of each declared parameter: its own where it sets one, else the default."""
    values = declared(definition)
    values.update({k: v for k, v in node.params.items() if k in values})
    return values


@dataclass(frozen=True)
class Unresolved:
    """A reference inside a definition to a parameter it does not declare."""

    node: str
    param: str
    name: str


def instantiate(definition: Graph, values: Mapping[str, Any]) -> tuple[Graph, list[Unresolved]]:
    """`definition` with every reference replaced by its value in `values` (a new graph sharing
    the project's definitions); references to undeclared names are listed, left in place."""
    if not any(reference(v) is not None for n in definition for v in n.params.values()):
        return definition, []
    missing: list[Unresolved] = []
    clone = definition.copy()
    clone.blocks = definition.blocks
    for node in clone:
        for key, value in list(node.params.items()):
            name = reference(value)
            if name is None:
                continue
            if name in values:
                node.params[key] = values[name]
            else:
                missing.append(Unresolved(node.id, key, name))
    return clone, missing


def references(definition: Graph) -> dict[tuple[str, str], str]:
    """Every reference in a definition: (node id, layer parameter) -> block parameter."""
    return {
        (node.id, key): name
        for node in definition
        for key, value in node.params.items()
        if (name := reference(value)) is not None
    }


def use_param(block: str, definition: Graph, name: str, default: Any) -> Param:
    """How a use's inspector and value checks see block parameter `name`: the default's kind,
    and the tightest range of the layer parameters it sets (so a convolution's width stays at
    least 1), its help naming them."""
    kind = PARAM_KINDS.get(type(default), "str")
    targets = [key for key, ref in references(definition).items() if ref == name]
    low: float | None = None
    high: float | None = None
    for node_id, key in targets:
        layer = layer_for(definition.nodes[node_id], definition.blocks)
        target = layer.param(key) if layer is not None else None
        if target is None or kind not in ("int", "float"):
            continue
        if target.minimum is not None:
            low = target.minimum if low is None else max(low, target.minimum)
        if target.maximum is not None:
            high = target.maximum if high is None else min(high, target.maximum)
    sets = ", ".join(f"{n}.{k}" for n, k in targets) or "nothing yet"
    text = f"Per-use parameter of block '{block}': each block node sets its own. Sets {sets}."
    return Param(name, kind, default, text, minimum=low, maximum=high)


def suggested_param_name(definition: Graph, layer_param: str) -> str:
    """A free name for a new block parameter that layer parameter `layer_param` will use:
    ``out_channels`` -> ``channels``, ``out_features`` -> ``features``, else the parameter's
    own name; ``channels2``, ``channels3``... when taken."""
    stem = layer_param[4:] if layer_param.startswith("out_") else layer_param
    if not stem.isidentifier() or stem == "block":
        stem = "value"
    taken = set(declared(definition))
    name, number = stem, 2
    while name in taken:
        name, number = f"{stem}{number}", number + 1
    return name


def param_name_problem(definition: Graph, name: str) -> str | None:
    """Why `name` cannot name a new parameter of `definition`, or None when it can."""
    if not name.isidentifier() or keyword.iskeyword(name) or name == "block":
        return f"'{name[:40]}' cannot name a block parameter: use a Python name (not block)"
    if name in declared(definition):
        return f"the block already has a parameter '{name}'"
    return None


def fitting_params(definition: Graph, param: Param) -> list[str]:
    """The declared parameters of the same kind whose default is an acceptable value of layer
    parameter `param` (what a layer parameter may be linked to)."""
    kinds = {"size": "int", "ints": "int"}
    return [
        name
        for name, default in declared(definition).items()
        if param.check(default) is None
        and (
            param.kind == "choice"
            or PARAM_KINDS.get(type(default)) == kinds.get(param.kind, param.kind)
        )
    ]


def default_for(param: Param, value: Any) -> Any:
    """A block parameter's default from a layer parameter's current value: the value when it
    is a number, text or true/false (a reference: the layer's own default); None when the
    value cannot be one block parameter (a list such as a 3x5 kernel): linking it would
    change what every use computes."""
    if reference(value) is not None:
        value = param.default
    if type(value) in PARAM_KINDS and param.check(value) is None:
        return value
    return None
