"""Sequence layers: recurrent networks, attention, Transformers, positional encoding.

Sequences are ``steps x features`` per sample (batch first), as users draw them.
"""

from __future__ import annotations

from engine.layers._shape import expect_rank, fmt
from engine.layers.base import Call, LayerType, Param, Params, Port, Shape, ShapeError, call

_SEQUENCE = "a sequence steps x features"
_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _recurrent(cell: str) -> LayerType:
    gates = _GATES[cell]

    def infer(p: Params, ins: list[Shape]) -> Shape:
        expect_rank(ins[0], (2,), _SEQUENCE)
        width = p["hidden_size"] * (2 if p["bidirectional"] else 1)
        return (ins[0][0], width) if p["output"] == "sequence" else (width,)

    def weights(p: Params, ins: list[Shape]) -> int:
        hidden, directions = p["hidden_size"], 2 if p["bidirectional"] else 1
        total, size_in = 0, ins[0][1]
        for _ in range(p["num_layers"]):
            total += directions * gates * (hidden * (size_in + hidden) + 2 * hidden)
            size_in = hidden * directions
        return total

    def macs(p: Params, ins: list[Shape], out: Shape) -> int:
        return ins[0][0] * (weights(p, ins))

    memory = {
        "RNN": "a simple recurrent memory",
        "LSTM": "gated long short-term memory",
        "GRU": "a gated memory lighter than LSTM",
    }
    return LayerType(
        name=cell,
        category="Recurrent",
        icon="mdi6.repeat",
        help=(
            f"Reads a sequence step by step with {memory[cell]}. Input steps x features; output "
            "the whole sequence (steps x hidden) to stack more sequence layers, or only the last step "
            "(hidden) to feed a Linear classifier."
        ),
        params=(
            Param(
                "hidden_size",
                "int",
                64,
                "Size of the memory (features per step out).",
                minimum=1,
                badge="{} hidden",
            ),
            Param(
                "num_layers",
                "int",
                1,
                "Stacked recurrent layers.",
                minimum=1,
                maximum=16,
                badge="layers {}",
            ),
            Param(
                "bidirectional",
                "bool",
                False,
                "Also read the sequence backwards (doubles the width).",
            ),
            Param("dropout", "float", 0.0, "Dropout between stacked layers.", 0.0, 0.99),
            Param(
                "output",
                "choice",
                "last",
                "Return every step, or only the last one.",
                choices=("last", "sequence"),
                badge="{}",
            ),
        ),
        infer=infer,
        module=lambda p, ins: call(
            "Recurrent",
            cell,
            ins[0][1],
            p["hidden_size"],
            num_layers=p["num_layers"],
            bidirectional=p["bidirectional"],
            dropout=p["dropout"],
            output=p["output"],
        ),
        count_params=weights,
        macs=macs,
        summary=("hidden_size", "output"),
    )


def _heads_fit(p: Params, ins: list[Shape]) -> None:
    expect_rank(ins[0], (2,), _SEQUENCE)
    if ins[0][1] % p["num_heads"]:
        raise ShapeError(
            f"num_heads ({p['num_heads']}) must divide the {ins[0][1]} features of each step",
            param="num_heads",
            hint="pick a divisor, or change the width with a Linear first",
        )


def _attention_shape(p: Params, ins: list[Shape]) -> Shape:
    _heads_fit(p, ins)
    if len(ins) > 1 and ins[1] != (ins[0][0],):
        raise ShapeError(
            f"the 'padding' input needs one value per step ({ins[0][0]}), but gets {fmt(ins[1])}",
            hint="wire the token ids the sequence was embedded from (steps), or a mask of "
            "that length",
        )
    return ins[0]


# causal and key-padding masks: the same parameters and port on both attention layers
_CAUSAL = Param(
    "causal",
    "bool",
    False,
    "Each step attends only to itself and earlier steps (GPT-style language models).",
    badge="causal {}",
)
_PADDING_ID = Param(
    "padding_id",
    "int",
    0,
    "With the 'padding' input wired: steps whose value there equals this are ignored as "
    "keys (a padding token's id; 0 also reads an attention mask of 1 = token, 0 = padding).",
    minimum=0,
)
_PORTS = (
    Port("in", "the sequence, steps x features"),
    Port(
        "padding",
        "optional: one value per step (the token ids, or an attention mask); steps whose "
        "value is padding_id are not attended to",
        optional=True,
        kind="any",
    ),
)
_MASKS_HELP = (
    " With causal on, each step sees only itself and the steps before it (a GPT-style "
    "block); wire the token ids into the optional 'padding' input and steps whose id is "
    "padding_id are ignored (a BERT-style block on padded batches)."
)


def _mask_options(p: Params, ins: list[Shape]) -> dict[str, object]:
    """Only what differs from plain attention, so plain layers export as they always have."""
    options: dict[str, object] = {}
    if p["causal"]:
        options["causal"] = True
    if len(ins) > 1:
        options["padding_id"] = p["padding_id"]
    return options


def _encoder_module(p: Params, ins: list[Shape]) -> Call:
    shared = {
        "dim_feedforward": p["dim_feedforward"],
        "dropout": p["dropout"],
        "activation": p["activation"],
        "norm_first": p["norm_first"],
    }
    masks = _mask_options(p, ins)
    if masks:
        return call("MaskedEncoderLayer", ins[0][1], p["num_heads"], **shared, **masks)
    return call("nn.TransformerEncoderLayer", ins[0][1], p["num_heads"], **shared, batch_first=True)


def _attention_weights(dim: int, bias: bool) -> int:
    return 4 * dim * dim + (4 * dim if bias else 0)


def _attention_macs(steps: int, dim: int) -> int:
    return 4 * steps * dim * dim + 2 * steps * steps * dim


ATTENTION = LayerType(
    name="MultiheadAttention",
    category="Attention",
    icon="mdi6.eye-outline",
    help=(
        "Self-attention: every step looks at every other step and mixes in what is relevant, "
        "through several heads at once. Shape unchanged (steps x features); features must be "
        "divisible by num_heads." + _MASKS_HELP
    ),
    params=(
        Param("num_heads", "int", 4, "Number of attention heads.", minimum=1, badge="{} heads"),
        Param("dropout", "float", 0.0, "Dropout on the attention weights.", 0.0, 0.99),
        Param("bias", "bool", True, "Learn biases in the projections."),
        _CAUSAL,
        _PADDING_ID,
    ),
    infer=_attention_shape,
    module=lambda p, ins: call(
        "SelfAttention",
        ins[0][1],
        p["num_heads"],
        dropout=p["dropout"],
        bias=p["bias"],
        **_mask_options(p, ins),
    ),
    inputs=_PORTS,
    count_params=lambda p, ins: _attention_weights(ins[0][1], p["bias"]),
    macs=lambda p, ins, out: _attention_macs(*ins[0]),
    summary=("num_heads", "causal"),
)


def _encoder_weights(p: Params, ins: list[Shape]) -> int:
    dim, ff = ins[0][1], p["dim_feedforward"]
    return _attention_weights(dim, True) + (dim * ff + ff) + (ff * dim + dim) + 4 * dim


TRANSFORMER_ENCODER = LayerType(
    name="TransformerEncoderLayer",
    category="Attention",
    icon="mdi6.robot-outline",
    help=(
        "One Transformer encoder block: self-attention and a feed-forward network, each with a residual "
        "connection and LayerNorm. Shape unchanged (steps x features). Stack a few after an Embedding "
        "and a PositionalEncoding." + _MASKS_HELP
    ),
    params=(
        Param(
            "num_heads",
            "int",
            4,
            "Number of attention heads; must divide the features.",
            minimum=1,
            badge="{} heads",
        ),
        Param(
            "dim_feedforward",
            "int",
            128,
            "Width of the feed-forward network.",
            minimum=1,
            badge="ff {}",
        ),
        Param("dropout", "float", 0.1, "Dropout inside the block.", 0.0, 0.99),
        Param("activation", "choice", "relu", "Feed-forward activation.", choices=("relu", "gelu")),
        Param(
            "norm_first",
            "bool",
            False,
            "Normalize before each sub-block (steadier for deep stacks).",
        ),
        _CAUSAL,
        _PADDING_ID,
    ),
    infer=_attention_shape,
    module=_encoder_module,
    inputs=_PORTS,
    count_params=_encoder_weights,
    macs=lambda p, ins, out: (
        _attention_macs(*ins[0]) + 2 * ins[0][0] * ins[0][1] * p["dim_feedforward"]
    ),
    summary=("num_heads", "dim_feedforward", "causal"),
)


def _positional_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (2,), _SEQUENCE)
    if ins[0][1] % 2:
        raise ShapeError(
            f"needs an even number of features per step (gets {ins[0][1]})",
            hint="make the Embedding's embedding_dim even",
        )
    return ins[0]


POSITIONAL_ENCODING = LayerType(
    name="PositionalEncoding",
    category="Sequence",
    icon="mdi6.map-marker-distance",
    help=(
        "Adds a fixed sine/cosine signal that tells attention layers where each step is in the sequence "
        "(attention alone ignores order). Shape unchanged; needs an even number of features."
    ),
    params=(Param("dropout", "float", 0.0, "Dropout after adding the positions.", 0.0, 0.99),),
    infer=_positional_shape,
    module=lambda p, ins: call("PositionalEncoding", ins[0][0], ins[0][1], dropout=p["dropout"]),
)


def _pool_shape(p: Params, ins: list[Shape]) -> Shape:
    expect_rank(ins[0], (2,), _SEQUENCE)
    return (ins[0][1],)


SEQUENCE_POOL = LayerType(
    name="SequencePool",
    category="Sequence",
    icon="mdi6.format-vertical-align-center",
    help=(
        "Summarises a sequence into one vector: steps x features -> features, by the mean, the maximum, "
        "or the first or last step. Put it between a Transformer and a classifier."
    ),
    params=(
        Param(
            "mode",
            "choice",
            "mean",
            "How steps are combined.",
            choices=("mean", "max", "first", "last"),
        ),
    ),
    infer=_pool_shape,
    module=lambda p, ins: call("SequencePool", p["mode"]),
    summary=("mode",),
)

LAYERS = (
    _recurrent("RNN"),
    _recurrent("LSTM"),
    _recurrent("GRU"),
    ATTENTION,
    TRANSFORMER_ENCODER,
    POSITIONAL_ENCODING,
    SEQUENCE_POOL,
)
