"""Data for training: bundled data sets, user files, scaling, splitting and batching.

The usual path is `load_training_data(project, settings, analysis)`, which
reads the project's dataset spec, loads it, fits it to the network's Input and
Output, splits and scales it, and returns `PreparedData`; `PreparedData.batches`
then gives the in-memory batches the Trainer consumes.

Names load on first use (PEP 562), so `netwright check` and `netwright
datasets` can check specs and list data sets without importing numpy or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "InMemoryBatches": "batches",
    "BUILTINS": "builtin",
    "Builtin": "builtin",
    "load_builtin": "builtin",
    "DataError": "dataset",
    "DataSet": "dataset",
    "load_training_data": "loading",
    "NetworkIO": "prepare",
    "PreparedData": "prepare",
    "network_io": "prepare",
    "prepare_data": "prepare",
    "split_indices": "prepare",
    "apply_scaling": "scaling",
    "fit_scaling": "scaling",
    "scaling_affine": "scaling",
    "StreamedData": "streaming",
    "LoaderBatches": "streaming",
    "DataSpec": "spec",
    "dataset_problems": "spec",
    "load_spec": "spec",
    "parse_spec": "spec",
    "project_spec": "spec",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'engine.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.data.{_WHERE[name]}"), name)
