"""Checkpoints: the module's weights in safetensors (atomic, never pickle) plus what they came from.

The metadata records the project, the epoch, how the run ended and the fitted
feature scaling (JSON), so an exported model or an inference script can scale
its inputs exactly as training did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import safe_open
from torch import nn

from engine.weights import WeightsError, load_weights, save_weights

SCALING_KEY = "netwright.scaling"


def save_checkpoint(
    module: nn.Module,
    path: str | Path,
    *,
    project: str = "",
    epoch: int | None = None,
    status: str = "",
    scaling: dict[str, Any] | None = None,
) -> Path:
    metadata = {"netwright.project": project, "netwright.status": status}
    if epoch is not None:
        metadata["netwright.epoch"] = str(epoch)
    if scaling is not None:
        metadata[SCALING_KEY] = json.dumps(scaling)
    return save_weights(module, path, metadata)


def checkpoint_metadata(path: str | Path) -> dict[str, str]:
    """The text metadata of a weights file (empty when it has none)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except Exception as error:  # safetensors raises several kinds for a bad file
        raise WeightsError(f"{path}: not a readable safetensors weights file ({error})") from None


def checkpoint_scaling(path: str | Path) -> dict[str, Any] | None:
    """The feature scaling a checkpoint was trained with, or None."""
    text = checkpoint_metadata(path).get(SCALING_KEY)
    return json.loads(text) if text else None


def load_checkpoint(module: nn.Module, path: str | Path) -> dict[str, str]:
    """Load weights into `module` (refusing ones that do not fit); returns the metadata."""
    load_weights(module, path)
    return checkpoint_metadata(path)
