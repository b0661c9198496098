"""A GAN project's part of the one training plan: the real samples and the GAN step.

`engine.training.plan.plan_training` checks the project, picks the device and
asks here for a GAN's step and data. The real data is fitted to the
discriminator's Input and scaled as ``dataset.scaling`` says; a GAN's default
is ``symmetric`` (the data's range onto -1..1, a Tanh generator's range).
Labels, when the data has them, are not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.analysis import Analysis
from engine.compiler import GraphModule, compile_graph
from engine.data.batches import InMemoryBatches
from engine.data.dataset import DataError, DataSet
from engine.data.prepare import network_io
from engine.data.scaling import apply_scaling, fit_scaling
from engine.data.spec import DataSpec, load_spec, project_spec
from engine.gan.quality import Modes, SampleQuality
from engine.gan.step import GanStep
from engine.project import Project
from engine.recipes import GanRecipe
from engine.settings import TrainingSettings
from engine.training.errors import PlanError

DEFAULT_SCALING = "symmetric"
REFRESH_EVERY = 4  # generator steps between refreshes of the live samples, when watched


@dataclass
class RealSamples:
    """The real data a GAN learns from: every sample, scaled, on the CPU."""

    real: torch.Tensor  # (N, *discriminator input shape)
    source: str
    scaling: dict[str, Any] | None
    classification: bool = False  # labels, when the data has them, are not used
    class_names: tuple[str, ...] | None = None

    @property
    def train_samples(self) -> int:
        return len(self.real)

    @property
    def val_samples(self) -> int:
        return 0

    def batches(
        self,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[InMemoryBatches, None]:
        """Shuffled batches of real samples (the targets are unused zeros); no validation."""
        train = InMemoryBatches(
            self.real,
            torch.zeros(len(self.real), dtype=torch.int64),
            batch_size,
            device=device,
            shuffle=True,
            seed=seed,
        )
        return train, None


def gan_parts(
    project: Project,
    settings: TrainingSettings,
    analyses: dict[str, Analysis],
    dataset: str | None,
    watched: bool,
) -> tuple[GanStep, dict[str, GraphModule], RealSamples]:
    """The step, both compiled networks and the real data; raises PlanError or DataError.
    `watched`: someone looks at the samples live, so they are refreshed more often."""
    recipe = GanRecipe.from_project(project)
    io = network_io(analyses["discriminator"])
    if io.tokens:
        raise PlanError(
            f"the discriminator's Input '{io.input_id}' reads token ids (int64); a generator "
            "cannot make those differentiably. Set its dtype to float32",
            1,
        )
    spec = project_spec(project, dataset)
    x = _real_samples(spec, io.input_shape, io.input_id)
    stats = fit_scaling(project.dataset.get("scaling", DEFAULT_SCALING), x)
    x = apply_scaling(x, stats)
    real = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    seed = settings.seed
    networks = {
        "generator": compile_graph(project.networks["generator"], seed, analyses["generator"]),
        "discriminator": compile_graph(
            project.networks["discriminator"], seed + 1, analyses["discriminator"]
        ),
    }
    step = GanStep(
        networks["generator"],
        networks["discriminator"],
        recipe,
        seed=seed,
        quality=SampleQuality(real, _known_modes(spec, io.input_shape, stats)),
        refresh_every=REFRESH_EVERY if watched else 0,
    )
    return step, networks, RealSamples(real, str(spec), stats)


def _real_samples(spec: DataSpec, shape: tuple[int, ...], input_id: str) -> np.ndarray:
    data = load_spec(spec, input_shape=shape, classification=False, need_targets=False)
    if not isinstance(data, DataSet):
        raise DataError(f"{data.name}: text; a GAN here learns to make numbers, not text", code=1)
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
