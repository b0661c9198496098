"""An imported flat graph folded into nested blocks along the file's module scopes.

Every module scope holding more than one layer (and not every layer of the scope around it)
becomes a block use, deepest first; scopes that cut out the same definition (same layers,
parameters and wiring: sizes layers infer from their input may differ) become uses of one
definition. A scope whose layers a path leaves and re-enters stays flat (a block there
would loop). Layers keep their weights: `paths` says where each flat layer ended up
(``layer1.0.conv1``), the name its weights have in the compiled module.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.generalise import generalise
from engine.graph import Graph, id_problem
from engine.grouping import Fold, convex, cut, fold
from engine.onnx_import.scopes import Scope, definition_name, relative

_ENDS = ("Input", "Output")


@dataclass(frozen=True)
class Nested:
    """The folded graph (its definitions in `graph.blocks`) and each flat layer's new path."""

    graph: Graph
    paths: dict[str, str]


def nest(graph: Graph, scopes: Mapping[str, Scope], classes: Mapping[Scope, str]) -> Nested:
    """Fold `graph` (flat, from convert) into blocks by the layers' scopes."""
    layers = [n.id for n in graph if n.type not in _ENDS]
    scope = {n: scopes.get(n, ()) for n in layers}
    chosen = _chosen_scopes(layers, scope)
    held: dict[str, list[str]] = {n: [n] for n in graph.nodes}  # top node -> flat layers
    path: dict[str, list[str]] = {n: [] for n in graph.nodes}  # flat layer -> path below top
    use_scope: dict[str, Scope] = {}  # a use node made here -> its scope
    made: list[str] = []  # the definitions made here, in order
    current = graph
    for depth in sorted({len(s) for s in chosen}, reverse=True):
        for block in [s for s in chosen if len(s) == depth]:
            ends = _top_ends(current)
            members = [
                n
                for n in current.nodes
                if n not in ends and _scope_of(n, scope, use_scope)[:depth] == block
            ]
            if len(members) < 2 or not convex(current, members):
                continue
            inner = _inner_ids(members, depth, scope, use_scope, current)
            found = cut(current, members, inner)
            if not found.inputs or not found.outputs:
                continue
            name, widened, values = _definition_for(block, classes, found.definition, made, current)
            outside = set(current.nodes) - set(members)
            use_id = _fresh(relative(block, depth - 1) if depth == 1 else "_".join(block), outside)
            spec = Fold(name, use_id, tuple(members), inner, values)
            current = fold(current, [spec], {name: widened} if widened is not None else None)
            use_scope[use_id] = block
            inside: list[str] = []
            for member in members:
                for flat in held.pop(member):
                    path[flat].insert(0, inner[member])
                    inside.append(flat)
            held[use_id] = inside
    paths = {flat: ".".join([top, *path[flat]]) for top, flats in held.items() for flat in flats}
    return Nested(current, paths)


def _top_ends(graph: Graph) -> set[str]:
    return {n.id for n in graph if n.type in _ENDS}


def _scope_of(node_id: str, scope: Mapping[str, Scope], use_scope: Mapping[str, Scope]) -> Scope:
    return use_scope.get(node_id) or scope.get(node_id, ())


def _chosen_scopes(layers: list[str], scope: Mapping[str, Scope]) -> list[Scope]:
    """The scopes to fold, in the order their first layer comes: more than one layer, and
    fewer than the nearest chosen scope around them (a scope of everything says nothing)."""
    counts: Counter[Scope] = Counter()
    first: dict[Scope, int] = {}
    for index, layer in enumerate(layers):
        s = scope[layer]
        for depth in range(1, len(s) + 1):
            counts[s[:depth]] += 1
            first.setdefault(s[:depth], index)
    chosen: list[Scope] = []
    for candidate in sorted(counts, key=lambda s: (len(s), first[s])):
        around = next(
            (
                counts[candidate[:d]]
                for d in range(len(candidate) - 1, 0, -1)
                if candidate[:d] in chosen
            ),
            len(layers),
        )
        if 1 < counts[candidate] < around:
            chosen.append(candidate)
    return sorted(chosen, key=lambda s: first[s])


def _inner_ids(
    members: list[str],
    depth: int,
    scope: Mapping[str, Scope],
    use_scope: Mapping[str, Scope],
    graph: Graph,
) -> dict[str, str]:
    """Each member's id inside the definition: the module name one level down (``conv1``,
    ``0`` for a Sequential's item), else its layer type (``add``); repeats get ``_2``."""
    taken: set[str] = set()
    inner: dict[str, str] = {}
    for member in members:
        s = _scope_of(member, scope, use_scope)
        wanted = relative(s, depth) if len(s) > depth else graph.nodes[member].type.lower()
        inner[member] = _fresh(wanted, taken)
        taken.add(inner[member])
    return inner


def _fresh(wanted: str, taken: set[str]) -> str:
    stem = wanted if id_problem(wanted) is None else re.sub(r"[^A-Za-z0-9_]", "_", wanted)
    stem = stem.strip("_")[:50] or "layer"
    if id_problem(stem) is not None:
        stem = ("n_" if not stem[0].isalpha() else "") + stem
        if id_problem(stem) is not None:
            stem += "_layer"
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}_{n}", n + 1
    return name


def _definition_for(
    block: Scope, classes: Mapping[Scope, str], found: Graph, made: list[str], graph: Graph
) -> tuple[str, Graph | None, dict[str, Any]]:
    """The definition a scope's layers make: a known one when they cut the same up to channel
    counts and strides (widened with parameters for them, and this use's values), else a new
    name from the class or the scope, numbered when taken (``BasicBlock2``)."""
    for name in made:
        widened = generalise(graph.blocks[name], found, graph.blocks)
        if widened is not None:
            return name, widened[0], widened[1]
    stem = definition_name(block, classes.get(block))
    name, n = stem, 2
    while name in made:
        name, n = f"{stem}{n}", n + 1
    made.append(name)
    return name, None, {}
