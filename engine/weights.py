"""Weights on disk: safetensors only (never pickle), written atomically.

The keys are the compiled module's `state_dict` keys (``conv1.weight``), which
are also the keys of the exported Python module, so one file serves resuming,
export and `load_state_dict` in hand-written code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from engine.atomic import WriteError, atomic_write_with
from engine.weights_follow import follow, module_labels

LABELS_KEY = "netwright.layers"  # each layer's label (engine/weights_follow.py), as JSON


class WeightsError(ValueError):
    """A weights file that cannot be used; the message names the file and the fix."""


def save_weights(
    module: nn.Module, path: str | Path, metadata: dict[str, str] | None = None
) -> Path:
    """Write the module's state (parameters and buffers) to `path` atomically."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    metadata = dict(metadata or {})
    labels = module_labels(module)
    if labels:  # so the weights can follow their layers into a regrouped network
        metadata[LABELS_KEY] = json.dumps(labels, separators=(",", ":"))
    try:
        atomic_write_with(path, lambda temp: save_file(state, str(temp), metadata=metadata))
    except SafetensorError as error:  # its I/O failures (disk full, file too large) come as this
        found = re.search(r'message: "([^"]+)"|I/O error: (.+?) \(os error \d+\)', str(error))
        cause = next((g for g in found.groups() if g), "") if found else str(error)
        raise WriteError(f"{path}: cannot be written ({cause})") from None
    return path


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise WeightsError(f"{path}: not a readable safetensors weights file ({error})") from None


def load_weights(module: nn.Module, path: str | Path, network: str | None = None) -> None:
    """Load weights into `module`, refusing (with the mismatches named) anything that does not
    fit. `network`: the file holds several networks' weights (``generator.fc1.weight``) and
    `module` is that one of them."""
    state = read_weights(path)
    start = f"{network}." if network is not None else ""
    if start and any(key.startswith(start) for key in state):
        state = {k[len(start) :]: v for k, v in state.items() if k.startswith(start)}
    expected = module.state_dict()
    if set(state) != set(expected):  # regrouped since they were saved? they follow the layers
        state = _followed(state, Path(path), start, module)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:5]))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:5]))
        if wrong:
            parts.append(
                "different shape for "
                + ", ".join(
                    f"{k} ({tuple(state[k].shape)} vs {tuple(expected[k].shape)})"
                    for k in wrong[:5]
                )
            )
        raise WeightsError(
            f"{path}: these weights do not fit the network ({'; '.join(parts)}); "
            "they were saved for a different graph. Retrain, or delete the weights file."
        )
    module.load_state_dict(state)


def _followed(
    state: dict[str, torch.Tensor], path: Path, start: str, module: nn.Module
) -> dict[str, torch.Tensor]:
    """`state` under the names `module` gives the same layers, when the file labels its layers
    and only the grouping differs; else `state` as it was (the caller names the mismatch)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            text = (handle.metadata() or {}).get(LABELS_KEY)
        saved = json.loads(text) if text else None
    except (SafetensorError, OSError, ValueError, RecursionError):
        return state
    if not isinstance(saved, dict) or not all(isinstance(v, str) for v in saved.values()):
        return state  # not labels this version wrote: the mismatch is reported as it is
    if start:  # one network of several: its own layers, named as within it
        saved = {
            k[len(start) :]: str(v).split(":", 1)[-1]
            for k, v in saved.items()
            if k.startswith(start)
        }
    moved = follow(state, saved, module_labels(module))
    return state if moved is None else moved
