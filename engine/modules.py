"""Small torch modules for layers torch does not ship in the form the designer needs.

Everything here depends only on torch and math: the Python code export copies
these classes verbatim into the exported file, so it runs with torch alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Reshape(nn.Module):
    """Reshape each sample to `shape`, keeping the batch axis."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Permute(nn.Module):
    """Reorder the axes of each sample (the batch axis stays first)."""

    def __init__(self, order: tuple[int, ...]) -> None:
        super().__init__()
        self.order = tuple(order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, *(i + 1 for i in self.order))


class Recurrent(nn.Module):
    """An RNN, LSTM or GRU that returns one tensor: the whole sequence or its last step."""

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        output: str = "last",
    ) -> None:
        super().__init__()
        kinds = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
        self.rnn = kinds[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence = self.rnn(x)[0]
        return sequence if self.output == "sequence" else sequence[:, -1]


class SelfAttention(nn.Module):
    """Multi-head self-attention: queries, keys and values are the same sequence."""

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True
    ) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(
            embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x, x, x, need_weights=False)[0]


class PositionalEncoding(nn.Module):
    """Adds the fixed sine/cosine position signal of "Attention Is All You Need"."""

    def __init__(self, length: int, dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
        scale = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        table = torch.zeros(length, dim)
        table[:, 0::2] = torch.sin(position * scale)
        table[:, 1::2] = torch.cos(position * scale[: dim // 2])
        self.register_buffer("table", table, persistent=False)
        self.dropout = nn.Dropout(dropout)

    table: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.table[: x.shape[1]])


class SequencePool(nn.Module):
    """Summarise a sequence (steps, features) into one vector: mean, max, first or last step."""

    def __init__(self, mode: str = "mean") -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "mean":
            return x.mean(dim=1)
        if self.mode == "max":
            return x.amax(dim=1)
        return x[:, 0] if self.mode == "first" else x[:, -1]


class Add(nn.Module):
    """Element-wise sum of all inputs (a residual connection)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total


class Multiply(nn.Module):
    """Element-wise product of all inputs (gating)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        product = xs[0]
        for x in xs[1:]:
            product = product * x
        return product


class Concat(nn.Module):
    """Join inputs along one axis of the sample (0 is the first axis after the batch)."""

    def __init__(self, axis: int = 0) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.axis + 1 if self.axis >= 0 else self.axis)


class Split(nn.Module):
    """Cut each sample into pieces of the given sizes along one axis; returns them as a tuple."""

    def __init__(self, sizes: tuple[int, ...], axis: int = 0) -> None:
        super().__init__()
        self.sizes = tuple(sizes)
        self.axis = axis

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        dim = self.axis + 1 if self.axis >= 0 else self.axis
        return tuple(torch.split(x, list(self.sizes), dim=dim))
