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
import os
import signal
import sys
from pathlib import Path
from typing import Any

from engine.settings import TRAINING


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "train",
        help="train a project headless, printing progress",
        description="Train a project's networks on its data set. Options override the project's "
        "training settings for this run only; the project file is never changed.",
    )
    parser.add_argument("project", type=Path, help="the .netwright.json project file")
    for setting in TRAINING:
        if setting.option is None:
            continue
        if setting.kind == "bool":
            parser.add_argument(
                setting.option,
                action="store_true",
                default=None,
                dest=_dest(setting.key),
                help=setting.help,
            )
            continue
        parser.add_argument(
            setting.option,
            type=setting.parse_text,
            metavar=setting.metavar,
            dest=_dest(setting.key),
            help=f"{setting.help.rstrip('.')} ({setting.describe()}; default: the project's)",
        )
    parser.add_argument(
        "--dataset",
        metavar="SPEC",
        help="train on other data: builtin:NAME, csv:PATH, npz:PATH, images:DIR, "
        "idx:IMAGES,LABELS, text:PATH or textcsv:PATH",
    )
    parser.add_argument(
        "--metrics-out", type=Path, metavar="FILE.jsonl", help="write the JSONL metrics stream here"
    )
    parser.add_argument(
        "--weights-out",
        type=Path,
        metavar="FILE.safetensors",
        help="where to save the trained weights (default NAME.safetensors beside the project)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="start from the saved weights (the --weights-out file or the default one)",
    )
    parser.add_argument(
        "--samples-out",
        type=Path,
        metavar="FILE.png",
        help="GAN projects: save a picture of the generator's samples at the end",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="keep this run out of the project's run history (NAME.runs/)",
    )
    parser.add_argument(
        "--note", metavar="TEXT", default="", help="a note kept with this run in the run history"
    )
    parser.add_argument(
        "--find-lr",
        action="store_true",
        help="a learning-rate range test: prints the suggested rate and trains nothing",
    )
    parser.set_defaults(run=run)


def _dest(key: str) -> str:
    return "setting_" + key.replace(".", "__")


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings the command line gives for this run, by key."""
    return {s.key: getattr(args, _dest(s.key)) for s in TRAINING if s.option is not None}


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

    ended = False
    try:
        code = _train(args)
        ended = True
        return code
    finally:
        finish(together=ended)  # under torchrun: leave the process group, whatever happened


def _warn_if_it_may_not_fit(path: Path, project: Any, settings: Any) -> None:
    """Before the run: one line on stderr when the estimate says the device is too small
    (a warning only: the estimate can be off, and the run says so if it does run out)."""
    from engine.analysis import analyse
    from engine.device_memory import fit_problem, free_memory, project_cost

    cost = project_cost(project, analyse(project.graph), settings.batch_size)
    problem = fit_problem(cost, free_memory(settings.device))
    if problem is not None:
        print(f"{path}: {problem}", file=sys.stderr)


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
    from engine.recipes import apply_training_overrides
    from engine.settings import TrainingSettings
    from engine.training import MetricsWriter, PlanError, ProgressPrinter, plan_training
    from engine.training.checkpoints import network_file
    from engine.training.memory import OutOfMemory
    from engine.weights import WeightsError

    project = load_project(args.project)
    weights = weights_target(args.project, project_stem(args.project), args.weights_out)
    if weights.resolve() == args.project.resolve():
        raise UserError(f"{weights}: that is the project file; choose another --weights-out", 2)
    several = project.is_multi_network
    if several and os.environ.get("WORLD_SIZE", "1") != "1":
        raise UserError(
            f"{args.project}: a GAN project trains in one process; run it without torchrun", 2
        )
    if args.samples_out is not None and not several:
        raise UserError("--samples-out applies to GAN projects only", 2)
    chosen = overrides(args)
    settings = TrainingSettings.from_project(project, chosen)
    apply_training_overrides(project, chosen)  # a GAN's --lr is each network's learning rate
    legacy = several and network_file(weights, next(iter(project.networks))).is_file()
    if args.resume and not weights.is_file() and not legacy:
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
    if args.find_lr:
        return _find_lr(plan, args.project) if main else 0
    if place is None and not several:
        _warn_if_it_may_not_fit(args.project, project, settings)
    callbacks: list[Any] = [ProgressPrinter()] if main else []
    if args.metrics_out is not None and main:
        callbacks.append(MetricsWriter(args.metrics_out, plan.start_info()))
    recorder = _recorder(args, project, settings, plan) if main else None
    if recorder is not None:
        callbacks.append(recorder)
    trainer = plan.trainer(callbacks)
    if main:
        print(plan.describe(_where(trainer, place)), flush=True)
    try:
        result = _fit_with_interrupt(trainer, plan, repeat_aborts=place is None)
    except OutOfMemory as error:
        raise UserError(str(error), 1) from None
    if recorder is not None and recorder.record is not None and recorder.problem is None:
        print(
            f"recorded as {recorder.record.name} ({recorder.record.id}) in {recorder.history.folder}"
        )
    if result.status == "diverged":
        if main:
            print(
                f"netwright: training diverged ({result.message}); weights not saved. "
                + plan.step.divergence_advice(),
                file=sys.stderr,
            )
        return 1
    if not main:
        return 0
    plan.save(weights, result)  # an I/O failure is a WriteError: one plain line, exit 2
    print(f"weights saved to {weights}")
    if args.samples_out is not None:
        _save_samples(plan, args.samples_out)
    return 0


def _recorder(args: argparse.Namespace, project: Any, settings: Any, plan: Any) -> Any:
    """The callback that records this run in the project's history (None with --no-record)."""
    if args.no_record:
        return None
    from engine.experiments.recorder import RunRecorder, history_for

    command = ["netwright", *sys.argv[1:]] if sys.argv and sys.argv[0] else []
    return RunRecorder(
        history_for(project),
        project,
        settings,
        plan.start_info(),
        source="cli",
        note=args.note,
        extra={"command": " ".join(command)} if command else None,
    )


def _find_lr(plan: Any, path: Path) -> int:
    """`--find-lr`: the range test, its suggestion printed; the weights are left untouched."""
    from engine.cli import UserError
    from engine.experiments.lr_finder import END_LR, START_LR, STEPS, LRFinderError, find_lr

    print(
        f"learning-rate range test on {plan.project.name}: up to {STEPS} batches, the rate "
        f"growing from {START_LR:g} to {END_LR:g}",
        flush=True,
    )
    try:
        found = find_lr(plan)
    except LRFinderError as error:
        raise UserError(f"{path}: {error}", 1) from None
    print(f"ended after {len(found.rates)} batches: {found.reason}")
    if found.suggestion is None:
        print(f"netwright: {found.describe()}", file=sys.stderr)
        return 1
    print(f"the project's learning rate: {found.current:g}")
    print(f"{found.describe()}; use it with --lr {found.suggestion:.3g}")
    return 0


def _where(trainer: Any, place: Any) -> str:
    """ "cpu (1 thread)", "cuda:0 with 4 processes (nccl)": where a run trains, for its first line."""
    where = str(trainer.device)
    if trainer.device.type == "cpu":
        where += f" ({trainer.threads} thread{'s' if trainer.threads > 1 else ''})"
    if place is not None:
        plural = "es" if place.world_size > 1 else ""
        where += f" with {place.world_size} process{plural} ({place.backend})"
    return where


def _save_samples(plan: Any, path: Path) -> None:
    """A picture of the generator's samples: an image grid, or a scatter over 2-D real data."""
    from engine.gan.pictures import save_samples_png

    step, real = plan.step, plan.data.real
    two_d = tuple(real.shape[1:]) == (2,)
    samples = step.generate(step.assess_latents) if two_d else step.samples()
    save_samples_png(samples, real, path)
    print(f"samples saved to {path}")


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
