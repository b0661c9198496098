"""Every layer of a network by its path through block uses: ``stem``, ``block1.conv1``.

A compiled network nests one module per block use (`engine/compiler.py`), so
a layer inside a use is reached by its module path, the use ids from the
network down and then its own id, joined by dots: the same names its weights
have (``block1.conv1.weight``). A layer of the network itself keeps its node
id. The live views (the probe, the Inside tab) and `netwright explain --layer`
name layers this way.

A network of many nested layers (DenseNet-121 has some 370) would make each
look cost hundreds of hooks, so `within` keeps the network's own layers and
then those inside blocks, shallowest first, up to a limit, and says how many
it left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from torch import nn

from engine.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT
from engine.compiler import BlockModule, GraphModule
from engine.graph import Graph

SEP = "."


@dataclass(frozen=True)
class LayerPath:
    """One layer module of a compiled network, named by its path."""

    key: str  # "block1.conv1"; a layer of the network itself: its node id
    module: nn.Module

    @property
    def uses(self) -> tuple[str, ...]:
        """The block uses on the way in, outermost first (() for the network's own layers)."""
        return tuple(self.key.split(SEP)[:-1])

    @property
    def depth(self) -> int:
        return self.key.count(SEP)


def join(uses: Iterable[str], node: str) -> str:
    """The path of layer `node` inside the uses `uses` (outermost first)."""
    return SEP.join((*uses, node))


def layer_paths(model: nn.Module, prefix: str = "") -> Iterator[LayerPath]:
    """Each layer module of a compiled network in forward order, a block use's layers before
    the use itself (whose output is its last layer's)."""
    steps = getattr(model, "steps", None)
    if not isinstance(model, GraphModule) or steps is None:
        return
    for step in steps:
        module = getattr(model, step.node, None)
        if not isinstance(module, nn.Module):
            continue
        key = prefix + step.node
        if isinstance(module, BlockModule):
            yield from layer_paths(module, key + SEP)
        yield LayerPath(key, module)


def layer_types(graph: Graph, prefix: str = "") -> dict[str, str]:
    """Every node's type by path: the network's nodes (Input and uses too), and each use's
    layers under it (boundary nodes left out), once per use."""
    found: dict[str, str] = {}
    for node in graph:
        inner = prefix != "" and node.type in (BLOCK_INPUT, BLOCK_OUTPUT)
        if not inner:
            found[prefix + node.id] = node.type
        name = node.params.get("block")
        if node.type == BLOCK and isinstance(name, str) and name in graph.blocks:
            if prefix.count(SEP) < 32:  # a loop of blocks is a problem analysis reports
                found.update(layer_types(graph.blocks[name], f"{prefix}{node.id}{SEP}"))
    return found


def within(keys: Iterable[str], limit: int) -> tuple[list[str], int]:
    """`keys` (in order) with every network-level one kept and the ones inside blocks added
    shallowest first, up to `limit` in all; and how many were left out."""
    keys = list(keys)
    top = [k for k in keys if SEP not in k]
    inner = sorted((k for k in keys if SEP in k), key=lambda k: k.count(SEP))
    room = max(0, limit - len(top))
    kept = set(top) | set(inner[:room])
    return [k for k in keys if k in kept], max(0, len(inner) - room)


def shown(key: str) -> str:
    """A path as the window writes it, like the breadcrumbs: ``block1 › conv1``."""
    return key.replace(SEP, " › ")


__all__ = ["SEP", "LayerPath", "join", "layer_paths", "layer_types", "shown", "within"]
