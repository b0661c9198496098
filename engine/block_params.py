"""Editing a block definition's declared parameters (docs/blocks.md, per-use parameters):
what each one is used by, and what renaming one, removing one or changing its default
changes across the project.

Nothing here edits a graph: each edit is returned as a `ParamChange` (the definition's new
declaration and every layer or use parameter to set), so the designer can apply it as one
undo step and the tests can read it. A refused edit raises `BlockParamError` with the reason
in plain words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.blocks import (
    BLOCK,
    PARAM_KINDS,
    REFERENCE,
    declared,
    param_name_problem,
    reference,
    references,
    use_param,
)

if TYPE_CHECKING:
    from engine.graph import Graph


class BlockParamError(ValueError):
    """An edit of a block parameter that cannot be made; the message says why."""


@dataclass(frozen=True)
class ParamUsage:
    """Who uses block parameter `name`: the layer parameters inside the definition that refer
    to it, and of the block nodes using the definition, those that set their own value."""

    name: str
    default: Any
    layers: tuple[tuple[str, str], ...]  # (node id, layer parameter) inside the definition
    uses: int  # block nodes using the definition, in every network and definition
    own: tuple[str, ...]  # the ids of the block nodes that set their own value

    @property
    def unused(self) -> bool:
        """No layer refers to it: its value changes nothing."""
        return not self.layers


@dataclass(frozen=True)
class ParamSet:
    """Set parameter `param` of node `node` in `graph` to `value` (None removes it)."""

    graph: Graph
    node: str
    param: str
    value: Any


@dataclass(frozen=True)
class ParamChange:
    """One edit of a definition's parameters: its new declaration (None: declares none, the
    key goes) and the layer and use parameters that change with it."""

    declared: dict[str, Any] | None
    sets: tuple[ParamSet, ...]


def _graphs(blocks: Mapping[str, Graph], networks: Iterable[Graph]) -> list[Graph]:
    return [*networks, *blocks.values()]


def _uses(block: str, blocks: Mapping[str, Graph], networks: Iterable[Graph]):
    """Every (graph, node) using definition `block`, networks first."""
    for graph in _graphs(blocks, networks):
        for node in graph:
            if node.type == BLOCK and node.params.get("block") == block:
                yield graph, node


def _definition(block: str, blocks: Mapping[str, Graph], name: str) -> Graph:
    definition = blocks.get(block)
    if definition is None:
        raise BlockParamError(f"the project has no block '{block}'")
    if name not in declared(definition):
        raise BlockParamError(f"block '{block}' has no parameter '{name}'")
    return definition


def usage(block: str, blocks: Mapping[str, Graph], networks: Iterable[Graph]) -> list[ParamUsage]:
    """Each parameter definition `block` declares, in its order, with who uses it."""
    definition = blocks[block]
    refs = references(definition)
    uses = list(_uses(block, blocks, networks))
    return [
        ParamUsage(
            name,
            default,
            tuple(key for key, ref in refs.items() if ref == name),
            len(uses),
            tuple(node.id for _graph, node in uses if name in node.params),
        )
        for name, default in declared(definition).items()
    ]


def rename_param(
    block: str, blocks: Mapping[str, Graph], networks: Iterable[Graph], old: str, new: str
) -> ParamChange:
    """Rename parameter `old` of definition `block` to `new`: in its declaration (its place
    kept), in every reference inside, and as the key of every use's own value."""
    definition = _definition(block, blocks, old)
    if new == old:
        return ParamChange(declared(definition), ())
    problem = param_name_problem(definition, new)
    if problem is not None:
        raise BlockParamError(problem)
    params = {(new if k == old else k): v for k, v in declared(definition).items()}
    sets = [
        ParamSet(definition, node_id, key, {REFERENCE: new})
        for (node_id, key), ref in references(definition).items()
        if ref == old
    ]
    for graph, node in _uses(block, blocks, networks):
        if old in node.params:
            sets.append(ParamSet(graph, node.id, old, None))
            sets.append(ParamSet(graph, node.id, new, node.params[old]))
    return ParamChange(params, tuple(sets))


def remove_param(
    block: str, blocks: Mapping[str, Graph], networks: Iterable[Graph], name: str
) -> ParamChange:
    """Stop declaring parameter `name` of definition `block`: each layer parameter that
    refers to it takes its default as a fixed value, and the uses' own values go."""
    definition = _definition(block, blocks, name)
    params = declared(definition)
    default = params.pop(name)
    sets = [
        ParamSet(definition, node_id, key, default)
        for (node_id, key), ref in references(definition).items()
        if ref == name
    ]
    sets += [
        ParamSet(graph, node.id, name, None)
        for graph, node in _uses(block, blocks, networks)
        if name in node.params
    ]
    return ParamChange(params or None, tuple(sets))


def default_problem(block: str, definition: Graph, name: str, value: Any) -> str | None:
    """Why `value` cannot be the default of parameter `name`, or None: it keeps the kind of
    the default it has, and stays in the range of the layer parameters it sets."""
    current = declared(definition).get(name)
    kind = PARAM_KINDS.get(type(current))
    given = PARAM_KINDS.get(type(value))
    if kind == "float" and given == "int":
        given = "float"
    if kind is not None and given != kind:
        return f"the default of '{name}' must be {_KIND_WORDS[kind]} like its default {current!r}"
    return use_param(block, definition, name, current).check(value)


_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text"}


def change_default(block: str, blocks: Mapping[str, Graph], name: str, value: Any) -> ParamChange:
    """Make `value` the default of parameter `name` of definition `block` (the uses that set
    no value of their own take it)."""
    definition = _definition(block, blocks, name)
    problem = default_problem(block, definition, name, value)
    if problem is not None:
        raise BlockParamError(problem)
    if isinstance(declared(definition)[name], float) and not isinstance(value, bool):
        value = float(value)
    return ParamChange({**declared(definition), name: value}, ())


def still_referred(definition: Graph, name: str) -> bool:
    """Whether a layer (or a block use) inside `definition` still refers to `name`."""
    return any(reference(v) == name for node in definition for v in node.params.values())
