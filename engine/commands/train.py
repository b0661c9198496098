"""`netwright train PROJECT [options]`: train headless, print progress, save the weights.

Exit codes (CONTRACT.md): 0 when the run completed, stopped early, or was
stopped by the user (Ctrl+C: the weights so far are saved whole; stopping is
not an error); 1 when the project cannot be trained as it is or the training
diverged (no weights are written then, so good earlier weights survive); 2 for
an unreadable project or data file, or a wrong option.

Weights go to ``--weights-out`` or else ``NAME.safetensors`` beside the
project; for a bundled example (or a folder we cannot write) they go to the
current folder instead, so the program's own files are never changed. The
project file itself is never written.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any

from engine.settings import DEVICE_PATTERN, OPTIMIZERS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "train",
        help="train a project headless, printing progress",
        description="Train a project's network on its data set. Options override the project's "
        "training settings for this run only; the project file is never changed.",
    )
    parser.add_argument("project", type=Path)
    parser.add_argument("--epochs", type=_positive_int, metavar="N")
    parser.add_argument("--batch-size", type=_positive_int, metavar="B")
    parser.add_argument("--lr", type=_positive_float, metavar="LR", help="learning rate")
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--device", type=_device, metavar="auto|cpu|cuda|cuda:N|mps")
    parser.add_argument("--seed", type=_seed, metavar="S")
    parser.add_argument(
        "--dataset",
        metavar="SPEC",
        help="builtin:NAME, csv:PATH, npz:PATH, images:DIR or idx:IMAGES,LABELS",
    )
    parser.add_argument(
        "--metrics-out", type=Path, metavar="FILE.jsonl", help="write the JSONL metrics stream here"
    )
    parser.add_argument(
        "--weights-out",
        type=Path,
        metavar="FILE.safetensors",
        help="where to save the trained weights",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="start from the saved weights (the --weights-out file or the default one)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the network for training (falls back to eager, with a note, if it fails)",
    )
    parser.add_argument(
        "--samples-out",
        type=Path,
        metavar="FILE.png",
        help="GAN projects: save a picture of the generator's samples at the end",
    )
    parser.set_defaults(run=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _device(text: str) -> str:
    if not DEVICE_PATTERN.match(text):
        raise argparse.ArgumentTypeError("use auto, cpu, cuda, cuda:N or mps")
    return text


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError("must be from 0 to 4294967295")
    return value


def weights_target(project_path: Path, name_stem: str, chosen: Path | None) -> Path:
    """Where this run's weights go (see the module docstring)."""
    from engine.resources import RESOURCES

    if chosen is not None:
        return chosen
    beside = project_path.with_name(name_stem + ".safetensors")
    inside_program = RESOURCES in project_path.resolve().parents
    if inside_program or not os.access(project_path.resolve().parent, os.W_OK):
        return Path.cwd() / beside.name
    return beside


def run(args: argparse.Namespace) -> int:
    from engine.training.distributed import finish

    try:
        return _train(args)
    finally:
        finish()  # under torchrun: leave the process group, whatever happened


def _join_torchrun(device: str) -> Any:
    """This process's place among the ranks when torchrun launched it (None otherwise)."""
    from engine.cli import UserError
    from engine.training import distributed

    if not distributed.launched_by_torchrun():
        return None
    try:
        return distributed.start(device)
    except ValueError as error:
        raise UserError(str(error), 2) from None
    except distributed.dist.DistError as error:
        raise UserError(f"could not join the other training processes: {error}", 2) from None


def _train(args: argparse.Namespace) -> int:
    from engine.cli import UserError
    from engine.data.dataset import DataError
    from engine.project import load_project, project_stem
    from engine.settings import TrainingSettings
    from engine.training import (
        MetricsWriter,
        PlanError,
        ProgressPrinter,
        plan_training,
        save_checkpoint,
    )
    from engine.training.memory import OutOfMemory
    from engine.weights import WeightsError

    project = load_project(args.project)
    weights = weights_target(args.project, project_stem(args.project), args.weights_out)
    if weights.resolve() == args.project.resolve():
        raise UserError(f"{weights}: that is the project file; choose another --weights-out", 2)
    if project.is_multi_network:  # two networks trained by a recipe: engine.gan
        from engine.gan.command import run_gan

        return run_gan(args, project, weights)
    if args.samples_out is not None:
        raise UserError("--samples-out applies to GAN projects only", 2)
    settings = TrainingSettings.from_project(project).with_overrides(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer_name=args.optimizer,
        device=args.device,
        seed=args.seed,
        compile=True if args.compile else None,
    )
    if args.resume and not weights.is_file():
        raise UserError(
            f"{weights}: no saved weights to resume from; train once without --resume", 2
        )
    place = _join_torchrun(settings.device)  # only rank 0 prints and writes
    main = place is None or place.is_main
    try:
        plan = plan_training(
            project,
            settings,
            dataset=args.dataset,
            weights=weights if args.resume else None,
            distributed=place,
        )
    except PlanError as error:
        raise UserError(f"{args.project}: {error}", error.code) from None
    except DataError as error:
        raise UserError(str(error), error.code) from None
    except WeightsError as error:
        raise UserError(str(error), 2) from None
    callbacks: list[Any] = [ProgressPrinter()] if main else []
    if args.metrics_out is not None and main:
        callbacks.append(open_metrics(MetricsWriter, args.metrics_out, plan.start_info()))
    trainer = plan.trainer(callbacks)
    info = plan.start_info()
    together = ""
    if place is not None:
        plural = "es" if place.world_size > 1 else ""
        together = f" with {place.world_size} process{plural} ({place.backend})"
    if main:
        print(
            f"training {project.name} on {trainer.device}"
            + (
                f" ({trainer.threads} thread{'s' if trainer.threads > 1 else ''})"
                if trainer.device.type == "cpu"
                else ""
            )
            + together
            + ": "
            f"{info['train_samples']:,} training and {info['val_samples']:,} validation samples "
            f"from {info['dataset']}, {info['parameters']:,} parameters",
            flush=True,
        )
    try:
        result = _fit_with_interrupt(trainer, plan, repeat_aborts=place is None)
    except OutOfMemory as error:
        raise UserError(str(error), 1) from None
    if result.status == "diverged":
        if main:
            print(
                f"netwright: training diverged ({result.message}); weights not saved. "
                "Lower the learning rate (--lr) or add gradient clipping (training.grad_clip).",
                file=sys.stderr,
            )
        return 1
    if not main:
        return 0
    try:
        save_checkpoint(
            trainer.model,
            weights,
            project=project.name,
            epoch=result.final.get("epoch"),
            status=result.status,
            scaling=plan.data.scaling,
        )
    except OSError as error:
        raise UserError(
            f"{weights}: cannot write the weights ({error.strerror or error})", 2
        ) from None
    print(f"weights saved to {weights}")
    return 0


def open_metrics(writer: Any, path: str, info: dict[str, Any]) -> Any:
    """`writer(path, info)`, the metrics stream's callback; a file that cannot be written is
    the user's to fix (exit 2), not a traceback."""
    from engine.cli import UserError

    try:
        return writer(path, info)
    except OSError as error:
        raise UserError(
            f"{path}: cannot write the metrics file ({error.strerror or error})", 2
        ) from None


def _fit_with_interrupt(trainer: Any, plan: Any, repeat_aborts: bool = True) -> Any:
    """Run the fit; the first Ctrl+C stops it cleanly after the current batch, a second one aborts.

    Under torchrun (`repeat_aborts` False) every SIGINT only asks to stop: torchrun forwards
    the user's Ctrl+C to each rank and ends ranks that outlast its grace period itself."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return trainer.fit(*plan.batches())
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        if not trainer.stop_requested and (repeat_aborts or plan.distributed.is_main):
            print(
                "stopping after the current batch"
                + (" (Ctrl+C again to abort)" if repeat_aborts else ""),
                file=sys.stderr,
                flush=True,
            )
        if repeat_aborts:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        trainer.stop()

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        return trainer.fit(*plan.batches())
    finally:
        signal.signal(signal.SIGINT, previous)
