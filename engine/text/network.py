"""Fitting text to one network: its context length, its vocabulary, its objective.

The network says everything: the Input's shape is the window length (tokens),
the Embedding's `num_embeddings` the vocabulary, and, for a language model,
the head's width bounds it too. Mistakes are DataErrors naming the node to
change.
"""

from __future__ import annotations

from typing import Any

from engine.data.dataset import DataError
from engine.data.prepare import NetworkIO
from engine.settings import TrainingSettings
from engine.text.corpus import TextCorpus
from engine.text.tokenizers import Tokenizer
from engine.text.windows import TextData, text_data


def text_for_network(
    corpus: TextCorpus,
    io: NetworkIO,
    settings: TrainingSettings,
    section: dict[str, Any],
    tokenizer: Tokenizer | None = None,
) -> TextData:
    """`corpus` as token windows for the network `io` describes (with `tokenizer`, when a
    run's weights already chose one, else a new one of the project's ``dataset.tokenizer``)."""
    if not io.tokens or len(io.input_shape) != 1:
        raise DataError(
            f"{corpus.name}: text becomes a window of token ids, but the Input node "
            f"'{io.input_id}' reads {'x'.join(map(str, io.input_shape)) or 'one value'} "
            f"{'ids' if io.tokens else 'numbers'}; give it shape [64] (the window length) and "
            "dtype int64, and follow it with an Embedding",
            code=1,
        )
    language_model = settings.loss == "next_token"
    if corpus.labelled == language_model:
        raise DataError(
            f"{corpus.name}: "
            + (
                "these texts have labels to classify, but the next_token loss continues text; "
                "choose cross_entropy"
                if corpus.labelled
                else "this text has no labels, so the network can learn to continue it: "
                "choose the next_token loss (and end with a score per token at every step)"
            ),
            code=1,
        )
    vocab, where = io.vocab or 0, f"the Embedding '{io.vocab_node}'"
    out = io.output_shape
    if language_model and len(out) == 2 and out[1] < vocab:
        vocab, where = out[1], "the Output's last axis (the head's out_features)"
    return text_data(
        corpus,
        io.input_shape[0],
        vocab,
        where,
        kind=str(section.get("tokenizer", "chars")),
        validation_split=settings.validation_split,
        seed=settings.seed,
        tokenizer=tokenizer,
    )
