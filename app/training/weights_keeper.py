"""The trained weights, kept with the open project until they are saved beside it.

After a run every network's weights live here (on the CPU). Saving the
project writes them to ``NAME.safetensors`` beside the project file (one file,
whatever the project holds: a GAN's keys are prefixed with each network's
name); "Save Weights As…" writes them anywhere. They are only written into
networks they fit: if a graph was changed after training, saving says so
instead of writing weights that no longer match. A network only regrouped
(layers into blocks and back) keeps them: they follow their layers' new names.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from engine.graph import Graph
from engine.weights_follow import follow, network_labels


def labels(graphs: dict[str, Graph]) -> dict[str, dict[str, str]]:
    """Each network's layer labels, which let its weights follow a regrouping (none for a
    network that does not compile: its weights cannot be used anyway)."""
    return {name: network_labels(graph) for name, graph in graphs.items()}


def structure(graphs: dict[str, Graph]) -> tuple[Any, ...]:
    """What decides the weights' names and shapes: each network's layers, their parameters
    and wires, and the block definitions they use."""
    blocks = next(iter(graphs.values())).blocks if graphs else {}
    return tuple((name, _layers(graph)) for name, graph in graphs.items()) + tuple(
        (f"block {name}", _layers(definition)) for name, definition in sorted(blocks.items())
    )


def _layers(graph: Graph) -> tuple[Any, ...]:
    return (
        tuple(sorted((n.id, n.type, repr(sorted(n.params.items()))) for n in graph)),
        tuple(sorted(str(e.to_json()) for e in graph.edges)),
    )


class WeightsKeeper:
    def __init__(self, document: Any, log: Any) -> None:
        self.document = document
        self.log = log
        self.states: dict[str, dict[str, Any]] | None = None  # by network name
        self.trained: tuple[Any, ...] = ()
        self.labels: dict[str, dict[str, str]] = {}  # by network: engine.weights_follow
        # the weights last refused and the structure they did not fit (kept, not their id)
        self._refused: tuple[Any, Any] = (None, None)
        self._lock = threading.RLock()
        self.epoch: int | None = None
        self.status = ""
        self.scaling: dict[str, Any] | None = None
        self.tokenizer: Any = None  # text: how the network reads it (saved with the weights)
        self.saved_to: Path | None = None

    @property
    def has_weights(self) -> bool:
        return self.states is not None

    @property
    def state(self) -> dict[str, Any] | None:
        """The main network's weights (a GAN's generator: what export writes)."""
        return next(iter(self.states.values())) if self.states else None

    def keep(self, outcome: Any) -> None:
        result = outcome.result
        if not result.history:
            return  # stopped before one epoch finished: nothing learnt worth keeping
        self.states = dict(outcome.states)
        self.trained = structure(outcome.project.named_graphs())
        self.labels = labels(outcome.project.named_graphs())
        self.epoch = result.best_epoch or result.history[-1]["epoch"]
        self.status = result.status
        self.scaling = outcome.project.dataset.get("scaling_statistics")
        self.tokenizer = outcome.tokenizer
        self.saved_to = None
        dataset = self.document.project.dataset
        if self.scaling is not None:  # inputs must be scaled as in training: save it with them
            dataset["scaling_statistics"] = self.scaling
        where = self.document.project.weights_path()
        self.log.say(
            "The trained weights are kept with the project; File > Save writes them to "
            + (str(where) if where else "NAME.safetensors beside the project")
        )

    def forget(self) -> None:
        self.states = None
        self.saved_to = None

    def fits(self) -> bool:
        """Whether the weights fit the networks as they are now. Regrouped since training
        (layers into blocks and back), they follow their layers to the new names. Asked from
        the UI thread and a job's (text generation): one at a time."""
        with self._lock:
            if self.states is None:
                return False
            graphs = self.document.project.named_graphs()
            now = structure(graphs)
            if now == self.trained:
                return True
            refused_states, refused = self._refused
            if refused_states is self.states and refused == now:
                return False  # asked again and again (the Inside tab): refused once
            now_labels = labels(graphs)
            moved = {}
            for name, state in self.states.items():
                found = follow(state, self.labels.get(name, {}), now_labels.get(name, {}))
                if found is None:
                    self._refused = (self.states, now)
                    return False
                moved[name] = found
            self.states, self.trained, self.labels = moved, now, now_labels
            self.saved_to = None  # the file beside the project has the old names
            return True

    def save(self, path: Path) -> bool:
        """Write the weights to `path`; False (and a log line) when they no longer fit."""
        if self.states is None:
            return False
        if not self.fits():
            self.log.say(
                "The weights were not saved: the network changed after training. Train again.",
                "warning",
            )
            return False
        from engine.compiler import CompileError, compile_graph
        from engine.training import save_networks

        project = self.document.project
        try:
            networks = {}
            for name, graph in project.named_graphs().items():
                networks[name] = compile_graph(graph)
                networks[name].load_state_dict(self.states[name])
            save_networks(
                networks,
                path,
                project=project.name,
                epoch=self.epoch,
                status=self.status,
                scaling=self.scaling,
                tokenizer=self.tokenizer,
            )
        except (CompileError, OSError, RuntimeError, ValueError, KeyError) as error:
            self.log.say(f"Cannot save the weights to {path}: {error}", "error")
            return False
        self.saved_to = path
        self.log.say(f"Saved the weights to {path}")
        return True

    def project_saved(self, path: Path) -> None:
        """File > Save wrote the project to `path`: write the weights beside it."""
        where = self.document.project.weights_path(Path(path))
        if self.states is not None and where is not None and self.saved_to != where:
            self.save(where)
