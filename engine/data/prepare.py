"""Fitting a loaded data set to one network: shapes, targets, split and scaling.

The samples are reshaped to the Input node's shape when the number of values
matches (the 64 digit pixels become 64, 8x8 or 1x8x8, whatever the network
reads); targets are made to fit the loss and the Output; the split is drawn
from the seed (stratified by class), and scaling is fitted on the training
part only and recorded. Anything that does not fit is a `DataError` (code 1)
naming the data and the node to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.analysis import Analysis
from engine.data.batches import InMemoryBatches
from engine.data.dataset import DataError, DataSet
from engine.data.scaling import apply_scaling, fit_scaling
from engine.settings import TrainingSettings

if TYPE_CHECKING:
    from engine.text.tokenizers import Tokenizer


@dataclass(frozen=True)
class NetworkIO:
    """What a network reads and gives: the facts data preparation needs from the graph."""

    input_id: str
    input_shape: tuple[int, ...]
    tokens: bool  # the Input carries int64 token ids
    vocab: int | None  # the smallest Embedding vocabulary, for token ids
    vocab_node: str | None
    output_shape: tuple[int, ...]


def network_io(analysis: Analysis) -> NetworkIO:
    """The facts of a valid network's analysis that its data must fit."""
    assert analysis.input_id is not None
    vocabulary = analysis.vocabulary
    return NetworkIO(
        analysis.input_id,
        tuple(analysis.input_shape or ()),
        analysis.reads_tokens,
        vocabulary.size if vocabulary is not None else None,
        vocabulary.node if vocabulary is not None else None,
        tuple(analysis.output_shape or ()),
    )


@dataclass
class PreparedData:
    """Training and validation tensors (on the CPU) ready for a network, and what they mean."""

    source: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor | None
    val_y: torch.Tensor | None
    classification: bool
    class_names: tuple[str, ...] | None
    scaling: dict[str, Any] | None  # fitted statistics; see engine.data.scaling
    tokenizer: Tokenizer | None = None  # text: how it became token ids (saved with the weights)
    unigram_loss: float | None = None  # text to continue: the loss of a context-blind model

    @property
    def train_samples(self) -> int:
        return len(self.train_x)

    @property
    def val_samples(self) -> int:
        return 0 if self.val_x is None else len(self.val_x)

    def batches(
        self,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[InMemoryBatches, InMemoryBatches | None]:
        """Shuffled training batches and in-order validation batches, held on `device`."""
        train = InMemoryBatches(
            self.train_x,
            self.train_y,
            batch_size,
            device=device,
            shuffle=True,
            seed=seed,
            rank=rank,
            world_size=world_size,
        )
        val = None
        if self.val_x is not None and self.val_y is not None:
            val = InMemoryBatches(
                self.val_x,
                self.val_y,
                max(batch_size, 1024),
                device=device,
                shuffle=False,
                rank=rank,
                world_size=world_size,
                whole=True,
            )
        return train, val


def prepare_data(
    data: DataSet,
    io: NetworkIO,
    settings: TrainingSettings,
    section: dict[str, Any] | None = None,
) -> PreparedData:
    """Fit `data` to the network described by `io`, split and scale it."""
    section = section or {}
    x = _fit_input(data, io)
    autoencoder = section.get("target") == "input"
    classification = settings.is_classification and not autoencoder
    labels = None if autoencoder else _labels(data, classification)
    if data.validation is not None:  # the data says which samples validate (text)
        order = np.random.default_rng(settings.seed).permutation(np.flatnonzero(~data.validation))
        train_idx, val_idx = order, np.flatnonzero(data.validation)
    else:
        train_idx, val_idx = split_indices(
            len(x), settings.validation_split, settings.seed, labels if classification else None
        )
    method = section.get("scaling", "none" if io.tokens else "standard")
    stats = None if io.tokens else fit_scaling(method, x[train_idx])
    x = x if io.tokens else apply_scaling(x, stats)
    if autoencoder:
        y = _autoencoder_targets(data, x, io)
    else:
        assert labels is not None
        y = _targets(data, labels, io, settings)
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    has_val = len(val_idx) > 0
    return PreparedData(
        data.name,
        xt[torch.from_numpy(train_idx)],
        yt[torch.from_numpy(train_idx)],
        xt[torch.from_numpy(val_idx)] if has_val else None,
        yt[torch.from_numpy(val_idx)] if has_val else None,
        classification,
        data.class_names if classification else None,
        stats,
    )


def split_indices(
    count: int, fraction: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reproducible (train, validation) indices; per class when labels are given."""
    rng = np.random.default_rng(seed)
    if fraction <= 0 or count < 2:
        return rng.permutation(count), np.empty(0, dtype=np.int64)
    groups = (
        [np.arange(count)]
        if labels is None
        else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    )
    train, val = [], []
    for group in groups:
        group = rng.permutation(group)
        take = min(len(group) - 1, max(1, round(len(group) * fraction))) if len(group) > 1 else 0
        val.append(group[:take])
        train.append(group[take:])
    return rng.permutation(np.concatenate(train)), np.sort(np.concatenate(val))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "a single value"


def _fit_input(data: DataSet, io: NetworkIO) -> np.ndarray:
    wanted = int(np.prod(io.input_shape))
    have = int(np.prod(data.sample_shape))
    if have != wanted:
        raise DataError(
            f"{data.name}: each sample holds {have} values ({_shape_text(data.sample_shape)}), but the "
            f"Input node '{io.input_id}' expects {_shape_text(io.input_shape)} = {wanted} values; "
            f"set the Input shape to {_shape_text(data.sample_shape)} (or a shape with {have} values), "
            "or choose data that fits",
            code=1,
        )
    x = data.x.reshape(len(data.x), *io.input_shape)
    if not io.tokens:
        return x.astype(np.float32)
    if not data.is_tokens and not np.all(x == np.round(x)):
        raise DataError(
            f"{data.name}: the Input node '{io.input_id}' reads token ids (int64), but the data holds "
            "fractional numbers; set the Input dtype to float32",
            code=1,
        )
    tokens = x.astype(np.int64)
    low, high = int(tokens.min()), int(tokens.max())
    if low < 0 or (io.vocab is not None and high >= io.vocab):
        raise DataError(
            f"{data.name}: token ids run from {low} to {high}, but the Embedding '{io.vocab_node}' "
            f"knows ids 0 to {(io.vocab or 1) - 1}; set its num_embeddings to at least {high + 1}",
            code=1,
        )
    return tokens


def _labels(data: DataSet, classification: bool) -> np.ndarray:
    if data.y is None:
        raise DataError(f"{data.name}: the data has no targets to learn", code=1)
    y = data.y
    if classification and y.dtype.kind == "f":
        flat = y.reshape(len(y), -1)
        if flat.shape[1] != 1 or not np.all(flat == np.round(flat)) or flat.min() < 0:
            raise DataError(
                f"{data.name}: cross-entropy needs one class number (0, 1, 2, ...) per sample, but the "
                "targets are real values; choose the mse loss for regression",
                code=1,
            )
        return flat[:, 0].astype(np.int64)
    return y


def _targets(data: DataSet, y: np.ndarray, io: NetworkIO, settings: TrainingSettings) -> np.ndarray:
    out = io.output_shape
    scores = int(np.prod(out)) if out else 1
    ids = y.dtype.kind in "iu" and y.ndim == 1
    if settings.loss == "next_token":
        return _next_tokens(data, y, io)
    if settings.is_classification:
        top = int(y.max()) if len(y) else 0
        if len(out) != 1 or top >= out[0]:
            raise DataError(
                f"{data.name}: the labels go up to {top} ({top + 1} classes), but the Output receives "
                f"{_shape_text(out)} scores; end the network with Linear(out_features={top + 1})",
                code=1,
            )
        return y.astype(np.int64)
    if ids and settings.loss == "bce_with_logits" and scores == 1:
        if y.max() > 1:
            raise DataError(
                f"{data.name}: BCE with one output needs labels 0 and 1, but they go up to {int(y.max())}; "
                f"use cross-entropy with Linear(out_features={int(y.max()) + 1})",
                code=1,
            )
        return y.astype(np.float32).reshape(len(y), *out)
    if ids and len(out) == 1 and out[0] > 1 and int(y.max()) < out[0]:
        return np.eye(out[0], dtype=np.float32)[y]  # one-hot targets for mse/bce on class labels
    per_sample = int(np.prod(y.shape[1:]))
    if per_sample != scores:
        raise DataError(
            f"{data.name}: each target holds {per_sample} value(s), but the Output receives "
            f"{_shape_text(out)}; make the last layer give {per_sample} value(s)",
            code=1,
        )
    return y.astype(np.float32).reshape(len(y), *out)


def _next_tokens(data: DataSet, y: np.ndarray, io: NetworkIO) -> np.ndarray:
    """A language model's targets: the next token at every position of the window."""
    out = io.output_shape
    if y.dtype.kind not in "iu" or y.ndim != 2:
        raise DataError(
            f"{data.name}: the next_token loss learns the text that follows each window, but this "
            "data has one target per sample; train on text:PATH (or builtin:python-source), or "
            "choose cross_entropy",
            code=1,
        )
    steps = y.shape[1]
    top = int(y.max()) if y.size else 0
    if len(out) != 2 or out[0] != steps or top >= out[1]:
        raise DataError(
            f"{data.name}: a language model gives, at each of its {steps} steps, a score for every "
            f"token (up to id {top}), so the Output must receive {steps}x{top + 1} or wider, but "
            f"it receives {_shape_text(out)}; end the network with "
            f"Linear(out_features={top + 1}) applied to every step",
            code=1,
        )
    return y.astype(np.int64)


def _autoencoder_targets(data: DataSet, x: np.ndarray, io: NetworkIO) -> np.ndarray:
    if int(np.prod(io.output_shape or (1,))) != int(np.prod(io.input_shape)):
        raise DataError(
            f"{data.name}: the target is the input itself (dataset.target = input), so the Output must "
            f"give {_shape_text(io.input_shape)} values, but it receives {_shape_text(io.output_shape)}",
            code=1,
        )
    return x.astype(np.float32).reshape(len(x), *io.output_shape)
