"""What an ONNX value is while it is being imported.

A value is either a constant (folded into weights later), a tensor some
layer of the new graph computes (known by its per-sample shape, the batch axis
left out as everywhere in the engine), or a shape vector: the result of
``Shape(x)`` and the little computations exporters do on it, where the batch
size stays a symbol so a ``Reshape`` can tell whether it keeps the batch axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.graph import PortRef


class _Batch:
    """The symbolic batch size inside a shape vector."""

    def __repr__(self) -> str:
        return "batch"


BATCH = _Batch()


@dataclass(frozen=True)
class Const:
    """A value known before the network runs.

    `trainable`: a weight of the file (an initializer) or a view of one; kept as a layer of
    its own it becomes a Parameter, which trains, where any other constant is a Constant.
    `per_sample`: the first axis is the batch, its one entry standing for every sample (a
    constant that the file expands to the batch size, such as ViT's class token)."""

    value: np.ndarray
    trainable: bool = False
    per_sample: bool = False


@dataclass(frozen=True)
class Tensor:
    node: str  # id of the graph node computing it
    shape: tuple[int, ...]  # per sample
    integer: bool = False
    port: str = "out"  # the node's output it leaves from (a Split has several)

    @property
    def ref(self) -> PortRef:
        return PortRef(self.node, self.port)

    @property
    def full_rank(self) -> int:
        return len(self.shape) + 1


@dataclass(frozen=True)
class ShapeVec:
    items: tuple[Any, ...]  # ints and BATCH
    scalar: bool = False

    def const(self) -> Const | None:
        """The plain constant, once no entry depends on the batch size."""
        if any(i is BATCH for i in self.items):
            return None
        array = np.array(self.items, dtype=np.int64)
        return Const(array.reshape(()) if self.scalar else array)


@dataclass(frozen=True)
class Zeros:
    """Zeros whose shape involves the batch size (the initial state exporters give RNNs)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class TimeMajor:
    """A batch-first sequence seen with steps first: ``(steps, batch, features)``."""

    tensor: Tensor


@dataclass(frozen=True)
class RecurrentOutput:
    """ONNX RNN/LSTM/GRU output Y, ``(steps, directions, batch, hidden)``; `split` when the
    batch axis was moved before the directions: ``(steps, batch, directions, hidden)``."""

    tensor: Tensor  # the Recurrent layer's batch-first output (steps, directions * hidden)
    directions: int
    split: bool = False


@dataclass(frozen=True)
class Merged:
    """A tensor with every axis but the last merged into one, the batch among them: Hugging
    Face's Conv1D (GPT-2) writes a Linear as Reshape(x, [-1, k]), Gemm, Reshape back. The
    numbers keep their order, so only a product with a constant matrix (a Linear on the last
    axis) and the Reshape that splits the axes again may read it."""

    tensor: Tensor
    reshape: str  # the ONNX node that merged them, for a refusal to name


@dataclass(frozen=True)
class Unavailable:
    """An output no layer provides (an RNN's final state); reading it is refused with `reason`."""

    reason: str


Value = Const | Tensor | ShapeVec | Zeros | TimeMajor | RecurrentOutput | Merged | Unavailable


class Skipped:
    """The output of a node that could not be converted: its readers are skipped quietly."""


SKIPPED = Skipped()
