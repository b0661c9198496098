"""Models no one here wrote, for the import proof: torchvision's classifiers and Hugging Face
BERT and GPT-2, with random weights (nothing is downloaded), and the two ways torch writes
them to ONNX.

torchvision's wheel from the registry is a CUDA build whose compiled operators do not load
against the CPU torch here ("operator torchvision::nms does not exist"); its model
definitions are plain Python and build once `torchvision._meta_registrations` (which
registers those operators) is kept from importing. transformers imports torchvision when
it is installed, so the same holds for it. Used by tests and benchmarks/export_import.py.
"""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


def _keep_torchvision_operators_out() -> None:
    name = "torchvision._meta_registrations"
    if name not in sys.modules:
        sys.modules[name] = types.ModuleType(name)


def torchvision_models():  # -> module torchvision.models
    _keep_torchvision_operators_out()
    from torchvision import models

    return models


@dataclass(frozen=True)
class RealModel:
    """How to build one model and feed it."""

    name: str
    build: Callable[[], nn.Module]
    example: Callable[[int], torch.Tensor]  # batch size -> an input batch


def _image(size: int) -> Callable[[int], torch.Tensor]:
    return lambda batch: torch.randn(
        batch, 3, size, size, generator=torch.Generator().manual_seed(1)
    )


def _tokens(vocabulary: int, steps: int) -> Callable[[int], torch.Tensor]:
    return lambda batch: torch.randint(
        0, vocabulary, (batch, steps), generator=torch.Generator().manual_seed(1)
    )


def _vision(name: str, size: int = 64, **options: object) -> RealModel:
    def build() -> nn.Module:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # googlenet's notice about its weights' init
            return getattr(torchvision_models(), name)(weights=None, **options)

    return RealModel(name, build, _image(size))


# The architectures issue 14 names, at the smallest input each accepts comfortably (64x64;
# ViT and Swin at 224, the size their patch layout is built for). Classifier heads keep
# torchvision's 1000 classes.
TORCHVISION = {
    model.name: model
    for model in (
        _vision("alexnet", size=224),
        _vision("resnet18"),
        _vision("vgg19", size=224),
        _vision("densenet121"),
        _vision("mobilenet_v2"),
        _vision("mobilenet_v3_small"),
        _vision("shufflenet_v2_x0_5"),
        _vision("squeezenet1_1"),
        _vision("efficientnet_b0"),
        _vision("convnext_tiny"),
        _vision("regnet_y_400mf"),
        _vision("vit_b_16", size=224),
        _vision("swin_t", size=224),
    )
}

VOCABULARY, STEPS = 100, 16


class _Logits(nn.Module):
    """A transformers model as users export it for one task: token ids in, logits out."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids, use_cache=False).logits


def _bert() -> nn.Module:
    _keep_torchvision_operators_out()
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=VOCABULARY,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    return _Logits(BertForSequenceClassification(config))


def _gpt2() -> nn.Module:
    _keep_torchvision_operators_out()
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=VOCABULARY,
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=64,
        bos_token_id=0,
        eos_token_id=0,
    )
    return _Logits(GPT2LMHeadModel(config))


HUGGING_FACE = {
    "bert": RealModel("bert", _bert, _tokens(VOCABULARY, STEPS)),
    "gpt2": RealModel("gpt2", _gpt2, _tokens(VOCABULARY, STEPS)),
}

EXPORTERS = ("torchscript", "dynamo")


def export(model: nn.Module, example: torch.Tensor, exporter: str, path: Path) -> Path:
    """Write `model` to `path` as its users do: the TorchScript exporter (`dynamo=False`) with a
    dynamic batch axis, or torch's default torch.export-based one with one self-contained file."""
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices of either exporter
        if exporter == "torchscript":
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                opset_version=17,
            )
        elif exporter == "dynamo":
            torch.onnx.export(
                model, (example,), str(path), dynamo=True, external_data=False, verbose=False
            )
        else:
            raise ValueError(exporter)
    return path
