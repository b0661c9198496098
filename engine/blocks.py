"""Blocks: named subgraphs defined once per project and used by `Block` nodes.

A definition is an ordinary `Graph` whose boundary is `BlockInput` and
`BlockOutput` nodes; a use is a node of type `Block` whose `block` parameter
names it (docs/blocks.md). Catalogue layers have fixed ports, a use's come from
its definition, so this module makes a use's `LayerType` on demand, and every
reader of ports and parameters asks `layer_for` instead of the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from engine.layers import layer_type
from engine.layers.base import LayerType, Param, Port

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
        params=(Param("block", "str", name, "The block definition this node uses."),),
        infer=lambda p, ins: (),  # analysis looks inside the definition
        module=None,
        inputs=inputs,
        outputs=outputs or (Port("out"),),
        output_ports=(lambda p: outputs) if len(outputs) > 1 else None,
        input_kind="any",
        summary=("block",),
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
