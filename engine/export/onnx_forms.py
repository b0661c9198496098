"""Export-time stand-ins that give some layers their single ONNX operator.

torch writes `nn.LocalResponseNorm` as some sixty primitive operators, which
no reader (Netwright's import included) recognises as LRN. For the export
only, such layers are swapped for a module whose autograd function carries a
`symbolic` method naming the ONNX operator; the numbers are torch's own, and
verification still compares the file with the original layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn


class _LRNFunction(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, size: int, alpha: float, beta: float, k: float
    ) -> torch.Tensor:  # type: ignore[override]
        return nn.functional.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g: Any, x: Any, size: int, alpha: float, beta: float, k: float) -> Any:
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class OnnxLocalResponseNorm(nn.Module):
    """`nn.LocalResponseNorm` that exports as ONNX's LRN (same window for odd sizes)."""

    def __init__(self, layer: nn.LocalResponseNorm) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layer = self.layer
        return _LRNFunction.apply(x, layer.size, layer.alpha, layer.beta, layer.k)  # type: ignore[no-any-return]


@contextlib.contextmanager
def onnx_forms(module: nn.Module) -> Iterator[None]:
    """Swap layers for their single-operator export forms while the exporter traces."""
    swapped: list[tuple[str, nn.Module]] = []
    for name, child in list(module.named_children()):
        # torch pads the channel window unevenly for even sizes; ONNX's LRN does not
        if isinstance(child, nn.LocalResponseNorm) and child.size % 2 == 1:
            swapped.append((name, child))
            setattr(module, name, OnnxLocalResponseNorm(child))
    try:
        yield
    finally:
        for name, child in swapped:
            setattr(module, name, child)
