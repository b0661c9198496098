"""The learning-rate range test: grow the rate batch by batch, watch the loss, suggest a rate.

Leslie Smith's test, as fastai and Lightning run it: the learning rate grows
exponentially from `start` to `end` over a few hundred batches while the
network trains; the loss (smoothed) first barely moves, then falls, then
explodes. The suggestion is the rate where the smoothed loss falls fastest,
taken before its lowest point: large enough to learn quickly, well short of
where training breaks. It runs through the one Trainer (the project's own
optimizer, device and batches, with no schedule, no validation and no early
stopping) and puts every weight back afterwards, so the test changes nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.training.callbacks import BatchEnd, Callback

if TYPE_CHECKING:
    from engine.training.plan import TrainingPlan
    from engine.training.trainer import Trainer

START_LR, END_LR, STEPS = 1e-7, 10.0, 200
SMOOTHING = 0.9  # of the loss's moving average (bias-corrected)
EXPLODED = 4.0  # the test ends when the smoothed loss passes this many times its lowest
SKIP_START = 5  # the first batches' slopes are noise


class LRFinderError(ValueError):
    """A project the range test cannot run on; the message says why."""


@dataclass
class LRFinding:
    """What the test saw: one learning rate and loss per batch, and the suggestion."""

    rates: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # smoothed
    raw: list[float] = field(default_factory=list)
    suggestion: float | None = None
    index: int | None = None  # of the suggestion in `rates`
    reason: str = ""  # why it ended
    current: float | None = None  # the project's own learning rate

    def describe(self) -> str:
        if self.suggestion is None:
            return "no suggestion: the loss never fell; try a wider range or check the data"
        return f"suggested learning rate {self.suggestion:.3g} (where the loss falls fastest)"


class RangeTest(Callback):
    """Sets the next batch's learning rate and stops when the range is covered or the loss
    explodes."""

    def __init__(
        self,
        start: float,
        end: float,
        steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.start, self.end, self.steps = start, end, max(2, steps)
        self.finding = LRFinding()
        self.progress = progress
        self._average = 0.0
        self._lowest = math.inf

    def rate(self, index: int) -> float:
        return self.start * (self.end / self.start) ** (index / (self.steps - 1))

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        found, index = self.finding, batch.global_step
        value = batch.loss_value()
        found.rates.append(self.rate(index))
        found.raw.append(value)
        if not math.isfinite(value):
            found.reason = f"the loss became {value} at learning rate {self.rate(index):.3g}"
            trainer.stop()
            return
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * value
        smoothed = self._average / (1 - SMOOTHING ** (index + 1))
        found.losses.append(smoothed)
        self._lowest = min(self._lowest, smoothed)
        if self.progress is not None:
            self.progress(index + 1, self.steps)
        if index > SKIP_START and smoothed > EXPLODED * self._lowest:
            found.reason = (
                f"the loss grew past {EXPLODED:g}x its lowest at learning rate "
                f"{self.rate(index):.3g}"
            )
            trainer.stop()
        elif index + 1 >= self.steps:
            found.reason = f"covered {self.start:g} to {self.end:g} in {self.steps} batches"
            trainer.stop()
        else:
            optimizer = trainer.optimizer
            assert optimizer is not None
            for group in optimizer.param_groups:
                group["lr"] = self.rate(index + 1)


def suggest(rates: list[float], losses: list[float]) -> int | None:
    """The index where the smoothed loss falls fastest against log(rate), before its lowest."""
    finite = [i for i, v in enumerate(losses) if math.isfinite(v)]
    if len(finite) < SKIP_START + 3:
        return None
    lowest = min(finite, key=lambda i: losses[i])
    best, steepest = None, 0.0
    for i in range(SKIP_START, lowest):
        step = math.log10(rates[i + 1]) - math.log10(rates[i - 1])
        slope = (losses[i + 1] - losses[i - 1]) / step if step else 0.0
        if slope < steepest:
            best, steepest = i, slope
    return best


def find_lr(
    plan: TrainingPlan,
    *,
    start: float = START_LR,
    end: float = END_LR,
    steps: int = STEPS,
    progress: Callable[[int, int], None] | None = None,
    stop_flag: Callable[[], bool] | None = None,
) -> LRFinding:
    """Run the range test on `plan`'s network and data; the network's weights (and batch-norm
    statistics) are as they were when it returns."""
    if len(plan.networks) != 1:
        raise LRFinderError(
            "the learning-rate finder trains one network; a project of several (a GAN) has one "
            "learning rate per network in its recipe"
        )
    if not 0 < start < end:
        raise LRFinderError(f"the range must grow: start {start:g} is not below end {end:g}")
    from engine.settings import Schedule
    from engine.training.supervised import SupervisedStep
    from engine.training.trainer import Trainer

    current = plan.settings.optimizer.lr
    train, _val = plan.batches()
    epochs = math.ceil(steps / max(1, len(train))) + 1
    settings = dataclasses.replace(
        plan.settings,
        optimizer=dataclasses.replace(plan.settings.optimizer, lr=start),
        schedule=Schedule(),
        early_stopping=None,
        epochs=epochs,
    )
    step = SupervisedStep(plan.model, settings, classification=plan.data.classification)
    test = RangeTest(start, end, steps, progress)
    callbacks: list[Callback] = [test]
    if stop_flag is not None:
        callbacks.append(_StopWhen(stop_flag))
    saved = {k: v.detach().clone() for k, v in plan.model.state_dict().items()}
    trainer = Trainer(step, settings, callbacks=callbacks, device=plan.device)
    try:
        result = trainer.fit(train, None)
    finally:
        plan.model.load_state_dict(saved)
    found = test.finding
    found.reason = found.reason or result.message
    found.current = current
    found.index = suggest(found.rates, found.losses)
    found.suggestion = found.rates[found.index] if found.index is not None else None
    return found


class _StopWhen(Callback):
    def __init__(self, asked: Callable[[], bool]) -> None:
        self.asked = asked

    def on_batch_end(self, trainer: Trainer, batch: Any) -> None:
        if self.asked():
            trainer.stop()
