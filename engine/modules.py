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


class AttentionMasks:
    """Which keys each query may not look at: later steps (causal, as GPT does) and padding
    (steps whose value in `padding`, one per step, equals `padding_id`, as BERT does).

    A query left with no key at all (a sequence that is all padding) looks at itself
    alone: its softmax would be over nothing, NaN in an exported file and in torch's
    attention weights. Every other query gets exactly torch's masked attention."""

    causal: bool = False
    padding_id: float = 0

    def blocked(
        self, x: torch.Tensor, padding: torch.Tensor | None, heads: int
    ) -> torch.Tensor | None:
        """True where a query may not attend to a key: (steps, steps), or with padding
        (batch * heads, steps, steps), as torch's attention takes an `attn_mask`."""
        steps = x.shape[1]
        position = torch.arange(steps, device=x.device)
        later = position.unsqueeze(0) > position.unsqueeze(1)  # [query, key]: key after query
        if padding is None:
            return later if self.causal else None
        blocked = (padding == self.padding_id).unsqueeze(1).expand(-1, steps, -1)
        if self.causal:
            blocked = blocked | later
        itself = position.unsqueeze(0) == position.unsqueeze(1)
        blocked = blocked & ~(blocked.all(dim=-1, keepdim=True) & itself)
        batch = blocked.shape[0]
        return blocked.unsqueeze(1).expand(batch, heads, steps, steps).reshape(-1, steps, steps)


class SelfAttention(AttentionMasks, nn.Module):
    """Multi-head self-attention: queries, keys and values are the same sequence; optionally
    causal (a step sees only itself and earlier steps) and blind to padding steps."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        causal: bool = False,
        padding_id: float = 0,
    ) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(
            embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True
        )
        self.causal = causal
        self.padding_id = padding_id

    def forward(self, x: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        mask = self.blocked(x, padding, self.attention.num_heads)
        return self.attention(x, x, x, need_weights=False, attn_mask=mask)[0]


class MaskedEncoderLayer(AttentionMasks, nn.TransformerEncoderLayer):
    """torch's Transformer encoder block (batch first), optionally causal and blind to
    padding steps; its weights are named exactly as nn.TransformerEncoderLayer's."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
        causal: bool = False,
        padding_id: float = 0,
    ) -> None:
        super().__init__(
            d_model,
            nhead,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            norm_first=norm_first,
            batch_first=True,
        )
        self.causal = causal
        self.padding_id = padding_id

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, padding: torch.Tensor | None = None
    ) -> torch.Tensor:
        mask = self.blocked(x, padding, self.self_attn.num_heads)
        return super().forward(x, src_mask=mask)


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


class Broadcasting(nn.Module):
    """What the layers that combine wires element by element share: each sample's axes are
    lined up from the last, as numpy broadcasts them, so a 32x1x1 gate scales a 32x8x8 map
    and a vector of 8 is added to every row of a 5x8 sequence (the batch axis stays first)."""

    @staticmethod
    def line_up(xs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        rank = max(x.dim() for x in xs)
        lined = []
        for x in xs:
            while x.dim() < rank:
                x = x.unsqueeze(1)
            lined.append(x)
        return lined


class Add(Broadcasting):
    """Element-wise sum of all inputs (a residual connection), broadcast."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        first, *rest = self.line_up(xs)
        total = first
        for x in rest:
            total = total + x
        return total


class Multiply(Broadcasting):
    """Element-wise product of all inputs (gating), broadcast."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        first, *rest = self.line_up(xs)
        product = first
        for x in rest:
            product = product * x
        return product


class Binary(Broadcasting):
    """a - b, a / b, a ** b, the larger or the smaller of a and b: element-wise, broadcast."""

    def __init__(self, operation: str) -> None:
        super().__init__()
        self.operation = operation

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = self.line_up((a, b))
        if self.operation == "subtract":
            return a - b
        if self.operation == "divide":
            return a / b
        if self.operation == "power":
            return torch.pow(a, b)
        if self.operation == "maximum":
            return torch.maximum(a, b)
        return torch.minimum(a, b)


class MatMul(Broadcasting):
    """Matrix product of each sample's last two axes (a: n x k, b: k x m -> n x m)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = self.line_up((a, b))
        return torch.matmul(a, b)


class Elementwise(nn.Module):
    """One of torch's element-wise functions by name: exp, log, sqrt, abs, neg, reciprocal, erf."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(torch, self.function)(x)  # type: ignore[no-any-return]


class HardSigmoid(nn.Module):
    """clamp(alpha * x + beta, 0, 1); torch's nn.Hardsigmoid is alpha 1/6, beta 0.5."""

    def __init__(self, alpha: float, beta: float) -> None:
        super().__init__()
        self.alpha = alpha
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x * self.alpha + self.beta, 0.0, 1.0)


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


class Slice(nn.Module):
    """Keep every `step`-th entry from `start` up to (not including) `end` along one axis."""

    def __init__(self, axis: int, start: int, end: int | None, step: int = 1) -> None:
        super().__init__()
        self.dim = axis + 1 if axis >= 0 else axis
        self.start, self.end, self.step = start, end, step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None)] * x.dim()
        index[self.dim] = slice(self.start, self.end, self.step)
        return x[tuple(index)]


class Select(nn.Module):
    """The entry at `index` along one axis, that axis dropped (the class token of a ViT)."""

    def __init__(self, axis: int, index: int) -> None:
        super().__init__()
        self.dim = axis + 1 if axis >= 0 else axis
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.select(self.dim, self.index)


class Squeeze(nn.Module):
    """Drop the given axes of size 1 (counted with the batch axis as 0)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.squeeze(x, self.dims)


class Unsqueeze(nn.Module):
    """Insert axes of size 1 at the given places of the result (the batch axis is 0)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = tuple(sorted(dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dim in self.dims:
            x = x.unsqueeze(dim)
        return x


class Expand(nn.Module):
    """Stretch axes of size 1 to `shape` without copying; missing leading axes are added."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        while x.dim() < len(self.shape) + 1:
            x = x.unsqueeze(1)
        return x.expand(-1, *self.shape)


class Tile(nn.Module):
    """Repeat each sample `repeats[i]` times along axis i."""

    def __init__(self, repeats: tuple[int, ...]) -> None:
        super().__init__()
        self.repeats = tuple(repeats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat(1, *self.repeats)


class Reduce(nn.Module):
    """The mean, sum, largest or smallest value over some axes of each sample."""

    def __init__(self, mode: str, dims: tuple[int, ...], keep: bool = False) -> None:
        super().__init__()
        self.mode, self.dims, self.keep = mode, tuple(dims), keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "mean":
            return x.mean(dim=self.dims, keepdim=self.keep)
        if self.mode == "sum":
            return x.sum(dim=self.dims, keepdim=self.keep)
        if self.mode == "max":
            return x.amax(dim=self.dims, keepdim=self.keep)
        return x.amin(dim=self.dims, keepdim=self.keep)


class LearnableTensor(nn.Module):
    """A learned tensor that reads no input (a ViT's class token and position embeddings, a
    layer scale), handed out once per sample of the batch it is called with."""

    def __init__(self, shape: tuple[int, ...], init: str = "normal", scale: float = 0.02) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.empty(1, *shape))
        with torch.no_grad():
            if init == "zeros":
                self.value.zero_()
            elif init == "ones":
                self.value.fill_(1.0)
            elif init == "constant":
                self.value.fill_(scale)
            elif init == "normal":
                self.value.normal_(0.0, scale)
            else:
                self.value.uniform_(-scale, scale)

    def forward(self, like: torch.Tensor) -> torch.Tensor:
        return self.value.expand(like.shape[0], *self.value.shape[1:])


class ConstantTensor(nn.Module):
    """A fixed tensor (saved with the weights, never trained), once per sample of the batch."""

    def __init__(self, shape: tuple[int, ...], value: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("value", torch.full((1, *shape), float(value)))

    value: torch.Tensor

    def forward(self, like: torch.Tensor) -> torch.Tensor:
        return self.value.expand(like.shape[0], *self.value.shape[1:])
