"""Text to token ids and back: bytes, characters, or subwords learnt from the data.

A network's vocabulary is its Embedding's `num_embeddings` (and, for a language
model, its head's width), so the tokenizer is fitted to that size: the chars
tokenizer keeps the most frequent characters that fit, the subword tokenizer
(Hugging Face `tokenizers`, byte-level BPE) learns merges until it is full.
Id 0 is always padding (for bytes: the NUL byte, which text does not hold), so
an attention layer's `padding_id` 0 ignores it. A fitted tokenizer is plain
JSON (`to_json`), saved in the weights file's metadata, so generation and
resumed training read text exactly as the run that made the weights.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from engine.data.dataset import DataError

KINDS = {
    "chars": "Characters (the most frequent ones that fit the vocabulary)",
    "bytes": "Bytes of UTF-8 (vocabulary 256)",
    "subword": "Subwords (byte-level BPE learnt from the data)",
}
PAD = 0
SUBWORD_MINIMUM = 258  # the 256 bytes, padding, and one merge


class Tokenizer:
    """Turns text into token ids (`encode`) and ids back into text (`decode`)."""

    kind = ""

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: Sequence[int]) -> str:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.kind} tokenizer, vocabulary {self.vocab_size:,}"


class ByteTokenizer(Tokenizer):
    """Each UTF-8 byte is a token: any text, no fitting, vocabulary 256."""

    kind = "bytes"

    @property
    def vocab_size(self) -> int:
        return 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(i for i in ids if 0 < i < 256).decode("utf-8", errors="replace")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind}


class CharTokenizer(Tokenizer):
    """Each character is a token; 0 is padding, 1 stands for a character it does not know."""

    kind = "chars"
    UNKNOWN = 1

    def __init__(self, chars: str) -> None:
        self.chars = chars
        self._ids = {c: i + 2 for i, c in enumerate(chars)}

    @classmethod
    def fit(cls, texts: Iterable[str], vocab: int) -> CharTokenizer:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        kept = [c for c, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
        return cls("".join(sorted(kept[: max(vocab - 2, 0)])))

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 2

    def encode(self, text: str) -> list[int]:
        ids = self._ids
        return [ids.get(c, self.UNKNOWN) for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        chars = self.chars
        return "".join(
            chars[i - 2] if 2 <= i < len(chars) + 2 else ("\ufffd" if i == 1 else "") for i in ids
        )

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "chars": self.chars}


class SubwordTokenizer(Tokenizer):
    """Byte-level BPE (GPT-2's scheme) from Hugging Face `tokenizers`: common words and
    pieces of code become one token each, so a window of the same length sees more text."""

    kind = "subword"

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    @classmethod
    def fit(cls, texts: Iterable[str], vocab: int) -> SubwordTokenizer:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, pre_tokenizers, trainers

        tokenizer = HFTokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab,
            special_tokens=["<pad>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer)
        return cls(tokenizer)

    @classmethod
    def from_text(cls, text: str) -> SubwordTokenizer:
        from tokenizers import Tokenizer as HFTokenizer

        return cls(HFTokenizer.from_str(text))

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size())

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text).ids)

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode([int(i) for i in ids if i != PAD]))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "tokenizer": self.tokenizer.to_str()}


def fit_tokenizer(kind: str, texts: Sequence[str], vocab: int, where: str) -> Tokenizer:
    """A tokenizer of `kind` fitted to `texts` with at most `vocab` ids; `where` names the
    layer whose size sets `vocab`, for the messages."""
    if kind not in KINDS:
        raise DataError(
            f"unknown tokenizer {kind!r} in dataset.tokenizer; use " + ", ".join(KINDS), code=2
        )
    if kind == "bytes":
        if vocab < 256:
            raise DataError(
                f"the bytes tokenizer has 256 tokens, but {where} holds {vocab}; set it to 256 "
                "or more, or use the chars tokenizer",
                code=1,
            )
        return ByteTokenizer()
    if kind == "chars":
        if vocab < 3:
            raise DataError(f"{where} holds {vocab} tokens: too few for any text", code=1)
        return CharTokenizer.fit(texts, vocab)
    if vocab < SUBWORD_MINIMUM:
        raise DataError(
            f"the subword tokenizer starts from the 256 bytes, but {where} holds {vocab} tokens; "
            f"set it to at least {SUBWORD_MINIMUM} (512 to 4096 is usual), or use chars",
            code=1,
        )
    return SubwordTokenizer.fit(texts, vocab)


def tokenizer_from_json(state: dict[str, Any] | str) -> Tokenizer:
    """The tokenizer `to_json` described (as a dict or its JSON text)."""
    if isinstance(state, str):
        state = json.loads(state)
    assert isinstance(state, dict)
    kind = state.get("kind")
    if kind == "bytes":
        return ByteTokenizer()
    if kind == "chars":
        return CharTokenizer(str(state["chars"]))
    if kind == "subword":
        return SubwordTokenizer.from_text(str(state["tokenizer"]))
    raise DataError(f"unknown tokenizer {kind!r} in the weights file; train again", code=2)
