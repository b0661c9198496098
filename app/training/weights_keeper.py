"""The trained weights, kept with the open project until they are saved beside it.

After a run the weights live here (on the CPU). Saving the project writes them
to ``NAME.safetensors`` beside the project file; "Save Weights As…" writes them
anywhere. They are only written into a network they fit: if the graph was
changed after training, saving says so instead of writing weights that no
longer match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.compiler import CompileError, compile_graph
from engine.graph import Graph
from engine.training import save_checkpoint


def structure(graph: Graph) -> tuple[Any, ...]:
    """What decides the weights' shapes: layers, their parameters and wires (not positions)."""
    nodes = tuple(sorted((n.id, n.type, repr(sorted(n.params.items()))) for n in graph))
    edges = tuple(sorted(str(e.to_json()) for e in graph.edges))
    return nodes, edges


class WeightsKeeper:
    def __init__(self, document: Any, log: Any) -> None:
        self.document = document
        self.log = log
        self.state: dict[str, Any] | None = None
        self.trained: tuple[Any, ...] = ()
        self.epoch: int | None = None
        self.status = ""
        self.scaling: dict[str, Any] | None = None
        self.saved_to: Path | None = None

    @property
    def has_weights(self) -> bool:
        return self.state is not None

    def keep(self, outcome: Any) -> None:
        result = outcome.result
        if not result.history:
            return  # stopped before one epoch finished: nothing learnt worth keeping
        self.state = outcome.state
        self.trained = structure(outcome.project.graph)
        self.epoch = result.best_epoch or result.history[-1]["epoch"]
        self.status = result.status
        self.scaling = outcome.project.dataset.get("scaling_statistics")
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
        self.state = None
        self.saved_to = None

    def fits(self) -> bool:
        return self.state is not None and structure(self.document.project.graph) == self.trained

    def save(self, path: Path) -> bool:
        """Write the weights to `path`; False (and a log line) when they no longer fit."""
        if self.state is None:
            return False
        if not self.fits():
            self.log.say(
                "The weights were not saved: the network changed after training. Train again.",
                "warning",
            )
            return False
        try:
            module = compile_graph(self.document.project.graph)  # a GAN's generator
            module.load_state_dict(self.state)
            save_checkpoint(
                module,
                path,
                project=self.document.project.name,
                epoch=self.epoch,
                status=self.status,
                scaling=self.scaling,
            )
        except (CompileError, OSError, RuntimeError, ValueError) as error:
            self.log.say(f"Cannot save the weights to {path}: {error}", "error")
            return False
        self.saved_to = path
        self.log.say(f"Saved the weights to {path}")
        return True

    def project_saved(self, path: Path) -> None:
        """File > Save wrote the project to `path`: write the weights beside it."""
        where = self.document.project.weights_path(Path(path))
        if self.state is not None and where is not None and self.saved_to != where:
            self.save(where)
