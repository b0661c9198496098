"""GANs: a generator and a discriminator trained together by the project's recipe.

No Qt here. A GAN trains in the one Trainer with its own step (`GanStep`,
engine.gan.step); `engine.training.plan_training` asks `engine.gan.plan` for
the step and the real data, as it does for any project. `GanStep.samples()`
gives the live sample grid. The names below load on first use, so importing
this package (the window does, before its first paint) does not load torch.
"""

from __future__ import annotations

from engine.lazy import lazy_names

_WHERE = {
    "GanStep": "engine.gan.step",
    "Modes": "engine.gan.quality",
    "SampleQuality": "engine.gan.quality",
    "gan_epoch_line": "engine.gan.lines",
}


__getattr__ = lazy_names(__name__, _WHERE)


__all__ = ["GanStep", "Modes", "SampleQuality", "gan_epoch_line"]
