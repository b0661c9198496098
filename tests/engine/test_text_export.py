"""A trained language model leaves as an ONNX file that writes the same text without
Netwright: the tokenizer travels in the file's metadata, and a fixed-length window padded on
the right gives the causal model's own predictions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from test_text_training import VERSE, chain

from engine.cli import run
from engine.project import load_project
from engine.text.generate import Sampling, project_writer
from engine.text.tokenizers import PAD, tokenizer_from_json

CONTEXT = 16


def tiny_gpt(tmp_path: Path) -> Path:
    """Token and position embeddings, one causal pre-norm Transformer block, a head per step."""
    (tmp_path / "verse.txt").write_text(VERSE * 40, encoding="utf-8")
    block = {
        "num_heads": 2,
        "dim_feedforward": 32,
        "dropout": 0.0,
        "norm_first": True,
        "causal": True,
    }
    graph = chain(
        ("input", "Input", {"shape": [CONTEXT], "dtype": "int64"}),
        ("tokens", "Embedding", {"num_embeddings": 32, "embedding_dim": 16}),
        ("positions", "PositionalEncoding", {"dropout": 0.0}),
        ("block", "TransformerEncoderLayer", block),
        ("head", "Linear", {"out_features": 32}),
        ("output", "Output", {}),
    )
    project = {
        "format": "netwright-project",
        "version": 1,
        "name": "verse-gpt",
        "graph": graph,
        "dataset": {"source": "text:verse.txt"},
        "training": {
            "loss": "next_token",
            "optimizer": {"name": "adam", "lr": 0.01},
            "epochs": 10,
            "batch_size": 16,
            "validation_split": 0.1,
            "seed": 0,
        },
    }
    path = tmp_path / "verse-gpt.netwright.json"
    path.write_text(json.dumps(project), encoding="utf-8")
    return path


def greedy_in_onnxruntime(path: Path, prompt: str, tokens: int) -> tuple[list[int], Any]:
    """What a user without Netwright writes: the tokenizer from the metadata, each window
    padded on the right to the file's fixed length, the likeliest token at the last real step."""
    model = onnx.load(str(path))
    metadata = {p.key: p.value for p in model.metadata_props}
    tokenizer = tokenizer_from_json(metadata["netwright.tokenizer"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (entry,) = session.get_inputs()
    assert entry.shape[1] == CONTEXT  # a fixed window: torch's TorchScript exporter fixes it
    ids = tokenizer.encode(prompt)
    new: list[int] = []
    for _ in range(tokens):
        window = (ids + new)[-CONTEXT:]
        padded = np.array([window + [PAD] * (CONTEXT - len(window))], dtype=np.int64)
        (scores,) = session.run(None, {entry.name: padded})
        step = scores[0, len(window) - 1].copy()
        step[PAD] = -np.inf
        new.append(int(step.argmax()))
    return new, tokenizer


def test_an_exported_language_model_writes_the_same_text_in_onnxruntime(
    tmp_path: Path, capsys: Any
) -> None:
    project = tiny_gpt(tmp_path)
    assert run(["train", str(project)]) == 0
    out = tmp_path / "verse-gpt.onnx"
    assert run(["export", str(project), "--onnx", str(out), "--verify"]) == 0
    capsys.readouterr()

    exported, tokenizer = greedy_in_onnxruntime(out, "the ", tokens=24)  # slides past 16
    writer = project_writer(load_project(project))
    assert tokenizer.to_json() == writer.tokenizer.to_json()
    ids = writer.tokenizer.encode("the ")
    assert exported == writer.token_ids(ids, 24, Sampling(temperature=0))
    assert "cat sat on" in tokenizer.decode(ids + exported)  # and it learnt its verse


def test_a_network_without_a_tokenizer_exports_without_one(tmp_path: Path) -> None:
    project = tiny_gpt(tmp_path)  # never trained: initial weights, no tokenizer
    out = tmp_path / "untrained.onnx"
    assert run(["export", str(project), "--onnx", str(out)]) == 0
    keys = {p.key for p in onnx.load(str(out)).metadata_props}
    assert "netwright.tokenizer" not in keys and "project" in keys
