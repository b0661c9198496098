"""What the network does inside while it learns: a fixed probe batch looked at every so often.

Runs on the worker thread. At fit start a few samples are fixed as the probe;
`capture` runs them through the network in eval mode under `torch.no_grad`,
with forward hooks registered only for that pass (training's own passes never
run a hook), and turns each layer's output into small numpy figures: a
histogram over bins fixed at the first look (so a histogram-over-time image
compares like with like), a feature-map grid or heatmap, the weight and
gradient norms, and the fraction of dead ReLU units. One look costs about one
small forward pass; the worker takes one at most every `interval` seconds.

Layers inside block uses are looked at too, keyed by their path through the
uses (``block1.conv1``, `engine/layer_paths.py`); the network's own layers
keep their node ids. A look covers at most `MAX_LAYERS` layers: every layer of
the network itself, then those inside blocks, shallowest first; `left_out`
says how many it skipped (a DenseNet's inner layers, not a ResNet's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from app.training.buffer import Probe
from engine.layer_paths import layer_paths, within
from engine.layers import layer_type

BINS = 32
SWATCH_BINS = 16
PROBE_SAMPLES = 32
MAX_MAPS = 16  # channels shown in a feature-map grid
HEAT_ROWS, HEAT_COLUMNS = 32, 64
MAX_LAYERS = 96  # layers one look covers (hooks, histograms, pictures, norms)


def probe_batch(
    data: Any, samples: int = PROBE_SAMPLES
) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """The first `samples` validation (else training) inputs and their class ids (None unless
    classifying), or None for streamed data."""
    for prefix in ("val", "train"):
        x = getattr(data, f"{prefix}_x", None)
        y = getattr(data, f"{prefix}_y", None)
        if isinstance(x, torch.Tensor) and len(x):
            labels = None
            if getattr(data, "classification", False) and isinstance(y, torch.Tensor):
                labels = y[:samples].clone()
            return x[:samples].clone(), labels
    return None


class ActivationProbe:
    """Looks inside `model` (a GraphModule: one submodule per node id, a block use's layers
    inside its own) on a fixed batch. `node_types` names the layers to look at, by path
    (`engine.layer_paths.layer_types`); at most `limit` of them."""

    def __init__(
        self,
        model: nn.Module,
        x: torch.Tensor,
        node_types: dict[str, str],
        labels: torch.Tensor | None = None,
        limit: int = MAX_LAYERS,
    ) -> None:
        self.model = model
        self.x = x
        self.labels = labels
        self.node_types = node_types
        found = {p.key: p.module for p in layer_paths(model) if p.key in node_types}
        if not found:  # not a compiled graph: its children by name, as they come
            found = {name: m for name, m in model.named_children() if name in node_types}
        keys, self.left_out = within(found, limit)
        self.layers = {key: found[key] for key in keys}
        self.rectifiers = {n for n, t in node_types.items() if _is_rectifier(t)}
        self.ranges: dict[str, tuple[float, float]] = {}

    def capture(self, step: int, epoch: float) -> Probe:
        outputs, final = self._outputs()
        probe = Probe(step, epoch, {}, {}, {}, {}, {}, {}, {}, left_out=self.left_out)
        if self.labels is not None and final is not None and final.dim() == 2:
            hits = final.argmax(dim=1).cpu() == self.labels
            probe.accuracy = float(hits.float().mean())
        for node_id, out in outputs.items():
            values = out.detach().float()
            if values.numel() == 0 or not torch.isfinite(values).all():
                continue
            self._histogram(probe, node_id, values)
            picture = feature_picture(values)
            if picture is not None:
                probe.pictures[node_id] = picture
            if node_id in self.rectifiers and values.dim() >= 2:
                active = (values > 0).reshape(len(values), -1).any(dim=0)
                probe.dead[node_id] = float(1.0 - active.float().mean())
        probe.weight_norms, probe.grad_norms = self._norms()
        return probe

    def _outputs(self) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        found: dict[str, torch.Tensor] = {}
        handles = []
        for node_id, module in self.layers.items():

            def keep(_m: nn.Module, _i: Any, out: Any, node_id: str = node_id) -> None:
                if isinstance(out, torch.Tensor):
                    found[node_id] = out
                elif isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
                    found[node_id] = out[0]

            handles.append(module.register_forward_hook(keep))
        was_training = self.model.training
        device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        try:
            self.model.eval()
            with torch.no_grad():
                final = self.model(self.x.to(device))
        finally:
            self.model.train(was_training)
            for handle in handles:
                handle.remove()
        input_id = getattr(self.model, "input_id", None)
        if isinstance(input_id, str):
            found.setdefault(input_id, self.x)
        kept = {k: v for k, v in found.items() if k in self.node_types}
        return kept, final if isinstance(final, torch.Tensor) else None

    def _histogram(self, probe: Probe, node_id: str, values: torch.Tensor) -> None:
        flat = values.flatten()
        if node_id not in self.ranges:
            self.ranges[node_id] = first_range(flat)
        low, high = self.ranges[node_id]
        counts = histogram(flat, low, high).cpu().numpy()
        counts = counts.astype(np.float32) / max(1, flat.numel())
        probe.histograms[node_id] = counts
        probe.ranges[node_id] = (low, high)
        swatch = counts.reshape(SWATCH_BINS, -1).sum(axis=1)
        probe.swatches[node_id] = np.sqrt(swatch / max(float(swatch.max()), 1e-12))

    def _norms(self) -> tuple[dict[str, float], dict[str, float]]:
        weights: dict[str, torch.Tensor] = {}
        grads: dict[str, torch.Tensor] = {}
        for node_id, module in self.layers.items():
            params = [p for p in module.parameters() if p.requires_grad]
            if not params:
                continue
            weights[node_id] = _norm(params)
            with_grad = [p.grad for p in params if p.grad is not None]
            if with_grad:
                grads[node_id] = _norm(with_grad)
        return _numbers(weights), _numbers(grads)


def _is_rectifier(type_name: str) -> bool:
    """A layer whose units can die (never active): ReLU and its kind."""
    layer = layer_type(type_name)
    return layer is not None and layer.rectifier


def histogram(flat: torch.Tensor, low: float, high: float, bins: int = BINS) -> torch.Tensor:
    """Counts in `bins` equal bins over [low, high], values outside in the end bins: what
    `torch.histc` of the clamped values gives, five times faster on a CPU (it runs on the
    training thread, inside the time training pays for a look)."""
    index = ((flat - low) * (bins / (high - low))).floor_().clamp_(0, bins - 1).long()
    return torch.bincount(index, minlength=bins)


def _norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The L2 norm of several tensors together, on their device."""
    return torch.sqrt(torch.stack([t.detach().float().pow(2).sum() for t in tensors]).sum())


def _numbers(tensors: dict[str, torch.Tensor]) -> dict[str, float]:
    """Many device scalars as floats with one transfer."""
    if not tensors:
        return {}
    values = torch.stack(list(tensors.values())).cpu().tolist()
    return dict(zip(tensors, values))


def first_range(flat: torch.Tensor) -> tuple[float, float]:
    """Bins for a layer, fixed at the first look: its central spread widened, so the values can
    grow as the network learns before they pile up in the end bins."""
    sample = flat[:: max(1, flat.numel() // 20000)]
    low, high = (float(v) for v in torch.quantile(sample, torch.tensor([0.005, 0.995])))
    centre, half = (low + high) / 2, max((high - low) / 2, 1e-3)
    low, high = centre - 2.5 * half, centre + 2.5 * half
    if float(flat.min()) >= 0.0:
        low = 0.0  # ReLU and friends: nothing below zero, ever
    return low, high


def feature_picture(values: torch.Tensor) -> tuple[str, np.ndarray] | None:
    """A 2-D picture of one layer's output on the probe: a grid of the first sample's feature
    maps (N, C, H, W), or a samples x units heatmap (N, F), or one sequence (N, L, F)."""
    if values.dim() == 4:
        maps = values[0, :MAX_MAPS]
        return "maps", map_grid(maps.cpu().numpy())
    if values.dim() == 2:
        return "heat", _scaled(values[:HEAT_ROWS, :HEAT_COLUMNS].cpu().numpy())
    if values.dim() == 3:
        return "heat", _scaled(values[0, :HEAT_ROWS, :HEAT_COLUMNS].cpu().numpy())
    return None


def map_grid(maps: np.ndarray) -> np.ndarray:
    """Channels (C, H, W) laid out in a near-square grid, each scaled to 0..1, NaN between."""
    count, height, width = maps.shape
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    grid = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan, np.float32)
    low = maps.min(axis=(1, 2), keepdims=True)  # each channel scaled on its own, all at once
    high = maps.max(axis=(1, 2), keepdims=True)
    scaled = ((maps - low) / np.where(high > low, high - low, 1.0)).astype(np.float32)
    for i in range(count):
        r, c = divmod(i, columns)
        grid[
            r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width
        ] = scaled[i]
    return grid


def _scaled(array: np.ndarray) -> np.ndarray:
    low, high = float(array.min()), float(array.max())
    return ((array - low) / (high - low if high > low else 1.0)).astype(np.float32)
