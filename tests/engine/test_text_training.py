"""A language model on text, headless: next-token training, perplexity, its tokenizer kept
with the weights, and `netwright generate` (CONTRACT.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli import run
from engine.training import checkpoint_metadata

VERSE = "the cat sat on the mat.\nthe dog sat on the log.\n"


def chain(*nodes: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    listed = [{"id": i, "type": t, "params": p} for i, t, p in nodes]
    edges = [
        {"source": {"node": a["id"]}, "target": {"node": b["id"]}}
        for a, b in zip(listed, listed[1:])
    ]
    return {"nodes": listed, "edges": edges}


def language_model(tmp_path: Path, source: str = "text:verse.txt", **dataset: Any) -> Path:
    """A small recurrent language model (recurrence only looks back: it cannot peek ahead)."""
    (tmp_path / "verse.txt").write_text(VERSE * 40, encoding="utf-8")
    project = {
        "format": "netwright-project",
        "version": 1,
        "name": "verse",
        "graph": chain(
            ("input", "Input", {"shape": [16], "dtype": "int64"}),
            ("tokens", "Embedding", {"num_embeddings": 32, "embedding_dim": 24}),
            ("memory", "LSTM", {"hidden_size": 64, "output": "sequence"}),
            ("head", "Linear", {"out_features": 32}),
            ("output", "Output", {}),
        ),
        "dataset": {"source": source, **dataset},
        "training": {
            "loss": "next_token",
            "optimizer": {"name": "adam", "lr": 0.01},
            "epochs": 12,
            "batch_size": 16,
            "validation_split": 0.1,
            "early_stopping": None,
            "seed": 0,
        },
        "generation": {"prompt": "the ", "tokens": 30, "temperature": 0},
    }
    path = tmp_path / "verse.netwright.json"
    path.write_text(json.dumps(project), encoding="utf-8")
    return path


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_language_model_learns_to_continue_its_text(tmp_path: Path, capsys: Any) -> None:
    project = language_model(tmp_path)
    metrics = tmp_path / "metrics.jsonl"
    assert run(["train", str(project), "--metrics-out", str(metrics)]) == 0
    out = capsys.readouterr().out
    assert "training the language model verse" in out and "unigram model" in out
    assert "tokens/s" in out and "val_perplexity" in out
    stream = events(metrics)
    start, epochs, end = stream[0], stream[1:-1], stream[-1]
    assert start["objective"] == "next_token" and start["context"] == 16
    assert start["tokenizer"] == "chars" and start["vocabulary"] <= 32
    last = epochs[-1]
    assert last["val_perplexity"] == pytest.approx(2.718281828 ** last["val_loss"], rel=1e-6)
    assert last["val_loss"] < 0.5 * start["unigram_loss"]  # it learnt from context
    assert last["tokens_per_s"] == pytest.approx(16 * last["samples_per_s"])
    assert end["status"] == "completed" and "val_perplexity" in end

    weights = tmp_path / "verse.safetensors"
    assert json.loads(checkpoint_metadata(weights)["netwright.tokenizer"])["kind"] == "chars"
    assert run(["generate", str(project), "--tokens", "40", "--temperature", "0"]) == 0
    written = capsys.readouterr().out
    assert written.startswith("the ")
    assert "sat on the" in written  # greedy decoding recites what it learnt


def test_generation_repeats_with_a_seed_and_varies_without(tmp_path: Path, capsys: Any) -> None:
    project = language_model(tmp_path)
    assert run(["train", str(project), "--epochs", "2"]) == 0
    capsys.readouterr()
    texts = []
    for seed in ("1", "1", "2"):
        args = ["generate", str(project), "--temperature", "1.5", "--top-k", "0", "--seed", seed]
        assert run([*args, "--tokens", "60"]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1] != texts[2]


def test_resuming_reads_text_with_the_tokenizer_the_weights_were_trained_with(
    tmp_path: Path,
) -> None:
    project = language_model(tmp_path)
    assert run(["train", str(project), "--epochs", "1"]) == 0
    saved = checkpoint_metadata(tmp_path / "verse.safetensors")["netwright.tokenizer"]
    (tmp_path / "verse.txt").write_text("zyxw" * 400, encoding="utf-8")  # other characters
    assert run(["train", str(project), "--epochs", "1", "--resume"]) == 0
    assert checkpoint_metadata(tmp_path / "verse.safetensors")["netwright.tokenizer"] == saved


def test_subword_and_byte_tokenizers_train_too(tmp_path: Path) -> None:
    for kind, vocab in (("bytes", 256), ("subword", 300)):
        project = language_model(tmp_path, tokenizer=kind)
        data = json.loads(project.read_text())
        data["graph"]["nodes"][1]["params"]["num_embeddings"] = vocab
        data["graph"]["nodes"][3]["params"]["out_features"] = vocab
        project.write_text(json.dumps(data))
        assert run(["train", str(project), "--epochs", "1"]) == 0
        state = json.loads(
            checkpoint_metadata(tmp_path / "verse.safetensors")["netwright.tokenizer"]
        )
        assert state["kind"] == kind


def test_generate_refuses_what_cannot_write(tmp_path: Path, capsys: Any) -> None:
    project = language_model(tmp_path)
    assert run(["generate", str(project)]) == 1  # never trained
    assert "no trained weights" in capsys.readouterr().err
    assert run(["generate", str(project), "--weights", str(tmp_path / "nope.safetensors")]) == 2
    assert "nope.safetensors" in capsys.readouterr().err
    classifier = (
        Path(__file__).resolve().parents[2] / "resources/examples/digits-mlp.netwright.json"
    )
    assert run(["generate", str(classifier)]) == 1
    assert "not a language model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        run(["generate", str(project), "--temperature", "-1"])
    assert exit_.value.code == 2


def test_check_and_train_name_what_does_not_fit_text(tmp_path: Path, capsys: Any) -> None:
    project = language_model(tmp_path, tokenizer="words")
    assert run(["check", str(project)]) == 1
    assert "unknown tokenizer 'words'" in capsys.readouterr().err
    data = json.loads(language_model(tmp_path).read_text())
    data["graph"]["nodes"][2]["params"]["output"] = "last"  # one prediction, not one per step
    project.write_text(json.dumps(data))
    assert run(["check", str(project)]) == 1
    assert "next_token loss needs a score for every token at every step" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["tiny-gpt", "text-classifier"])
def test_the_text_examples_train_and_the_gpt_writes(tmp_path: Path, capsys: Any, name: str) -> None:
    from engine.resources import example

    project = tmp_path / f"{name}.netwright.json"
    assert run(["new", str(project), "--example", name]) == 0
    if name == "tiny-gpt":  # a short text, so one epoch takes seconds
        (tmp_path / "short.txt").write_text(VERSE * 60, encoding="utf-8")
        data = ["--dataset", f"text:{tmp_path / 'short.txt'}"]
    else:
        data = []
    metrics = tmp_path / "metrics.jsonl"
    args = ["train", str(project), "--epochs", "1", "--metrics-out", str(metrics), *data]
    assert run(args) == 0
    end = events(metrics)[-1]
    assert end["status"] == "completed"
    if name == "tiny-gpt":
        assert "val_perplexity" in end
        capsys.readouterr()
        assert run(["generate", str(project), "--prompt", "the ", "--tokens", "20"]) == 0
        assert capsys.readouterr().out.startswith("the ")
    else:
        assert end["val_accuracy"] > 0.3  # five packages: chance is 0.2
    assert example(name).path.is_file()
