"""Text as data: reading files and folders, tokenizers, windows, and what the network must be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.data import DataError, load_builtin, parse_spec
from engine.data.prepare import NetworkIO, prepare_data
from engine.settings import TrainingSettings
from engine.text.corpus import TextCorpus, TextDocument, read_text_csv, read_text_path
from engine.text.network import text_for_network
from engine.text.tokenizers import (
    PAD,
    ByteTokenizer,
    CharTokenizer,
    SubwordTokenizer,
    fit_tokenizer,
    tokenizer_from_json,
)
from engine.text.windows import text_data, unigram_loss

SAMPLE = "def add(a, b):\n    return a + b\n\n# naïve café ☕\n"


def corpus(*texts: str) -> TextCorpus:
    return TextCorpus("test", tuple(TextDocument(f"doc{i}", t) for i, t in enumerate(texts)))


@pytest.mark.parametrize("kind, vocab", [("chars", 64), ("bytes", 256), ("subword", 300)])
def test_every_tokenizer_reads_text_back_as_it_was(kind: str, vocab: int) -> None:
    tokenizer = fit_tokenizer(kind, [SAMPLE * 20], vocab, "the Embedding 'tokens'")
    ids = tokenizer.encode(SAMPLE)
    assert tokenizer.decode(ids) == SAMPLE
    assert all(0 < i < tokenizer.vocab_size <= vocab for i in ids)  # 0 is padding only
    again = tokenizer_from_json(tokenizer.to_json())
    assert again.encode(SAMPLE) == ids and again.decode(ids) == SAMPLE


def test_the_chars_tokenizer_keeps_the_most_frequent_characters_that_fit() -> None:
    tokenizer = CharTokenizer.fit(["aaaabbbc"], vocab=4)  # padding, unknown and two characters
    assert tokenizer.vocab_size == 4
    assert tokenizer.decode(tokenizer.encode("abc")) == "ab\ufffd"


def test_a_vocabulary_too_small_for_the_tokenizer_names_the_layer_and_the_size() -> None:
    with pytest.raises(DataError, match=r"'tokens' holds 100.*256"):
        fit_tokenizer("bytes", ["x"], 100, "the Embedding 'tokens'")
    with pytest.raises(DataError, match="at least 258"):
        fit_tokenizer("subword", ["x"], 200, "the Embedding 'tokens'")
    with pytest.raises(DataError, match="unknown tokenizer 'words'"):
        fit_tokenizer("words", ["x"], 200, "the Embedding 'tokens'")


def test_windows_learn_the_next_token_and_validate_on_the_end_of_each_file() -> None:
    first, second = "a" * 90 + "b" * 10, "b" * 90 + "c" * 10
    made = text_data(corpus(first, second), 4, 16, "e", kind="chars", validation_split=0.1)
    data, tokenizer = made.data, made.tokenizer
    assert data.x.shape[1:] == (4,) and data.y is not None
    np.testing.assert_array_equal(data.x[:, 1:], data.y[:, :-1])  # the target is one token on
    assert data.validation is not None
    seen = "".join(tokenizer.decode(row) for row in data.x[~data.validation])
    held = "".join(tokenizer.decode(row) for row in data.x[data.validation])
    assert seen == ("a" * 90 + "b" * 90)[: len(seen)]  # the first 90% of each file, in turn
    assert held == ("b" * 10 + "\ufffd" * 10)[: len(held)]  # 'c' was never seen in training
    assert made.train_tokens == 180 and made.val_tokens == 20


def test_the_unigram_reference_is_the_entropy_of_token_frequencies() -> None:
    train = np.array([1, 1, 2, 2])
    assert unigram_loss(train, np.array([1, 2]), 3) == pytest.approx(-np.log(3 / 7))


def test_a_text_file_and_a_folder_of_them_read_as_documents(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("first\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("second\n", encoding="utf-8")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")  # skipped, not text
    (tmp_path / ".hidden").write_text("secret", encoding="utf-8")
    found = read_text_path(tmp_path)
    assert [d.name for d in found.documents] == ["a.txt", "sub/b.md"]
    assert read_text_path(tmp_path / "a.txt").documents[0].text == "first\n"


def test_text_that_cannot_be_used_is_refused_with_the_file_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        read_text_path(tmp_path / "missing.txt")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.txt: not UTF-8"):
        read_text_path(latin)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no UTF-8 text files"):
        read_text_path(tmp_path / "empty")


def test_a_text_csv_gives_labelled_documents(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text('text,label\n"great, loved it",pos\nawful,neg\nfine,pos\n', encoding="utf-8")
    found = read_text_csv(path)
    assert found.class_names == ("neg", "pos")
    assert [(d.text, d.label) for d in found.documents] == [
        ("great, loved it", 1),
        ("awful", 0),
        ("fine", 1),
    ]
    with pytest.raises(DataError, match="no column named 'review'"):
        read_text_csv(path, text_column="review")
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nunquoted, comma,pos\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 has 3 values.*quote texts"):
        read_text_csv(bad)


def test_labelled_texts_are_padded_or_cut_to_the_window() -> None:
    texts = TextCorpus(
        "labelled",
        (TextDocument("a", "ab", 0), TextDocument("b", "abcdefgh", 1)) * 5,
        ("short", "long"),
    )
    made = text_data(texts, 4, 16, "e", kind="chars", validation_split=0.2)
    x = made.data.x
    assert x.shape == (10, 4)
    assert (x[0, 2:] == PAD).all() and (x[1] != PAD).all()
    assert made.data.validation is not None and made.data.validation.sum() == 2  # one per class


def test_the_bundled_corpora_need_no_download() -> None:
    source = load_builtin("python-source")
    assert isinstance(source, TextCorpus) and source.characters > 100_000
    modules = load_builtin("python-modules")
    assert isinstance(modules, TextCorpus) and modules.class_names is not None
    assert len(modules.class_names) >= 2
    assert all(d.position is not None for d in modules.documents)  # validation from file ends
    assert parse_spec("text:notes.txt").kind == "text"
    assert parse_spec("textcsv:reviews.csv").kind == "textcsv"


def io_for(steps: int, vocab: int, out: tuple[int, ...], tokens: bool = True) -> NetworkIO:
    return NetworkIO("input", (steps,), tokens, vocab, "tokens", out)


def test_a_language_model_trains_on_every_position_of_its_windows() -> None:
    settings = TrainingSettings(loss="next_token", validation_split=0.1)
    made = text_for_network(corpus(SAMPLE * 30), io_for(8, 64, (8, 64)), settings, {})
    prepared = prepare_data(made.data, io_for(8, 64, (8, 64)), settings)
    assert prepared.train_x.shape[1:] == (8,) and prepared.train_y.shape[1:] == (8,)
    assert prepared.val_samples == int(made.data.validation.sum())  # type: ignore[union-attr]


def test_the_network_must_read_tokens_and_fit_its_objective() -> None:
    lm = TrainingSettings(loss="next_token")
    with pytest.raises(DataError, match=r"Input node 'input' reads 8 numbers.*Embedding"):
        text_for_network(corpus(SAMPLE), io_for(8, 64, (8, 64), tokens=False), lm, {})
    with pytest.raises(DataError, match="choose the next_token loss"):
        text_for_network(corpus(SAMPLE), io_for(8, 64, (3,)), TrainingSettings(), {})
    labelled = TextCorpus("l", (TextDocument("a", "x", 0),), ("one",))
    with pytest.raises(DataError, match="choose cross_entropy"):
        text_for_network(labelled, io_for(8, 64, (8, 64)), lm, {})
    made = text_for_network(corpus(SAMPLE * 30), io_for(8, 64, (8, 10)), lm, {})
    assert made.tokenizer.vocab_size == 10  # the head's width bounds the vocabulary too


def test_the_subword_tokenizer_is_gpt2_style_byte_level_bpe() -> None:
    tokenizer = SubwordTokenizer.fit([SAMPLE * 50], 320)
    assert len(tokenizer.encode("return a + b")) < len("return a + b")  # merges learnt
    assert ByteTokenizer().decode(tokenizer.encode("")) == ""
