"""GANs: a generator and a discriminator trained together by the project's recipe.

No Qt here. The CLI (`netwright train` on a GAN project) and the GUI both use
`plan_gan` to go from a project to a `GanPlan`, then run a `GanTrainer` with
their own callbacks; `GanTrainer.samples()` gives the live sample grid.
"""

from __future__ import annotations

from engine.gan.plan import GanPlan, network_weights, plan_gan
from engine.gan.quality import Modes, SampleQuality
from engine.gan.reporting import GanMetricsWriter, GanProgressPrinter
from engine.gan.trainer import GanBatchEnd, GanTrainer

__all__ = [
    "GanBatchEnd",
    "GanMetricsWriter",
    "GanPlan",
    "GanProgressPrinter",
    "GanTrainer",
    "Modes",
    "SampleQuality",
    "network_weights",
    "plan_gan",
]
