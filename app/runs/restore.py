"""Restoring a recorded run into the editor: its networks, settings, data and weights, one step.

The run's copy of the project replaces the open one's networks and its
training, dataset (and GAN recipe) sections through the Document, as one
macro on the undo stack; its best weights join that macro as one more
command, so Ctrl+Z puts back the previous network, settings and weights
together and Ctrl+Shift+Z brings the run back.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from designer.commands import Command
from engine.project import ProjectError, project_from_json
from engine.settings import MISSING

if TYPE_CHECKING:
    from app.training.weights_keeper import WeightsKeeper
    from designer.document import Document
    from engine.experiments.history import RunRecord

KEEPER_FIELDS = ("states", "trained", "labels", "epoch", "status", "scaling", "saved_to")


class RestoreError(ValueError):
    """A run that cannot be restored into the open project; the message says why."""


class KeepWeights(Command):
    """Put a run's weights into the window's keeper; undo puts the previous ones back."""

    def __init__(self, keeper: WeightsKeeper, document: Document, weights: dict[str, Any]) -> None:
        super().__init__("Keep the run's weights")
        self.keeper = keeper
        self.document = document
        self.new = weights
        self.old = {name: getattr(keeper, name) for name in KEEPER_FIELDS}
        self.old_scaling = copy.deepcopy(document.project.dataset.get("scaling_statistics"))

    def redo(self) -> None:
        self._put(self.new, self.new.get("scaling"))

    def undo(self) -> None:
        self._put(self.old, self.old_scaling)

    def _put(self, fields: dict[str, Any], scaling: Any) -> None:
        for name in KEEPER_FIELDS:
            setattr(self.keeper, name, fields.get(name))
        dataset = self.document.project.dataset
        if scaling is None:
            dataset.pop("scaling_statistics", None)
        else:
            dataset["scaling_statistics"] = copy.deepcopy(scaling)


def restore_run(document: Document, keeper: WeightsKeeper | None, run: RunRecord) -> bool:
    """Restore `run` as one undo step; raises RestoreError when it does not fit the project."""
    try:
        recorded = project_from_json(run.project_json, f"run {run.name}")
    except ProjectError as error:
        raise RestoreError(str(error)) from None
    graphs = recorded.named_graphs()
    if set(graphs) != set(document.project.named_graphs()):
        raise RestoreError(
            f"{run.name} trained {', '.join(graphs)}; the open project has "
            f"{', '.join(document.project.named_graphs())}: open the project it belongs to"
        )
    values = _section_values("training", document.project.training, recorded.training)
    dataset = {k: v for k, v in recorded.dataset.items() if k != "scaling_statistics"}
    current = {k: v for k, v in document.project.dataset.items() if k != "scaling_statistics"}
    values.update(_section_values("dataset", current, dataset))
    if recorded.is_multi_network:
        values.update(
            _section_values("recipe", document.project.recipe or {}, recorded.recipe or {})
        )
    extra = []
    if keeper is not None and run.weights is not None:
        weights = _weights(run, graphs)
        if weights is not None:
            extra.append(KeepWeights(keeper, document, weights))
    return document.replace_contents(graphs, values, f"Restore {run.name}", extra)


def _section_values(
    section: str, current: dict[str, Any], wanted: dict[str, Any]
) -> dict[str, Any]:
    """Paths and values that turn `current` into `wanted` (MISSING removes a key)."""
    values: dict[str, Any] = {f"{section}.{k}": copy.deepcopy(v) for k, v in wanted.items()}
    for key in current:
        if key not in wanted:
            values[f"{section}.{key}"] = MISSING
    return values


def _weights(run: RunRecord, graphs: dict[str, Any]) -> dict[str, Any] | None:
    """The run's best weights, as the keeper holds them (None when they do not load)."""
    from app.training.weights_keeper import labels, structure
    from engine.compiler import CompileError, compile_graph
    from engine.training.checkpoints import checkpoint_metadata, checkpoint_scaling, load_networks
    from engine.weights import WeightsError

    assert run.weights is not None
    try:
        networks = {name: compile_graph(graph) for name, graph in graphs.items()}
        load_networks(networks, run.weights)
        metadata = checkpoint_metadata(run.weights)
        scaling = checkpoint_scaling(run.weights)
    except (CompileError, WeightsError, OSError, RuntimeError, ValueError):
        return None
    epoch = metadata.get("netwright.epoch")
    return {
        "states": {
            name: {k: v.detach().clone() for k, v in network.state_dict().items()}
            for name, network in networks.items()
        },
        "trained": structure(graphs),
        "labels": labels(graphs),
        "epoch": int(epoch) if epoch and epoch.isdigit() else None,
        "status": run.status,
        "scaling": scaling,
        "saved_to": None,
    }
