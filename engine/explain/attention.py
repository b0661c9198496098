"""An attention layer's weights for one sample: per head, how much each query looks at each key.

The layers compute attention with `need_weights=False` (the fast kernel);
here a forward hook on the layer's own `nn.MultiheadAttention` runs it once
more on exactly the inputs and options it was called with (masks included,
whatever they are) asking for the weights of every head. The network's answer
is untouched, and the hook lives only for this one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def inner_attention(layer: nn.Module) -> nn.MultiheadAttention:
    """The `nn.MultiheadAttention` a MultiheadAttention or TransformerEncoderLayer node holds."""
    if isinstance(layer, nn.MultiheadAttention):
        return layer
    for module in layer.modules():
        if isinstance(module, nn.MultiheadAttention):
            return module
    raise ValueError(f"{type(layer).__name__} holds no multi-head attention")


def attention_maps(model: nn.Module, x: torch.Tensor, layer: nn.Module) -> np.ndarray:
    """heads x queries x keys for the first sample of `x`; each row sums to one."""
    attention = inner_attention(layer)
    seen: list[torch.Tensor] = []

    def again(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], _out: Any) -> None:
        options = {**kwargs, "need_weights": True, "average_attn_weights": False}
        weights = module.forward(*args, **options)[1]  # forward(): no hooks, so no recursion
        if isinstance(weights, torch.Tensor):
            seen.append(weights.detach())

    handle = attention.register_forward_hook(again, with_kwargs=True)
    was_training = model.training
    model.eval()
    try:
        # With gradients on, torch takes its general path (the fused encoder path skips the
        # attention module and so the hook); nothing is kept for a backward pass.
        with torch.enable_grad():
            model(x[:1])
    finally:
        handle.remove()
        model.train(was_training)
    if not seen:
        raise ValueError("the attention layer was not reached by this sample")
    weights = seen[0]
    if weights.dim() == 3:  # a module that averages over heads regardless: one "head"
        weights = weights.unsqueeze(1)
    return weights[0].float().numpy()
