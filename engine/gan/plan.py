"""From a GAN project to a ready-to-run adversarial training job: checks, real data, both networks.

The CLI and the GUI both start here (as `plan_training` for one network), so
both refuse the same mistakes with the same messages. The real data is fitted
to the discriminator's Input and scaled as ``dataset.scaling`` says; a GAN's
default is ``symmetric`` (the data's range onto -1..1, a Tanh generator's
range). Labels, when the data has them, are not used.

Weights: one safetensors file per network, ``NAME.generator.safetensors`` and
``NAME.discriminator.safetensors`` (see `network_weights`), so the generator's
file loads straight into the exported generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.analysis import Analysis
from engine.compiler import GraphModule, compile_graph
from engine.data.batches import InMemoryBatches
from engine.data.dataset import DataError
from engine.data.prepare import network_io
from engine.data.scaling import apply_scaling, fit_scaling
from engine.data.spec import DataSpec, load_spec, project_spec
from engine.gan.quality import Modes, SampleQuality
from engine.gan.trainer import GanTrainer
from engine.problems import project_problems
from engine.project import Project
from engine.recipes import GAN_NETWORKS, GanRecipe
from engine.settings import TrainingSettings
from engine.training.callbacks import Callback
from engine.training.checkpoints import load_checkpoint, save_checkpoint
from engine.training.devices import select_device
from engine.training.plan import PlanError, refuse_problems
from engine.training.trainer import FitResult

DEFAULT_SCALING = "symmetric"
SUFFIX = ".safetensors"


def network_weights(base: Path, names: Sequence[str] = GAN_NETWORKS) -> dict[str, Path]:
    """Each network's weights file for a run whose weights go to `base` (``NAME.safetensors``):
    ``NAME.generator.safetensors``, ``NAME.discriminator.safetensors``."""
    stem = base.name[: -len(SUFFIX)] if base.name.endswith(SUFFIX) else base.name
    return {name: base.with_name(f"{stem}.{name}{SUFFIX}") for name in names}


@dataclass
class GanPlan:
    project: Project
    settings: TrainingSettings
    recipe: GanRecipe
    analyses: dict[str, Analysis]
    generator: GraphModule
    discriminator: GraphModule
    real: torch.Tensor  # every real sample, scaled, (N, *discriminator input shape), on the CPU
    scaling: dict[str, Any] | None
    source: str
    device: torch.device
    quality: SampleQuality

    def trainer(
        self,
        callbacks: Sequence[Callback] = (),
        reserve_core_for_ui: bool = False,
        refresh_every: int = 0,
    ) -> GanTrainer:
        macs = sum(a.total_macs for a in self.analyses.values())
        return GanTrainer(
            self.generator,
            self.discriminator,
            self.recipe,
            self.settings,
            callbacks=callbacks,
            device=self.device,
            quality=self.quality,
            macs_per_sample=2 * macs,
            reserve_core_for_ui=reserve_core_for_ui,
            refresh_every=refresh_every,
        )

    def batches(self) -> InMemoryBatches:
        """Shuffled batches of real samples (the targets are unused zeros)."""
        return InMemoryBatches(
            self.real,
            torch.zeros(len(self.real), dtype=torch.int64),
            self.settings.batch_size,
            device=self.device,
            shuffle=True,
            seed=self.settings.seed,
        )

    def start_info(self) -> dict[str, Any]:
        """Facts for the metrics stream's start event."""
        g = sum(p.numel() for p in self.generator.parameters())
        d = sum(p.numel() for p in self.discriminator.parameters())
        return {
            "recipe": "gan",
            "loss": self.recipe.loss,
            "latent_size": self.recipe.latent_size,
            "d_steps": self.recipe.d_steps,
            "parameters": g + d,
            "generator_parameters": g,
            "discriminator_parameters": d,
            "train_samples": len(self.real),
            "val_samples": 0,
            "dataset": self.source,
        }

    def run(self, callbacks: Sequence[Callback] = ()) -> tuple[GanTrainer, FitResult]:
        trainer = self.trainer(callbacks)
        return trainer, trainer.fit(self.batches())

    def save(self, base: Path, result: FitResult) -> dict[str, Path]:
        """Write both networks' weights beside `base` (see `network_weights`), each atomically."""
        paths = network_weights(base)
        epoch = result.final.get("epoch")
        for name, module in (("generator", self.generator), ("discriminator", self.discriminator)):
            save_checkpoint(
                module,
                paths[name],
                project=self.project.name,
                epoch=epoch,
                status=result.status,
                scaling=self.scaling,
            )
        return paths


def plan_gan(
    project: Project,
    settings: TrainingSettings | None = None,
    *,
    recipe: GanRecipe | None = None,
    dataset: str | None = None,
    weights: Path | None = None,
) -> GanPlan:
    """Check everything, load the real data and compile both networks; raises PlanError or
    DataError. `weights` (a ``NAME.safetensors`` base) resumes from both networks' files."""
    report = project_problems(project)
    refuse_problems(report, dataset)
    settings = settings or TrainingSettings.from_project(project)
    recipe = recipe or GanRecipe.from_project(project)
    try:
        device = select_device(settings.device)
    except ValueError as error:
        raise PlanError(str(error), 2) from None
    analyses = report.analyses
    graph = project.networks["discriminator"]
    io = network_io(analyses["discriminator"])
    if io.tokens:
        raise PlanError(
            f"the discriminator's Input '{io.input_id}' reads token ids (int64); a generator "
            "cannot make those differentiably. Set its dtype to float32",
            1,
        )
    spec = project_spec(project, dataset)
    x = _real_samples(spec, io.input_shape, io.input_id)
    method = project.dataset.get("scaling", DEFAULT_SCALING)
    stats = fit_scaling(method, x)
    x = apply_scaling(x, stats)
    real = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    modes = _known_modes(spec, io.input_shape, stats)
    seed = settings.seed
    generator = compile_graph(project.networks["generator"], seed, analyses["generator"])
    discriminator = compile_graph(graph, seed + 1, analyses["discriminator"])
    if weights is not None:
        for name, path in network_weights(weights).items():
            load_checkpoint(generator if name == "generator" else discriminator, path)
    if stats is not None:
        project.dataset["scaling_statistics"] = stats
    else:
        project.dataset.pop("scaling_statistics", None)
    return GanPlan(
        project,
        settings,
        recipe,
        analyses,
        generator,
        discriminator,
        real,
        stats,
        str(spec),
        device,
        SampleQuality(real, modes),
    )


def with_optimizer_overrides(
    recipe: GanRecipe, lr: float | None = None, name: str | None = None
) -> GanRecipe:
    """The recipe with a command-line learning rate or optimizer applied to both networks."""
    changes: dict[str, Any] = {}
    if lr is not None:
        changes["lr"] = lr
    if name is not None:
        changes["name"] = name
    if not changes:
        return recipe
    return replace(
        recipe,
        generator_optimizer=replace(recipe.generator_optimizer, **changes),
        discriminator_optimizer=replace(recipe.discriminator_optimizer, **changes),
    )


def _real_samples(spec: DataSpec, shape: tuple[int, ...], input_id: str) -> np.ndarray:
    data = load_spec(spec, input_shape=shape, classification=False, need_targets=False)
    wanted, have = int(np.prod(shape)), int(np.prod(data.sample_shape))
    if have != wanted:
        raise DataError(
            f"{data.name}: each sample holds {have} values ({_text(data.sample_shape)}), but the "
            f"discriminator's Input '{input_id}' takes {_text(shape)} = {wanted}; set that Input "
            f"(and the generator's output) to {_text(data.sample_shape)}, or choose data that fits",
            code=1,
        )
    if data.is_tokens:
        raise DataError(f"{data.name}: the samples are token ids; a GAN needs real numbers", code=1)
    return data.x.reshape(len(data.x), *shape).astype(np.float32)


def _known_modes(
    spec: DataSpec, shape: tuple[int, ...], stats: dict[str, Any] | None
) -> Modes | None:
    """The ring's modes in the networks' space, when the data is the bundled ring."""
    if spec.kind != "builtin" or spec.name != "ring" or shape != (2,):
        return None
    from engine.data.synthetic import RING_STD, ring_centres

    centres = apply_scaling(ring_centres(), stats).astype(np.float64)
    scale = float(np.mean(stats["scale"])) if stats is not None else 1.0
    return Modes(centres, 3 * RING_STD / scale)


def _text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "a single value"
