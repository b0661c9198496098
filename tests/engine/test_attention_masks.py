"""Causal and key-padding attention, as a user builds GPT- and BERT-style blocks: what the
layers compute, the problems they report, and that both leave through either of torch's
ONNX exporters and come back through the import with their masks."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from engine.analysis import analyse
from engine.compiler import compile_graph
from engine.export import export_onnx, export_python
from engine.graph import Graph, PortRef
from engine.modules import MaskedEncoderLayer, SelfAttention
from engine.onnx_import import import_onnx
from engine.project import Project, load_project

LAYERS = ("MultiheadAttention", "TransformerEncoderLayer")
STEPS, VOCABULARY = 6, 12


def token_network(
    layer: str, causal: bool = False, padding: bool = False, **params: object
) -> Graph:
    """Token ids -> Embedding -> the attention layer (its 'padding' input fed the ids)."""
    graph = Graph()
    graph.add_node("Input", "tokens", {"shape": [STEPS], "dtype": "int64"})
    graph.add_node("Embedding", "embed", {"num_embeddings": VOCABULARY, "embedding_dim": 8})
    options: dict[str, object] = {"num_heads": 2, "causal": causal, **params}
    if layer == "TransformerEncoderLayer":
        options |= {"dim_feedforward": 16, "dropout": 0.0}
    graph.add_node(layer, "block", options)
    graph.add_node("Output", "output")
    graph.connect(PortRef("tokens", "out"), PortRef("embed", "in"))
    graph.connect(PortRef("embed", "out"), PortRef("block", "in"))
    if padding:
        graph.connect(PortRef("tokens", "out"), PortRef("block", "padding"))
    graph.connect(PortRef("block", "out"), PortRef("output", "in"))
    return graph


def ids(*rows: list[int]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.int64)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_causal_step_does_not_see_later_steps(layer: str) -> None:
    model = compile_graph(token_network(layer, causal=True)).eval()
    before = ids([1, 2, 3, 4, 5, 6])
    after = ids([1, 2, 3, 9, 9, 9])  # only steps 4 to 6 differ
    with torch.no_grad():
        a, b = model(before), model(after)
    assert torch.allclose(a[:, :3], b[:, :3], atol=1e-6)
    assert not torch.allclose(a[:, 3:], b[:, 3:], atol=1e-3)


@pytest.mark.parametrize("layer", LAYERS)
def test_padding_steps_change_nothing_at_the_real_steps(layer: str) -> None:
    """Whatever token a padded step carries in the embedding, the real steps read the same;
    here the padding id is 0 and the last steps are padding."""
    model = compile_graph(token_network(layer, padding=True)).eval()
    with torch.no_grad():
        short = model(ids([4, 7, 2, 0, 0, 0]))
        unmasked = compile_graph(token_network(layer)).eval()(ids([4, 7, 2, 0, 0, 0]))
    embed = model.embed.weight
    with torch.no_grad():
        embed[0] += 3.0  # the padding token's own vector changes
        changed = model(ids([4, 7, 2, 0, 0, 0]))
    assert torch.allclose(short[:, :3], changed[:, :3], atol=1e-5)
    assert not torch.allclose(short[:, :3], unmasked[:, :3], atol=1e-3)


def test_key_padding_computes_what_torch_computes_with_key_padding_mask() -> None:
    torch.manual_seed(0)
    layer = SelfAttention(8, 2, padding_id=0).eval()
    x = torch.randn(2, 5, 8)
    tokens = ids([3, 1, 0, 0, 0], [2, 2, 2, 2, 0])
    with torch.no_grad():
        expected = layer.attention(x, x, x, key_padding_mask=tokens == 0, need_weights=False)[0]
        got = layer(x, tokens)
    assert torch.allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_sequence_of_padding_only_stays_finite_and_trains(layer: str) -> None:
    model = compile_graph(token_network(layer, causal=True, padding=True))
    out = model(ids([0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0]))
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_the_padding_input_needs_one_value_per_step() -> None:
    graph = token_network("MultiheadAttention")
    graph.add_node("Embedding", "wide", {"num_embeddings": VOCABULARY, "embedding_dim": 3})
    graph.connect(PortRef("tokens", "out"), PortRef("wide", "in"))
    graph.connect(PortRef("wide", "out"), PortRef("block", "padding"))
    (problem,) = analyse(graph).errors
    assert problem.node == "block"
    assert "the 'padding' input needs one value per step (6), but gets 6x3" in problem.message


def test_the_padding_input_is_optional_and_takes_token_ids_or_numbers() -> None:
    assert analyse(token_network("MultiheadAttention")).ok
    assert analyse(token_network("TransformerEncoderLayer", padding=True)).ok
    graph = token_network("MultiheadAttention")
    graph.add_node("Linear", "score", {"out_features": 1})  # real numbers, one per step
    graph.add_node("Flatten", "flat")
    graph.connect(PortRef("embed", "out"), PortRef("score", "in"))
    graph.connect(PortRef("score", "out"), PortRef("flat", "in"))
    graph.connect(PortRef("flat", "out"), PortRef("block", "padding"))
    assert analyse(graph).ok, [str(d) for d in analyse(graph).errors]


def test_token_ids_into_the_sequence_input_are_still_refused() -> None:
    graph = token_network("MultiheadAttention")
    graph.disconnect(next(e for e in graph.edges if e.target == PortRef("block", "in")))
    graph.connect(PortRef("tokens", "out"), PortRef("block", "in"))
    messages = [d.message for d in analyse(graph).errors]
    assert "MultiheadAttention needs real numbers but receives token ids" in messages


SLOW = pytest.mark.slow  # seconds each: `make test` runs the dynamo export of both masks


@pytest.mark.parametrize(
    ("layer", "causal", "padding", "exporter"),
    [
        ("MultiheadAttention", True, False, "torchscript"),
        ("MultiheadAttention", True, True, "torchscript"),
        ("TransformerEncoderLayer", False, True, "torchscript"),
        ("TransformerEncoderLayer", True, True, "torchscript"),
        ("MultiheadAttention", True, True, "dynamo"),
        pytest.param("MultiheadAttention", True, False, "dynamo", marks=SLOW),
        pytest.param("TransformerEncoderLayer", False, True, "dynamo", marks=SLOW),
        pytest.param("TransformerEncoderLayer", True, True, "dynamo", marks=SLOW),
    ],
)
def test_masked_attention_exports_verified_and_imports_back_with_its_masks(
    layer: str, causal: bool, padding: bool, exporter: str, tmp_path: Path
) -> None:
    exported_and_imported_back(layer, causal, padding, exporter, tmp_path)


@pytest.mark.parametrize(("causal", "padding"), [(True, False), (False, True), (True, True)])
def test_a_pre_norm_block_imports_back_with_its_masks(
    causal: bool, padding: bool, tmp_path: Path
) -> None:
    """GPT-style blocks normalise before attention: the mask then reads the sizes of the
    LayerNorm's input, not of the attention's."""
    layer = "TransformerEncoderLayer"
    exported_and_imported_back(layer, causal, padding, "torchscript", tmp_path, norm_first=True)


def exported_and_imported_back(
    layer: str, causal: bool, padding: bool, exporter: str, tmp_path: Path, **params: object
) -> None:
    graph = token_network(layer, causal, padding, padding_id=3, **params)
    project = Project(name="masked", graph=graph)
    result = export_onnx(project, tmp_path / "m.onnx", verify=True, exporter=exporter)
    assert result.exporter == exporter
    imported = import_onnx(tmp_path / "m.onnx", tmp_path / "m.netwright.json", flat=True)
    graph = load_project(imported.project_path).graph
    (attention,) = [n for n in graph if n.type == "MultiheadAttention"]
    assert attention.params.get("causal", False) is causal
    if padding:
        assert attention.params["padding_id"] == 3
        (wire,) = [e for e in graph.edges if e.target == PortRef(attention.id, "padding")]
        assert graph.nodes[wire.source.node].type == "Input"
    else:
        assert "padding_id" not in attention.params
    assert imported.max_abs_difference is not None and imported.max_abs_difference < 1e-4


FROZEN_STEPS = (
    "torch's TorchScript exporter traces nn.MultiheadAttention's reshapes with the example's "
    "sequence length, masks or not (a torch limitation; Netwright's files fix the length)"
)


@pytest.mark.parametrize(
    "dynamo",
    [pytest.param(False, marks=pytest.mark.xfail(strict=True, reason=FROZEN_STEPS)), True],
    ids=["torchscript", "dynamo"],
)
def test_the_exported_masks_follow_the_sequence_length(dynamo: bool, tmp_path: Path) -> None:
    """The masks are computed from the length of the sequence, not frozen into the file:
    a file written with a dynamic sequence axis answers right for other lengths."""

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(VOCABULARY, 8)
            self.attention = MaskedEncoderLayer(8, 2, 16, dropout=0.0, causal=True)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.attention(self.embed(tokens), tokens)

    model = Block().eval()
    example = ids([1, 2, 3, 0, 0, 0], [4, 5, 0, 0, 0, 0])
    path = tmp_path / "block.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            batch, steps = torch.export.Dim("batch"), torch.export.Dim("steps", min=2)
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                external_data=False,
                dynamic_shapes=({0: batch, 1: steps},),
                verbose=False,
            )
        else:
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                input_names=["tokens"],
                dynamic_axes={"tokens": {0: "batch", 1: "steps"}},
                opset_version=17,
            )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for tokens in (ids([7, 1, 0]), ids([2, 3, 4, 5, 6, 7, 8, 0, 0, 0], [1] * 10)):
        with torch.no_grad():
            expected = model(tokens).numpy()
        (got,) = session.run(None, {session.get_inputs()[0].name: tokens.numpy()})
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_the_python_export_of_a_gpt_style_block_runs_with_torch_alone(tmp_path: Path) -> None:
    project = Project(name="gpt-block", graph=token_network("TransformerEncoderLayer", True, True))
    export_python(project, tmp_path / "block.py")
    source = (tmp_path / "block.py").read_text()
    assert "class AttentionMasks" in source and "class MaskedEncoderLayer" in source
    assert "causal=True, padding_id=0)" in source
    namespace: dict[str, object] = {}
    exec(compile(source, "block.py", "exec"), namespace)
    exported = namespace["GptBlock"]().eval()  # type: ignore[operator]
    original = compile_graph(project.graph).eval()
    exported.load_state_dict(original.state_dict())
    tokens = ids([3, 4, 0, 0, 0, 0])
    with torch.no_grad():
        assert torch.allclose(exported(tokens), original(tokens), atol=1e-6)


def test_plain_attention_layers_export_python_as_before(tmp_path: Path) -> None:
    project = Project(name="plain", graph=token_network("TransformerEncoderLayer"))
    export_python(project, tmp_path / "plain.py")
    source = (tmp_path / "plain.py").read_text()
    assert "nn.TransformerEncoderLayer(8, 2, dim_feedforward=16" in source
    assert "Masked" not in source


def test_a_bert_style_project_with_key_padding_trains_headless(tmp_path: Path, capsys) -> None:
    """The marker example with both encoders blind to token 0 and the first causal: the
    command line trains it, the loss stays finite, and the weights are saved."""
    from engine.cli import run
    from engine.project import save_project
    from engine.resources import examples

    project = load_project(next(e for e in examples() if e.name == "transformer-marker").path)
    project.graph.set_param("encoder1", "causal", True)
    for encoder in ("encoder1", "encoder2"):
        project.graph.connect(PortRef("input", "out"), PortRef(encoder, "padding"))
    path = tmp_path / "masked.netwright.json"
    save_project(project, path)
    metrics = tmp_path / "metrics.jsonl"
    assert run(["train", str(path), "--epochs", "1", "--metrics-out", str(metrics)]) == 0
    events = [json.loads(line) for line in metrics.read_text().splitlines()]
    (epoch,) = [e for e in events if e["event"] == "epoch"]
    assert np.isfinite(epoch["train_loss"]) and np.isfinite(epoch["val_loss"])
    assert events[-1]["status"] == "completed"
    assert (tmp_path / "masked.safetensors").is_file()
