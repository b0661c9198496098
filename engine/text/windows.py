"""Token windows from a corpus: what a language model or a text classifier trains on.

A language model reads windows of `context` tokens (the text cut into
consecutive pieces) and learns, at every position, the token that comes next
(the targets are the same window moved on by one). Validation text is the end of each file (`validation_split` of it), so
the model is judged on text it never saw rather than on neighbours of its
training windows. A classifier reads each labelled text as one window,
truncated or padded (id 0) to `context`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.dataset import DataError, DataSet
from engine.text.corpus import TextCorpus
from engine.text.tokenizers import PAD, Tokenizer, fit_tokenizer


@dataclass(frozen=True)
class TextData:
    """A corpus turned into token windows, and the tokenizer that did it."""

    data: DataSet
    tokenizer: Tokenizer
    corpus: TextCorpus
    train_tokens: int
    val_tokens: int
    unigram_loss: float | None = None  # a model that knows only token frequencies, on validation


def training_text(corpus: TextCorpus, validation_split: float, seed: int = 0) -> list[str]:
    """The part of the corpus a tokenizer may learn from (never the validation text)."""
    if corpus.labelled:
        held_out = _held_out(corpus, validation_split, seed)
        return [d.text for d, out in zip(corpus.documents, held_out) if not out]
    return [d.text[: _cut(len(d.text), validation_split)] for d in corpus.documents]


def text_data(
    corpus: TextCorpus,
    context: int,
    vocab: int,
    where: str,
    *,
    kind: str = "chars",
    validation_split: float = 0.1,
    seed: int = 0,
    tokenizer: Tokenizer | None = None,
) -> TextData:
    """Windows of `context` tokens, tokenized by `tokenizer` or by a new one of `kind` with at
    most `vocab` ids fitted on the training text (`where` names the layer that sets `vocab`)."""
    if context < 2 and not corpus.labelled:
        raise DataError(
            f"{corpus.name}: a language model needs a context of at least 2 tokens; set the "
            "Input's shape to the window length, for example 64",
            code=1,
        )
    if tokenizer is None:
        tokenizer = fit_tokenizer(kind, training_text(corpus, validation_split, seed), vocab, where)
    if corpus.labelled:
        return _labelled(corpus, tokenizer, context, validation_split, seed)
    return _continuation(corpus, tokenizer, context, validation_split)


def _cut(length: int, validation_split: float) -> int:
    """Where a file's validation part starts."""
    return length - round(length * validation_split) if validation_split > 0 else length


def _continuation(
    corpus: TextCorpus, tokenizer: Tokenizer, context: int, validation_split: float
) -> TextData:
    train: list[int] = []
    val: list[int] = []
    for document in corpus.documents:
        ids = tokenizer.encode(document.text)
        cut = _cut(len(ids), validation_split)
        train.extend(ids[:cut])
        val.extend(ids[cut:])
    x_train, y_train = _windows(np.asarray(train, dtype=np.int64), context, context)
    x_val, y_val = _windows(np.asarray(val, dtype=np.int64), context, context)
    if not len(x_train):
        raise DataError(
            f"{corpus.name}: {len(train):,} tokens of training text is less than one window of "
            f"{context} and the next token; use more text or a shorter Input",
            code=1,
        )
    data = DataSet(
        corpus.name,
        np.concatenate([x_train, x_val]),
        np.concatenate([y_train, y_val]),
        None,
        corpus.description,
        validation=np.arange(len(x_train) + len(x_val)) >= len(x_train),
    )
    unigram = unigram_loss(np.asarray(train), np.asarray(val), tokenizer.vocab_size)
    return TextData(data, tokenizer, corpus, len(train), len(val), unigram)


def unigram_loss(train: np.ndarray, val: np.ndarray, vocab: int) -> float | None:
    """The validation cross-entropy (nats per token) of the best model that ignores context:
    each token's frequency in the training text (add-one smoothed). A language model that
    learnt anything from context is clearly below it."""
    if not len(val) or not len(train):
        return None
    counts = np.bincount(train, minlength=vocab).astype(np.float64) + 1.0
    probabilities = counts / counts.sum()
    return float(-np.log(probabilities[val]).mean())


def _windows(ids: np.ndarray, context: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs `ids[s : s + context]` and targets one token on, every `stride` tokens."""
    count = (len(ids) - context - 1) // stride + 1 if len(ids) > context else 0
    if count <= 0:
        return np.empty((0, context), np.int64), np.empty((0, context), np.int64)
    starts = np.arange(count) * stride
    index = starts[:, None] + np.arange(context)[None, :]
    return ids[index], ids[index + 1]


def _held_out(corpus: TextCorpus, validation_split: float, seed: int) -> np.ndarray:
    """Which labelled documents validate: the ends of their files when their place is known,
    else a share of each class drawn from the seed."""
    positions = [d.position for d in corpus.documents]
    if all(p is not None for p in positions):
        return np.asarray(positions, dtype=np.float64) >= 1 - validation_split
    from engine.data.prepare import split_indices

    labels = np.asarray([d.label for d in corpus.documents], dtype=np.int64)
    held = np.zeros(len(labels), dtype=bool)
    held[split_indices(len(labels), validation_split, seed, labels)[1]] = True
    return held


def _labelled(
    corpus: TextCorpus, tokenizer: Tokenizer, context: int, validation_split: float, seed: int
) -> TextData:
    x = np.full((len(corpus.documents), context), PAD, dtype=np.int64)
    for row, document in enumerate(corpus.documents):
        ids = tokenizer.encode(document.text)[:context]
        x[row, : len(ids)] = ids
    y = np.asarray([d.label for d in corpus.documents], dtype=np.int64)
    held = _held_out(corpus, validation_split, seed)
    data = DataSet(corpus.name, x, y, corpus.class_names, corpus.description, validation=held)
    tokens = np.count_nonzero(x != PAD, axis=1)
    return TextData(data, tokenizer, corpus, int(tokens[~held].sum()), int(tokens[held].sum()))


def decode_window(tokenizer: Tokenizer, ids: np.ndarray) -> str:
    """A window as text, for previews (padding dropped)."""
    return tokenizer.decode([int(i) for i in ids if i != PAD])
