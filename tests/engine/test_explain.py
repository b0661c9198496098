"""`netwright explain`: why the network answered as it did, with figures that can be checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_cli import assert_plain, netwright

from engine.cli import run
from engine.explain.methods import explain
from engine.explain.subject import load_subject
from engine.project import load_project
from engine.resources import example


def example_path(name: str) -> Path:
    return example(name).path


def explained(capsys, name: str, *args: str) -> dict:
    code = run(["explain", str(example_path(name)), *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.fixture(scope="module")
def trained_iris(tmp_path_factory) -> Path:
    """The perceptron trained a few epochs on iris: weights that mean something."""
    weights = tmp_path_factory.mktemp("iris") / "perceptron.safetensors"
    code = run(
        ["train", str(example_path("perceptron")), "--epochs", "30", "--weights-out", str(weights)]
    )
    assert code == 0
    return weights


def test_integrated_gradients_add_up_to_the_change_of_the_output(capsys, trained_iris) -> None:
    data = explained(
        capsys,
        "perceptron",
        "--sample",
        "4",
        "--method",
        "integrated_gradients",
        "--weights",
        str(trained_iris),
    )
    shares = np.asarray(data["attributions"])
    assert shares.shape == (4,)  # one per measurement of the flower
    # the change of the explained output from the all-zero input, computed here independently
    subject = load_subject(load_project(example_path("perceptron")), trained_iris)
    x = subject.sample(4)
    with torch.no_grad():
        change = float(
            subject.model(x)[0, data["target"]]
            - subject.model(torch.zeros_like(x))[0, data["target"]]
        )
    assert abs(change) > 0.1  # a trained network's answer moves
    assert shares.sum() == pytest.approx(change, abs=abs(data["convergence_delta"]) + 1e-4)
    assert abs(data["convergence_delta"]) <= 0.01 * max(abs(change), 1.0)
    assert data["weights"].startswith("trained weights from")


def test_integrated_gradients_on_a_conv_net_add_up_too() -> None:
    subject = load_subject(load_project(example_path("digits-cnn")))
    found = explain(subject, "integrated_gradients", 7, target=3)
    assert found.attributions.shape == (1, 8, 8)  # shaped like one input sample
    assert found.output_change is not None and found.convergence_delta is not None
    assert (
        abs(float(found.attributions.sum()) - found.output_change)
        <= abs(found.convergence_delta) + 1e-4
    )
    assert found.target == 3 and found.target_name == "3"


def test_gradcam_gives_a_map_of_the_layers_own_size(capsys) -> None:
    for layer, side in (("conv1", 8), ("conv2", 4)):  # digits-cnn: 8x8, pooled to 4x4
        data = explained(
            capsys, "digits-cnn", "--sample", "0", "--method", "gradcam", "--layer", layer
        )
        cam = np.asarray(data["attributions"])
        assert cam.shape == (side, side)
        assert (cam >= 0).all()  # only what speaks for the class
        assert data["layer"] == layer


def test_gradcam_reaches_a_layer_inside_a_block_use_by_its_path(capsys) -> None:
    maps = {}
    for layer in ("block1.conv1", "block3.conv2"):  # residual-blocks: BasicBlock used 3 times
        data = explained(
            capsys, "residual-blocks", "--sample", "0", "--method", "gradcam", "--layer", layer
        )
        assert data["layer"] == layer
        maps[layer] = np.asarray(data["attributions"])
        assert maps[layer].shape == (8, 8) and (maps[layer] >= 0).all()
    assert not np.allclose(maps["block1.conv1"], maps["block3.conv2"])  # two layers, two maps


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ("block2.conv9", ["--layer block2.conv9", "no layer 'conv9' in 'block2'", "'BasicBlock'",
                          "conv1, bn1, relu1, conv2, bn2, add, relu2"]),
        ("stem.conv1", ["'stem' is a Conv2d, not a block use", "'stem.conv1' leads nowhere"]),
        ("block2", ["a use of block 'BasicBlock'", "block2.NAME"]),
        ("block2.bn1", ["'block2.bn1' is a BatchNorm2d"]),
        ("nope.conv1", ["no layer 'nope'"]),
    ],
)  # fmt: skip
def test_a_wrong_path_into_a_block_says_where_it_leads_nowhere(capsys, layer, words) -> None:
    path = str(example_path("residual-blocks"))
    code = run(["explain", path, "--sample", "0", "--method", "gradcam", "--layer", layer])
    err = capsys.readouterr().err
    assert code == 2, err
    for word in [*words, "takes a conv layer: stem, block1.conv1, block1.conv2, block2.conv1"]:
        assert word in err
    assert "Traceback" not in err


def test_saliency_and_occlusion_are_shaped_like_the_sample(capsys) -> None:
    for method in ("saliency", "occlusion"):
        data = explained(capsys, "digits-cnn", "--sample", "2", "--method", method)
        assert np.asarray(data["attributions"]).shape == (1, 8, 8)
        assert set(data) >= {"method", "sample", "target", "prediction", "attributions"}
        assert data["method"] == method and data["sample"] == 2
        assert "convergence_delta" not in data
    saliency = np.asarray(
        explained(capsys, "digits-cnn", "--sample", "2", "--method", "saliency")["attributions"]
    )
    assert (saliency >= 0).all() and saliency.max() > 0


def test_any_class_can_be_explained_not_only_the_predicted_one(capsys) -> None:
    first = explained(capsys, "digits-cnn", "--sample", "1", "--method", "saliency")
    other = (first["prediction"] + 1) % 10
    data = explained(
        capsys, "digits-cnn", "--sample", "1", "--method", "saliency", "--target", str(other)
    )
    assert data["target"] == other and data["prediction"] == first["prediction"]
    assert data["attributions"] != first["attributions"]


def test_attention_rows_sum_to_one_for_every_head(capsys) -> None:
    data = explained(
        capsys,
        "transformer-marker",
        "--sample",
        "3",
        "--method",
        "attention",
        "--layer",
        "encoder1",
    )
    attention = np.asarray(data["attention"])
    assert attention.shape == (4, 16, 16)  # heads x queries x keys
    assert np.allclose(attention.sum(axis=-1), 1.0, atol=1e-4)
    assert (attention >= 0).all()
    assert np.asarray(data["attributions"]).shape == (16,)  # attention each token receives


def test_token_networks_get_one_share_per_token(capsys) -> None:
    data = explained(
        capsys, "transformer-marker", "--sample", "0", "--method", "integrated_gradients"
    )
    assert np.asarray(data["attributions"]).shape == (16,)
    assert (
        abs(sum(data["attributions"]) - data["output_change"])
        <= abs(data["convergence_delta"]) + 1e-4
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--method", "lime"], ["'lime'", "saliency", "integrated_gradients", "gradcam"]),
        (["--method", "gradcam"], ["needs --layer", "conv1, conv2"]),
        (["--method", "gradcam", "--layer", "bn1"], ["bn1", "BatchNorm2d", "conv1, conv2"]),
        (["--method", "gradcam", "--layer", "nope"], ["no layer 'nope'", "conv1, conv2"]),
        (["--method", "attention", "--layer", "conv1"], ["attention layer", "none"]),
        (["--method", "saliency", "--sample", "100000"], ["out of range", "0 to 358"]),
        (["--method", "saliency", "--target", "10"], ["--target 10", "10 classes", "0 to 9"]),
        (["--method", "saliency", "--layer", "conv1"], ["--layer is for gradcam and attention"]),
    ],
)
def test_a_wrong_request_exits_2_naming_what_is_allowed(capsys, args, words) -> None:
    if "--sample" not in args:
        args = [*args, "--sample", "0"]
    code = run(["explain", str(example_path("digits-cnn")), *args])
    err = capsys.readouterr().err
    assert code == 2
    for word in words:
        assert word in err
    assert "Traceback" not in err


def test_a_missing_weights_file_exits_2(capsys, tmp_path) -> None:
    code = run(
        [
            "explain",
            str(example_path("perceptron")),
            "--sample",
            "0",
            "--method",
            "saliency",
            "--weights",
            str(tmp_path / "none.safetensors"),
        ]
    )
    assert code == 2 and "no such weights file" in capsys.readouterr().err


def test_the_headless_command_draws_a_picture_and_never_imports_qt(tmp_path) -> None:
    picture = tmp_path / "why.png"
    result = netwright(
        "explain",
        example_path("digits-cnn"),
        "--sample",
        "5",
        "--method",
        "gradcam",
        "--layer",
        "conv2",
        "--out",
        picture,
    )
    assert_plain(result)
    assert result.returncode == 0, result.stderr
    assert "Grad-CAM on conv2: a 4x4 map" in result.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_plain_output_names_the_measurements_that_counted(capsys, trained_iris) -> None:
    code = run(
        [
            "explain",
            str(example_path("perceptron")),
            "--sample",
            "0",
            "--method",
            "occlusion",
            "--weights",
            str(trained_iris),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "predicted" in out and "petal" in out  # iris's features by their names


@pytest.mark.slow
def test_on_the_marker_task_the_answer_is_read_from_the_token_after_the_marker(tmp_path) -> None:
    """transformer-marker trained with its own settings (100 % validation accuracy): in its
    second encoder, every head puts most of its attention on the token after the marker."""
    weights = tmp_path / "marker.safetensors"
    path = example_path("transformer-marker")
    assert run(["train", str(path), "--weights-out", str(weights)]) == 0
    subject = load_subject(load_project(path), weights)
    landed = []
    for sample in range(20):
        found = explain(subject, "attention", sample, layer="encoder2")
        tokens = subject.sample(sample)[0]
        after_marker = int((tokens == 10).nonzero()[0, 0]) + 1
        received = found.attention.mean(axis=1)  # heads x keys, over every query
        landed.append(received.argmax(axis=1) == after_marker)
    assert np.mean(landed) > 0.9


def test_attention_maps_follow_the_mask_the_layer_uses() -> None:
    """An attention layer that passes a mask (a causal one here) to its nn.MultiheadAttention
    gets its maps with that mask: no query looks at a later key."""
    from engine.explain.attention import attention_maps
    from engine.modules import SelfAttention

    class CausalAttention(SelfAttention):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            length = x.shape[1]
            mask = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
            return self.attention(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]

    torch.manual_seed(0)
    layer = CausalAttention(8, 2).eval()
    maps = attention_maps(layer, torch.randn(1, 5, 8), layer)
    assert maps.shape == (2, 5, 5)
    assert np.allclose(maps.sum(axis=-1), 1.0, atol=1e-5)
    assert np.allclose(np.triu(maps, k=1), 0.0)  # nothing from the future
    rows, columns = np.tril_indices(5)
    assert (maps[:, rows, columns] > 0).all()  # and every earlier key has its share
