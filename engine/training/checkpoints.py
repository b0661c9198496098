"""Checkpoints: the module's weights in safetensors (atomic, never pickle) plus what they came from.

The metadata records the project, the epoch, how the run ended and the fitted
feature scaling (JSON), so an exported model or an inference script can scale
its inputs exactly as training did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import safe_open
from torch import nn

from engine.training.callbacks import Callback
from engine.weights import WeightsError, load_weights, save_weights

if TYPE_CHECKING:
    from engine.text.tokenizers import Tokenizer
    from engine.training.trainer import Trainer

SCALING_KEY = "netwright.scaling"
TOKENIZER_KEY = "netwright.tokenizer"


def save_checkpoint(
    module: nn.Module,
    path: str | Path,
    *,
    project: str = "",
    epoch: int | None = None,
    status: str = "",
    scaling: dict[str, Any] | None = None,
    tokenizer: Tokenizer | None = None,
) -> Path:
    """`tokenizer`: how the text a language model or text classifier reads became token ids;
    generation and resumed training read it back (`checkpoint_tokenizer`)."""
    metadata = {"netwright.project": project, "netwright.status": status}
    if epoch is not None:
        metadata["netwright.epoch"] = str(epoch)
    if scaling is not None:
        metadata[SCALING_KEY] = json.dumps(scaling)
    if tokenizer is not None:
        metadata[TOKENIZER_KEY] = json.dumps(tokenizer.to_json())
    return save_weights(module, path, metadata)


def networks_module(networks: Mapping[str, nn.Module]) -> nn.Module:
    """What one weights file holds: a single network as itself (keys ``conv1.weight``), several
    under their names (``generator.fc1.weight``, ``discriminator.fc1.weight``)."""
    if len(networks) == 1:
        return next(iter(networks.values()))
    return nn.ModuleDict(dict(networks))


def save_networks(networks: Mapping[str, nn.Module], path: str | Path, **facts: Any) -> Path:
    """Every network's weights in one file, atomically (`facts` as for `save_checkpoint`)."""
    return save_checkpoint(networks_module(networks), path, **facts)


def load_networks(networks: Mapping[str, nn.Module], path: str | Path) -> dict[str, str]:
    """Load a run's weights into its networks (refusing ones that do not fit); returns the
    metadata. Several networks also load from the one file per network older versions wrote
    (``NAME.generator.safetensors``) when `path` itself is not there."""
    path = Path(path)
    if len(networks) > 1 and not path.is_file():
        legacy = {name: network_file(path, name) for name in networks}
        if all(p.is_file() for p in legacy.values()):
            for name, network in networks.items():
                load_weights(network, legacy[name])
            return checkpoint_metadata(legacy[next(iter(networks))])
    return load_checkpoint(networks_module(networks), path)


def network_file(path: Path, network: str) -> Path:
    """``NAME.safetensors`` -> ``NAME.generator.safetensors``: where versions before one file per
    run kept each network's weights."""
    stem = path.name[: -len(".safetensors")] if path.name.endswith(".safetensors") else path.name
    return path.with_name(f"{stem}.{network}.safetensors")


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


def checkpoint_tokenizer(path: str | Path) -> Tokenizer | None:
    """The tokenizer a checkpoint's network reads text with, or None (not text, or absent)."""
    if not Path(path).is_file():
        return None
    text = checkpoint_metadata(path).get(TOKENIZER_KEY)
    if not text:
        return None
    from engine.text.tokenizers import tokenizer_from_json

    return tokenizer_from_json(text)


def load_checkpoint(module: nn.Module, path: str | Path) -> dict[str, str]:
    """Load weights into `module` (refusing ones that do not fit); returns the metadata."""
    load_weights(module, path)
    return checkpoint_metadata(path)


class CheckpointEachEpoch(Callback):
    """Saves the weights after every epoch (or only epochs that improve the monitored metric),
    atomically, so a crash or a kill mid-run leaves the last saved weights whole."""

    def __init__(
        self,
        path: str | Path,
        *,
        only_improved: bool = True,
        project: str = "",
        scaling: dict[str, Any] | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.path = Path(path)
        self.only_improved = only_improved
        self.project = project
        self.scaling = scaling
        self.tokenizer = tokenizer
        self.best: float | None = None
        self.saved_epochs: list[int] = []

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        value = metrics.get("val_loss", metrics.get("train_loss"))
        if self.only_improved and value is not None:
            if self.best is not None and not value < self.best:
                return
            self.best = value
        save_checkpoint(
            trainer.model,
            self.path,
            project=self.project,
            epoch=epoch,
            status="running",
            scaling=self.scaling,
            tokenizer=self.tokenizer,
        )
        self.saved_epochs.append(epoch)
