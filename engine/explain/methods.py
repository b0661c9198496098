"""Why the network gave its answer for one sample: attributions with Captum, attention maps.

Every method answers for one output (`target`: a class, the predicted one
unless another is asked for) and returns an `Explanation` whose
`attributions` are shaped like one input sample (Grad-CAM's: like the chosen
layer's map), so a picture can lay them over the image or draw one bar per
feature.

- saliency: how much a small change of each input value moves the output
  (the gradient's size);
- integrated gradients: the output's change from an all-zero input (the
  training data's mean, after standard scaling) shared out among the inputs;
  the shares add up to that change, and `convergence_delta` says by how much
  they miss (the integral is taken with more steps until it is small);
- occlusion: how much the output drops when a patch (a feature, a step, a
  token) is blanked out;
- Grad-CAM: which places of a conv layer's feature maps the output depends on;
- attention: an attention layer's weights, per head, queries by keys.

A network reading token ids cannot be differentiated by its input, so for it
the gradient methods and occlusion work on the embedded tokens (the output of
its Embedding) and each token's share is summed over the embedding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT
from engine.explain.subject import ExplainError, Subject
from engine.graph import Graph
from engine.layer_paths import SEP, layer_paths, layer_types

METHODS = ("saliency", "integrated_gradients", "occlusion", "gradcam", "attention")
CONV_TYPES = ("Conv1d", "Conv2d", "ConvTranspose2d")
ATTENTION_TYPES = ("MultiheadAttention", "TransformerEncoderLayer")
IG_STEPS = (64, 128, 256, 512)  # tried in turn until the shares add up within IG_TOLERANCE
IG_TOLERANCE = 0.01  # of the output's change (or of 1, when the change is tiny)
IG_BATCH = 64


@dataclass
class Explanation:
    """One sample's explanation; `to_json` gives what `netwright explain --json` prints."""

    method: str
    sample: int | None  # the validation sample's number (None: a sample from elsewhere)
    target: int  # the output explained
    prediction: int  # the network's answer: its highest-scoring output
    scores: np.ndarray  # the network's outputs for the sample
    probabilities: np.ndarray | None  # softmax of the scores, for a classifier
    attributions: np.ndarray  # shaped like one input sample (gradcam: the layer's map)
    convergence_delta: float | None = None  # integrated gradients: how far the shares miss
    output_change: float | None = None  # integrated gradients: output(sample) - output(zeros)
    steps: int | None = None  # integrated gradients: steps of the integral
    attention: np.ndarray | None = None  # heads x queries x keys
    layer: str | None = None
    overlay: np.ndarray | None = None  # gradcam: the map stretched over the input picture
    target_name: str = ""
    prediction_name: str = ""
    truth: int | None = None  # the true class of a validation sample

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "sample": self.sample,
            "target": self.target,
            "prediction": self.prediction,
            "attributions": _plain(self.attributions),
        }
        if self.method == "integrated_gradients":
            data["convergence_delta"] = self.convergence_delta
            data["output_change"] = self.output_change
            data["steps"] = self.steps
        if self.attention is not None:
            data["attention"] = _plain(self.attention)
        if self.layer is not None:
            data["layer"] = self.layer
        data["target_name"] = self.target_name
        data["prediction_name"] = self.prediction_name
        if self.truth is not None:
            data["true_class"] = self.truth
        data["scores"] = _plain(self.scores)
        if self.probabilities is not None:
            data["probabilities"] = _plain(self.probabilities)
        return data


def _plain(array: np.ndarray) -> Any:
    """Nested lists of floats rounded to 7 significant digits (JSON stays readable)."""
    return np.vectorize(lambda v: float(f"{v:.7g}"), otypes=[float])(array).tolist()


class Scores(nn.Module):
    """The network's outputs for each sample as one row (what Captum's `target` indexes)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).reshape(len(x), -1).float()


class FromEmbedding(nn.Module):
    """The network run from its embedded tokens: gradients need a float input, token ids are
    not one. The Embedding's output is replaced by the tensor given."""

    def __init__(self, model: nn.Module, embedding: nn.Module, tokens: torch.Tensor) -> None:
        super().__init__()
        self.model = model
        self.embedding = embedding
        self.tokens = tokens

    def forward(self, embedded: torch.Tensor) -> torch.Tensor:
        tokens = self.tokens.expand(len(embedded), *self.tokens.shape[1:])
        handle = self.embedding.register_forward_hook(lambda _m, _i, _o: embedded)
        try:
            return self.model(tokens).reshape(len(embedded), -1).float()
        finally:
            handle.remove()


def layers_of(subject: Subject, types: tuple[str, ...]) -> list[str]:
    """The network's layers of these types in the order the data meets them, those inside
    block uses by their path (``block1.conv1``)."""
    kinds = layer_types(subject.project.graph)
    return [p.key for p in layer_paths(subject.model) if kinds.get(p.key) in types]


def missing_layer(graph: Graph, key: str) -> str:
    """Why `key` names no layer of the network, in words: the first step of the path that
    leads nowhere, and what there is at that point."""
    parts = key.split(SEP)
    here, here_name = graph, ""
    way: list[str] = []
    for index, part in enumerate(parts):
        node = here.nodes.get(part)
        inner = {BLOCK_INPUT, BLOCK_OUTPUT}
        if node is None or node.type in inner:
            names = [n.id for n in here if n.type not in inner]
            if not way:
                return f"there is no layer '{part}'"
            use = SEP.join(way)
            return (
                f"there is no layer '{part}' in '{use}' (a use of block "
                f"'{here_name}'), which holds: {', '.join(names)}"
            )
        last = index == len(parts) - 1
        name = node.params.get("block")
        if last and node.type == BLOCK:
            return f"'{key}' is a use of block '{name}': name a layer inside it ({key}.NAME)"
        if last:
            return f"'{key}' is a {node.type}"
        if node.type != BLOCK or not isinstance(name, str) or name not in here.blocks:
            return (
                f"'{SEP.join((*way, part))}' is a {node.type}, not a block use, so "
                f"'{key}' leads nowhere"
            )
        way.append(part)
        here_name, here = name, here.blocks[name]
    return f"there is no layer '{key}'"


def listed(names: list[str], most: int = 40) -> str:
    """Names for a message; a long list cut short, saying how many more."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def conv_layers(subject: Subject) -> list[str]:
    return layers_of(subject, CONV_TYPES)


def attention_layers(subject: Subject) -> list[str]:
    return layers_of(subject, ATTENTION_TYPES)


def check_request(subject: Subject, method: str, layer: str | None, target: int | None) -> None:
    """Refuse, naming what is allowed, a method, layer or target this network has not."""
    if method not in METHODS:
        raise ExplainError(f"--method {method!r} is not one of: {', '.join(METHODS)}")
    if method in ("gradcam", "attention"):
        kind, allowed = (
            ("a conv layer", conv_layers(subject))
            if method == "gradcam"
            else ("an attention layer", attention_layers(subject))
        )
        if not allowed:
            others = [m for m in METHODS if m not in ("gradcam", "attention")]
            if method == "gradcam" and attention_layers(subject):
                others.append("attention")
            raise ExplainError(
                f"--method {method} needs {kind}, and this network has none; "
                f"use --method {', '.join(others)}"
            )
        if layer is None:
            raise ExplainError(f"--method {method} needs --layer, {kind}: {listed(allowed)}")
        if layer not in allowed:
            what = missing_layer(subject.project.graph, layer)
            raise ExplainError(f"--layer {layer}: {what}; {method} takes {kind}: {listed(allowed)}")
    elif layer is not None:
        raise ExplainError(f"--layer is for gradcam and attention only, not for {method}")
    if target is not None and not 0 <= target < subject.outputs:
        what = "classes" if subject.classification else "outputs"
        raise ExplainError(
            f"--target {target} is out of range: the network has {subject.outputs} {what}, "
            f"numbered 0 to {subject.outputs - 1}"
        )


def explain(
    subject: Subject,
    method: str,
    sample: int | None = None,
    *,
    x: torch.Tensor | None = None,
    layer: str | None = None,
    target: int | None = None,
) -> Explanation:
    """Explain validation sample `sample` (or the prepared batch of one `x`) with `method`."""
    check_request(subject, method, layer, target)
    if x is None:
        if sample is None:
            raise ExplainError("say which sample to explain (--sample N)")
        x = subject.sample(sample)
    model = Scores(subject.model).eval()
    with torch.no_grad():
        scores = model(x)[0]
    prediction = int(scores.argmax()) if len(scores) > 1 else 0
    chosen = prediction if target is None else int(target)
    probabilities = (
        torch.softmax(scores, dim=0).numpy() if subject.classification and len(scores) > 1 else None
    )
    found = Explanation(
        method,
        sample,
        chosen,
        prediction,
        scores.numpy(),
        probabilities,
        np.zeros(subject.input_shape, np.float32),
        layer=layer,
        target_name=subject.class_name(chosen) if subject.classification else f"output {chosen}",
        prediction_name=subject.class_name(prediction) if subject.classification else "",
        truth=subject.label(sample) if sample is not None else None,
    )
    with torch.enable_grad():  # the window's thread may have it off; Captum needs it on
        if method == "attention":
            from engine.explain.attention import attention_maps

            assert layer is not None
            inner = subject.model.get_submodule(layer)  # block1.attention: inside a use
            found.attention = attention_maps(subject.model, x, inner)
            found.attributions = found.attention.mean(axis=(0, 1))  # attention each key receives
        elif method == "gradcam":
            assert layer is not None
            _gradcam(found, model, subject.model.get_submodule(layer), x, chosen)
        else:
            _attribute(found, subject, model, x, method, chosen)
    return found


def _embedding(subject: Subject) -> nn.Module:
    vocabulary = subject.analysis.vocabulary
    node = vocabulary.node if vocabulary is not None else None
    module = getattr(subject.model, node, None) if node else None
    if isinstance(module, nn.Module):
        return module
    for child in subject.model.children():
        if isinstance(child, nn.Embedding):
            return child
    raise ExplainError("this network reads token ids but has no Embedding to start from", code=1)


def _attribute(
    found: Explanation,
    subject: Subject,
    model: nn.Module,
    x: torch.Tensor,
    method: str,
    target: int,
) -> None:
    if subject.tokens:
        embedding = _embedding(subject)
        with torch.no_grad():
            start = embedding(x).float()
        forward: nn.Module = FromEmbedding(subject.model, embedding, x)
    else:
        start, forward = x.float(), model
    values = _captum(found, forward, start, method, target)
    if subject.tokens:  # one share per token: summed (averaged for occlusion) over the embedding
        values = values.mean(axis=-1) if method == "occlusion" else values.sum(axis=-1)
    found.attributions = values.reshape(subject.input_shape).astype(np.float32)


def _captum(
    found: Explanation, forward: nn.Module, x: torch.Tensor, method: str, target: int
) -> np.ndarray:
    from captum.attr import IntegratedGradients, Occlusion, Saliency

    x = x.detach().requires_grad_(True)
    if method == "saliency":
        grads = Saliency(forward).attribute(x, target=target, abs=True)
        return grads.detach()[0].numpy()
    if method == "integrated_gradients":
        return _integrated(found, IntegratedGradients(forward), forward, x, target)
    window, strides = occlusion_window(tuple(x.shape[1:]))
    with torch.no_grad():
        found_values = Occlusion(forward).attribute(
            x.detach(), sliding_window_shapes=window, strides=strides, baselines=0.0, target=target
        )
    return found_values[0].numpy()


def _integrated(
    found: Explanation, method: Any, forward: nn.Module, x: torch.Tensor, target: int
) -> np.ndarray:
    baseline = torch.zeros_like(x)
    with torch.no_grad():
        change = float(forward(x)[0, target] - forward(baseline)[0, target])
    scale = max(abs(change), 1.0) * IG_TOLERANCE
    for steps in IG_STEPS:
        shares, delta = method.attribute(
            x,
            baselines=baseline,
            target=target,
            n_steps=steps,
            internal_batch_size=IG_BATCH,
            return_convergence_delta=True,
        )
        if abs(float(delta)) <= scale:
            break
    found.convergence_delta = float(delta)
    found.output_change = change
    found.steps = steps
    return shares.detach()[0].numpy()


def occlusion_window(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The patch blanked out at a time: a square of about a seventh of an image's side (at least
    2 pixels, all channels), one feature of a vector, one step of a sequence."""
    if len(shape) == 3:  # channels, height, width
        channels, height, width = shape
        side = max(2, min(height, width) // 7)
        step = max(1, side // 2)
        return (channels, min(side, height), min(side, width)), (channels, step, step)
    if len(shape) == 2:  # steps, features
        return (1, shape[1]), (1, shape[1])
    if len(shape) == 1:
        return (1,), (1,)
    return tuple(1 for _ in shape), tuple(1 for _ in shape)


def _gradcam(
    found: Explanation, model: nn.Module, layer: nn.Module, x: torch.Tensor, target: int
) -> None:
    from captum.attr import LayerAttribution, LayerGradCam

    cam = LayerGradCam(model, layer).attribute(x.float(), target=target, relu_attributions=True)
    cam = cam.detach()
    found.attributions = cam[0, 0].numpy().astype(np.float32)  # the layer's map: (h, w) or (L,)
    if x.dim() == 4 and cam.dim() == 4:  # an image: the map stretched over it, for a picture
        size = (int(x.shape[2]), int(x.shape[3]))
        found.overlay = LayerAttribution.interpolate(cam, size, "bilinear")[0, 0].numpy()


def picture_of(found: Explanation, input_shape: tuple[int, ...]) -> np.ndarray | None:
    """A (height, width) map of the explanation to lay over an image input, else None."""
    if len(input_shape) != 3 or found.method == "attention":
        return None
    if found.overlay is not None:
        return found.overlay
    values = found.attributions
    if values.ndim != 3:
        return None
    if found.method == "saliency":
        return values.max(axis=0)
    return values.sum(axis=0)


def finite(found: Explanation) -> bool:
    """True when the figures are all numbers (a diverged network gives NaNs)."""
    parts = [found.attributions, found.scores]
    if found.attention is not None:
        parts.append(found.attention)
    ok = all(np.isfinite(p).all() for p in parts)
    return ok and (found.convergence_delta is None or math.isfinite(found.convergence_delta))


__all__ = [
    "METHODS",
    "Explanation",
    "attention_layers",
    "check_request",
    "conv_layers",
    "explain",
    "picture_of",
]
