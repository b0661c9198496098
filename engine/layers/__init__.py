"""The layer catalogue: every layer type the designer offers, by name."""

from __future__ import annotations

from engine.layers import (
    activation,
    arithmetic,
    conv,
    core,
    elementwise,
    merge,
    norm,
    padding,
    reduction,
    sequence,
    shaping,
    tensors,
)
from engine.layers.base import LayerType, Param, Port, Shape, ShapeError

CATEGORY_ORDER = (
    "Input / Output",
    "Dense",
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation",
    "Regularization",
    "Recurrent",
    "Attention",
    "Sequence",
    "Merge",
    "Math",
    "Tensor",
    "Reshape",
)

CATALOGUE: dict[str, LayerType] = {
    layer.name: layer
    for module in (
        core,
        conv,
        padding,
        reduction,
        norm,
        activation,
        sequence,
        merge,
        arithmetic,
        elementwise,
        tensors,
        shaping,
    )
    for layer in module.LAYERS
}


def layer_type(name: str) -> LayerType | None:
    """The declaration of `name`, or None for a type this version does not know."""
    return CATALOGUE.get(name)


def by_category() -> list[tuple[str, list[LayerType]]]:
    """Layer types grouped for the palette and listings, in a stable teaching order."""
    groups: dict[str, list[LayerType]] = {}
    for layer in CATALOGUE.values():
        groups.setdefault(layer.category, []).append(layer)
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))


__all__ = [
    "CATALOGUE",
    "LayerType",
    "Param",
    "Port",
    "Shape",
    "ShapeError",
    "by_category",
    "layer_type",
]
