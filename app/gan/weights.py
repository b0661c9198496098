"""The discriminator's trained weights, saved beside a GAN project with the generator's.

The training controller's WeightsKeeper keeps the generator's weights (the
network users export) and writes ``NAME.generator.safetensors`` when the
project is saved; this keeps the discriminator's and writes
``NAME.discriminator.safetensors`` beside it, the pair `netwright train
--resume` reads. Like the generator's, they are written only while they still
fit the discriminator as drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.training.weights_keeper import structure
from engine.compiler import CompileError, compile_graph
from engine.training import save_checkpoint

NETWORK = "discriminator"


class GanWeights:
    def __init__(self, window: Any, log: Any) -> None:
        self.window = window
        self.log = log
        self.state: dict[str, Any] | None = None
        self.trained: tuple[Any, ...] = ()
        self.epoch: int | None = None
        self.status = ""
        saved = getattr(window, "project_saved", None)
        if saved is not None:
            saved.connect(self.project_saved)

    def keep(self, outcome: Any) -> None:
        result = outcome.result
        state = getattr(outcome, "discriminator_state", None)
        graph = outcome.project.networks.get(NETWORK)
        if not result.history or not state or graph is None:
            return
        self.state = state
        self.trained = structure(graph)
        self.epoch = result.history[-1]["epoch"]
        self.status = result.status

    def forget(self) -> None:
        self.state = None

    def fits(self) -> bool:
        graph = self.window.document.project.networks.get(NETWORK)
        return self.state is not None and graph is not None and structure(graph) == self.trained

    def project_saved(self, path: Path) -> None:
        project = self.window.document.project
        where = project.weights_path(Path(path), NETWORK)
        if self.state is None or where is None or not project.is_multi_network:
            return
        if not self.fits():
            self.log.say(
                "The discriminator's weights were not saved: it changed after training.", "warning"
            )
            return
        try:
            module = compile_graph(project.networks[NETWORK])
            module.load_state_dict(self.state)
            save_checkpoint(
                module,
                where,
                project=project.name,
                epoch=self.epoch,
                status=self.status,
                scaling=project.dataset.get("scaling_statistics"),
            )
        except (CompileError, OSError, RuntimeError, ValueError) as error:
            self.log.say(f"Cannot save the discriminator's weights to {where}: {error}", "error")
            return
        self.log.say(f"Saved the discriminator's weights to {where}")
