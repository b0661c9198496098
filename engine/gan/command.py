"""`netwright train` for a GAN project: the same options, progress and exit codes as one network.

Differences, in the user's terms: `--lr` and `--optimizer` apply to both
networks' optimizers; the weights go to two files, ``NAME.generator.safetensors``
and ``NAME.discriminator.safetensors`` (``--weights-out X.safetensors`` gives
``X.generator.safetensors`` and ``X.discriminator.safetensors``), and
`--samples-out FILE.png` saves a picture of the generated samples at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from engine.project import Project


def run_gan(args: argparse.Namespace, project: Project, weights: Any) -> int:
    """Train the GAN project `project` as `args` say; `weights` is the run's base weights path."""
    from engine.cli import UserError
    from engine.commands.train import _fit_with_interrupt, open_metrics
    from engine.data.dataset import DataError
    from engine.gan.plan import network_weights, plan_gan, with_optimizer_overrides
    from engine.gan.reporting import GanMetricsWriter, GanProgressPrinter
    from engine.recipes import GanRecipe
    from engine.settings import TrainingSettings
    from engine.training import PlanError
    from engine.weights import WeightsError

    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise UserError(
            f"{args.project}: a GAN project trains in one process; run it without torchrun", 2
        )
    settings = TrainingSettings.from_project(project).with_overrides(
        epochs=args.epochs, batch_size=args.batch_size, device=args.device, seed=args.seed
    )
    recipe = with_optimizer_overrides(GanRecipe.from_project(project), args.lr, args.optimizer)
    paths = network_weights(weights)
    if args.resume and not all(p.is_file() for p in paths.values()):
        missing = ", ".join(str(p) for p in paths.values() if not p.is_file())
        raise UserError(f"{missing}: no saved weights to resume from; train once without --resume")
    try:
        plan = plan_gan(
            project,
            settings,
            recipe=recipe,
            dataset=args.dataset,
            weights=weights if args.resume else None,
        )
    except PlanError as error:
        raise UserError(f"{args.project}: {error}", error.code) from None
    except DataError as error:
        raise UserError(str(error), error.code) from None
    except WeightsError as error:
        raise UserError(str(error), 2) from None
    callbacks: list[Any] = [GanProgressPrinter()]
    if args.metrics_out is not None:
        callbacks.append(open_metrics(GanMetricsWriter, args.metrics_out, plan.start_info()))
    trainer = plan.trainer(callbacks)
    info = plan.start_info()
    print(
        f"training the GAN {project.name} on {trainer.device} ({recipe.loss} loss, "
        f"{recipe.d_steps} discriminator step{'s' if recipe.d_steps > 1 else ''} per generator "
        f"step): {info['train_samples']:,} real samples from {info['dataset']}, "
        f"{info['generator_parameters']:,} generator and {info['discriminator_parameters']:,} "
        "discriminator parameters",
        flush=True,
    )
    result = _fit_with_interrupt(trainer, _Batches(plan))
    if result.status == "diverged":
        print(
            f"netwright: training diverged ({result.message}); weights not saved. Lower the "
            "learning rates (recipe.generator/discriminator.optimizer.lr, or --lr), or try the "
            "hinge or wgan_gp loss.",
            file=sys.stderr,
        )
        return 1
    try:
        saved = plan.save(weights, result)
    except OSError as error:
        raise UserError(
            f"{weights}: cannot write the weights ({error.strerror or error})", 2
        ) from None
    print("weights saved to " + " and ".join(str(p) for p in saved.values()))
    if args.samples_out is not None:
        _save_samples(trainer, plan, args.samples_out)
    return 0


class _Batches:
    """What `_fit_with_interrupt` asks of a plan: `batches()` giving `fit`'s arguments."""

    def __init__(self, plan: Any) -> None:
        self.plan = plan

    def batches(self) -> tuple[Any]:
        return (self.plan.batches(),)


def _save_samples(trainer: Any, plan: Any, path: Any) -> None:
    from engine.cli import UserError
    from engine.gan.pictures import save_samples_png

    two_d = tuple(plan.real.shape[1:]) == (2,)
    samples = trainer.generate(trainer.assess_latents) if two_d else trainer.samples()
    try:
        save_samples_png(samples, plan.real, path)
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot write the picture ({error})", 2) from None
    print(f"samples saved to {path}")
