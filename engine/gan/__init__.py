"""GANs: a generator and a discriminator trained together by the project's recipe.

No Qt here. A GAN trains in the one Trainer with its own step (`GanStep`);
`engine.training.plan_training` asks `engine.gan.plan` for the step and the
real data, as it does for any project. `GanStep.samples()` gives the live
sample grid.
"""

from __future__ import annotations

from engine.gan.quality import Modes, SampleQuality
from engine.gan.step import GanStep, gan_epoch_line

__all__ = ["GanStep", "Modes", "SampleQuality", "gan_epoch_line"]
