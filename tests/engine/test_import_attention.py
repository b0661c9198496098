"""Self-attention exported by torch comes back as one MultiheadAttention layer, weights kept;
attention that computes something else (a mask, another scale) is refused by name."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from engine.export import export_onnx
from engine.grouping import layers_of
from engine.onnx_import import OnnxImportError, import_onnx
from engine.project import load_project


def run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def relative(expected: np.ndarray, got: np.ndarray) -> float:
    assert expected.shape == got.shape
    return float(np.abs(expected - got).max() / max(1e-6, np.abs(expected).max()))


def export(model: nn.Module, example: torch.Tensor, path: Path, dynamo: bool = False) -> None:
    if dynamo:
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=True,
            external_data=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=18,
            verbose=False,
        )
        return
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "b"}, "y": {0: "b"}},
    )


def randomised(model: nn.Module) -> nn.Module:
    """Biases and norms away from their zero/one start, so a lost weight shows."""
    torch.manual_seed(3)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    return model.eval()


def reimported(source: Path, folder: Path) -> tuple[list[tuple[str, dict]], Path]:
    """Import `source`, export the project again; the layers and the new ONNX file."""
    result = import_onnx(source, folder / "imported.netwright.json")
    project = load_project(result.project_path)
    export_onnx(project, folder / "again.onnx", verify=True)
    # the layers inside blocks too (an encoder layer's module scope comes in as a block)
    layers = [(n.type, dict(n.params)) for _, n in layers_of(project.graph)]
    return layers, folder / "again.onnx"


class TokenClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20, 16)
        block = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        self.encoder = nn.TransformerEncoder(block, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


def test_a_torch_transformer_encoder_imports_as_attention_layers_and_their_parts(
    tmp_path: Path,
) -> None:
    # nn.TransformerEncoderLayer comes back as its parts (MultiheadAttention, Add, LayerNorm,
    # Linear, ReLU, Linear, Add, LayerNorm); dropout is gone in eval, so it computes the same
    model = randomised(TokenClassifier())
    export(model, torch.randint(0, 20, (2, 9)), tmp_path / "t.onnx")
    layers, again = reimported(tmp_path / "t.onnx", tmp_path)
    attention = [params for kind, params in layers if kind == "MultiheadAttention"]
    assert attention == [{"num_heads": 4, "dropout": 0.0, "bias": True}] * 2
    assert [kind for kind, _ in layers].count("LayerNorm") == 4
    tokens = np.random.default_rng(1).integers(0, 20, (5, 9))
    assert relative(run(tmp_path / "t.onnx", tokens), run(again, tokens)) <= 1e-4


@pytest.mark.parametrize(
    ("dynamo", "bias"),
    [(False, True), (False, False), (True, True)],
    ids=["torchscript", "torchscript-no-bias", "dynamo"],
)
def test_multihead_attention_from_either_torch_exporter_keeps_its_weights(
    dynamo: bool, bias: bool, tmp_path: Path
) -> None:
    class Attend(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = nn.MultiheadAttention(12, 3, bias=bias, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attention(x, x, x, need_weights=False)[0]

    model = randomised(Attend())
    export(model, torch.randn(2, 5, 12), tmp_path / "a.onnx", dynamo=dynamo)
    layers, again = reimported(tmp_path / "a.onnx", tmp_path)
    assert layers[1] == ("MultiheadAttention", {"num_heads": 3, "dropout": 0.0, "bias": bias})
    x = np.random.default_rng(2).standard_normal((4, 5, 12)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert relative(expected, run(again, x)) <= 1e-4


class HandWritten(nn.Module):
    """Attention written out by hand: separate q, k, v projections, no batch-axis transposes."""

    def __init__(self, scale: float | None = None) -> None:
        super().__init__()
        self.q, self.k, self.v, self.out = (nn.Linear(8, 8) for _ in range(4))
        self.heads = 2
        self.scale = scale if scale is not None else 1 / math.sqrt(8 // self.heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, width = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(batch, steps, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = torch.softmax(q @ k.transpose(-2, -1) * self.scale, dim=-1)
        merged = (weights @ v).transpose(1, 2).reshape(batch, steps, width)
        return self.out(merged)


def test_hand_written_attention_with_separate_projections_imports_as_one_layer(
    tmp_path: Path,
) -> None:
    model = randomised(HandWritten())
    export(model, torch.randn(2, 6, 8), tmp_path / "h.onnx")
    layers, again = reimported(tmp_path / "h.onnx", tmp_path)
    assert [kind for kind, _ in layers] == ["Input", "MultiheadAttention", "Output"]
    x = np.random.default_rng(4).standard_normal((3, 6, 8)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert relative(expected, run(again, x)) <= 1e-4


def test_attention_with_another_scale_comes_in_as_its_operators_not_guessed(
    tmp_path: Path,
) -> None:
    """Not MultiheadAttention (its scale is 0.1, not 1/sqrt(d)): its MatMuls, scale and
    Softmax come in as layers of their own, and compute what the file does."""
    model = randomised(HandWritten(scale=0.1))
    export(model, torch.randn(2, 6, 8), tmp_path / "s.onnx")
    layers, again = reimported(tmp_path / "s.onnx", tmp_path)
    types = [kind for kind, _ in layers]
    assert "MultiheadAttention" not in types
    assert types.count("MatMul") == 2 and "Softmax" in types
    x = np.random.default_rng(3).standard_normal((4, 6, 8)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert relative(expected, run(again, x)) <= 1e-4


class Masked(nn.Module):
    """torch's MultiheadAttention with a fixed mask buffer, as users write causal attention."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x, x, x, attn_mask=self.mask, need_weights=False)[0]


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_torch_attention_with_a_causal_mask_imports_as_causal_attention(
    dynamo: bool, tmp_path: Path
) -> None:
    model = randomised(Masked(torch.triu(torch.full((5, 5), -math.inf), diagonal=1)))
    export(model, torch.randn(2, 5, 8), tmp_path / "c.onnx", dynamo=dynamo)
    layers, again = reimported(tmp_path / "c.onnx", tmp_path)
    assert layers[1] == (
        "MultiheadAttention",
        {"num_heads": 2, "dropout": 0.0, "bias": True, "causal": True},
    )
    x = np.random.default_rng(5).standard_normal((3, 5, 8)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert relative(expected, run(again, x)) <= 1e-4


def test_attention_with_a_mask_that_is_neither_causal_nor_padding_is_refused_by_name(
    tmp_path: Path,
) -> None:
    mask = torch.zeros(5, 5)
    mask[:, 0] = -math.inf  # nobody may look at the first step
    export(randomised(Masked(mask)), torch.randn(2, 5, 8), tmp_path / "m.onnx")
    with pytest.raises(OnnxImportError, match="neither causal nor key padding") as caught:
        import_onnx(tmp_path / "m.onnx", tmp_path / "m.netwright.json")
    assert caught.value.code == 1
    assert not (tmp_path / "m.netwright.json").exists()


class HandWrittenMasked(nn.Module):
    """Attention spelled in primitives (MatMul, scale, mask, Softmax, MatMul) over token ids,
    causal with masked_fill (ONNX Where), key padding with an additive -1e9 (ONNX Add)."""

    def __init__(self, causal: bool, padding: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.attention = HandWritten()
        self.causal, self.padding = causal, padding

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        batch, steps, width = x.shape
        a = self.attention

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(batch, steps, a.heads, width // a.heads).transpose(1, 2)

        q, k, v = split(a.q(x)), split(a.k(x)), split(a.v(x))
        scores = q @ k.transpose(-2, -1) * a.scale
        if self.padding:
            scores = scores + (tokens == 0).float()[:, None, None, :] * -1e9
        if self.causal:
            later = torch.ones(steps, steps, dtype=torch.bool).triu(1)
            scores = scores.masked_fill(later, float("-inf"))
        merged = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, steps, width)
        return a.out(merged)


@pytest.mark.parametrize(
    ("causal", "padding"), [(True, False), (False, True), (True, True)], ids=str
)
def test_hand_written_masked_attention_imports_as_one_masked_layer(
    causal: bool, padding: bool, tmp_path: Path
) -> None:
    model = randomised(HandWrittenMasked(causal, padding))
    tokens = torch.tensor([[3, 1, 4, 0, 0, 0], [5, 9, 2, 6, 5, 0]])
    export(model, tokens, tmp_path / "m.onnx")
    layers, again = reimported(tmp_path / "m.onnx", tmp_path)
    assert [kind for kind, _ in layers] == ["Input", "Embedding", "MultiheadAttention", "Output"]
    params = layers[2][1]
    assert params.get("causal", False) is causal
    assert params.get("padding_id") == (0 if padding else None)
    other = torch.tensor([[7, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6], [8, 8, 0, 8, 0, 8]])
    with torch.no_grad():
        expected = model(other).numpy()
    assert relative(expected, run(again, other.numpy())) <= 1e-4
