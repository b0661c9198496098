"""`netwright search PROJECT --trials N --param SPEC... [options]`: hyper-parameter search.

Each trial trains the project with the values Optuna proposes (a copy: the
project file is never written), one line per trial as it ends, the best trial
last with the `netwright train` options that repeat it. Trials are recorded in
the project's run history like any run (`--no-record` keeps them out). With
`--storage` several processes, here or on other machines, share one study;
docs/cluster.md says how. Exit codes: 0 when at least one trial completed; 1
when none did (every trial failed or was pruned) or the project cannot be
trained; 2 for a bad option or SPEC, an unreadable project or storage.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from engine.settings import TRAINING


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "search",
        help="search hyper-parameters with Optuna",
        description="Search training settings and layer parameters with Optuna: each trial "
        "trains a copy of the project; the best trial is printed last.",
    )
    parser.add_argument("project", type=Path, help="the .netwright.json project file")
    parser.add_argument(
        "--trials", type=_positive, required=True, metavar="N", help="trials in the study, in all"
    )
    parser.add_argument(
        "--timeout", type=_seconds, metavar="S", help="start no trial after S seconds"
    )
    parser.add_argument("--epochs", type=_positive, metavar="E", help="epochs per trial")
    parser.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="SPEC",
        help="a dimension: NAME=LOW..HIGH, NAME=LOW..HIGH:log or NAME=A,B,C; NAME is a "
        "training setting (lr, batch_size, weight_decay, optimizer, ...) or node.param "
        "(conv1.out_channels)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="share the study: sqlite:///FILE.db (or a path), or a database server's URL",
    )
    parser.add_argument("--study", metavar="NAME", help="the study's name (default NAME-search)")
    parser.add_argument(
        "--objective",
        choices=("val_loss", "val_accuracy", "train_loss"),
        default="val_loss",
        help="what the search makes best (default val_loss: its lowest over a trial's epochs)",
    )
    parser.add_argument(
        "--device", metavar="auto|cpu|cuda|cuda:N|mps", help="where every trial trains"
    )
    parser.add_argument("--seed", type=int, metavar="S", help="the sampler's seed (one process)")
    parser.add_argument(
        "--no-record", action="store_true", help="keep the trials out of the run history"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a time above 0")
    return value


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError
    from engine.experiments.dimensions import DimensionError, parse_dimension
    from engine.experiments.recorder import history_for
    from engine.experiments.search import Search, SearchError
    from engine.project import load_project

    project = load_project(args.project)
    try:
        dimensions = [parse_dimension(spec, project) for spec in args.param]
    except DimensionError as error:
        raise UserError(str(error), 2) from None
    names = [d.name for d in dimensions]
    if len(set(names)) != len(names):
        raise UserError("each --param NAME may be given once", 2)
    overrides: dict[str, Any] = {}
    if args.device:
        device = next(s for s in TRAINING if s.key == "device")
        try:
            overrides["device"] = device.parse_text(args.device)
        except argparse.ArgumentTypeError as error:
            raise UserError(f"--device: {error}", 2) from None
    try:
        search = Search(
            project,
            dimensions,
            trials=args.trials,
            timeout=args.timeout,
            epochs=args.epochs,
            storage=args.storage,
            study_name=args.study,
            objective=args.objective,
            overrides=overrides,
            seed=args.seed,
        )
    except SearchError as error:
        raise UserError(str(error), error.code) from None
    history = None if args.no_record else history_for(project)
    say = _Printer(args.json, search.objective)
    say.opening(search, dimensions)
    finished = _trials(search, history, say)
    best = search.best()
    say.best(search, best, args.project, dimensions)
    if best is None:
        return 1
    return 0 if finished or best is not None else 1


def _trials(search: Any, history: Any, say: _Printer) -> int:
    """Run trials until the budget is spent or Ctrl+C; returns how many this process ran."""
    from engine.experiments.search import run_trial

    stop = threading.Event()
    current: dict[str, Any] = {}

    def started(plan: Any, trainer: Any) -> None:
        current["trainer"] = trainer
        if stop.is_set():
            trainer.stop()

    previous = signal.getsignal(signal.SIGINT) if _main_thread() else None

    def on_interrupt(signum: int, frame: Any) -> None:
        if not stop.is_set():
            print("stopping after the current batch; no further trial", file=sys.stderr)
        stop.set()
        trainer = current.get("trainer")
        if trainer is not None:
            trainer.stop()

    if previous is not None:
        signal.signal(signal.SIGINT, on_interrupt)
    count = 0
    try:
        while not stop.is_set():
            setup = search.next_trial()
            if setup is None:
                break
            done = run_trial(search, setup, history=history, started=started)
            count += 1
            say.trial(done.outcome)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return count


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class _Printer:
    """The search's lines: words for people, or JSON objects (one a line) with --json."""

    def __init__(self, as_json: bool, objective: str) -> None:
        self.as_json = as_json
        self.objective = objective

    def emit(self, event: dict[str, Any]) -> None:
        print(json.dumps(event, ensure_ascii=False), flush=True)

    def opening(self, search: Any, dimensions: list[Any]) -> None:
        if self.as_json:
            self.emit(
                {
                    "event": "study",
                    "study": search.study_name,
                    "storage": search.storage_url,
                    "trials": search.trials,
                    "objective": search.objective,
                    "params": {d.name: d.values_text() for d in dimensions},
                }
            )
            return
        where = f" in {search.storage_url}" if search.storage_url else ""
        print(
            f"searching {search.project.name}: study '{search.study_name}'{where}, "
            f"{search.trials} trials, {search.objective} "
            f"({'lower' if search.objective.endswith('loss') else 'higher'} is better)",
            flush=True,
        )
        for d in dimensions:
            print(f"  {d.name} = {d.values_text()}", flush=True)

    def trial(self, outcome: Any) -> None:
        if self.as_json:
            self.emit({"event": "trial", **outcome.to_json()})
            return
        value = f"{self.objective} {outcome.value:.4f}" if outcome.value is not None else ""
        parts = [f"trial {outcome.number:>3}", f"{outcome.state:<8}", value, outcome.params_text()]
        if outcome.seconds is not None:
            parts.append(f"{outcome.seconds:.1f}s")
        if outcome.message and outcome.state != "complete":
            parts.append(f"({outcome.message})")
        print("  ".join(p for p in parts if p), flush=True)

    def best(self, search: Any, best: Any, path: Path, dimensions: list[Any]) -> None:
        importances = search.importances() if best is not None else {}
        if self.as_json:
            self.emit(
                {
                    "event": "best",
                    "study": search.study_name,
                    "best": best.to_json() if best is not None else None,
                    "importances": importances,
                }
            )
            return
        if best is None:
            print("netwright: no trial completed; nothing to report as best", file=sys.stderr)
            return
        print(f"best: trial {best.number}  {self.objective} {best.value:.4f}  {best.params_text()}")
        if importances:
            print(
                "importance: "
                + ", ".join(f"{name} {share:.0%}" for name, share in importances.items())
            )
        options = _train_options(best.params, dimensions)
        if options:
            print(f"repeat it: netwright train {path} {options}")


def _train_options(params: dict[str, Any], dimensions: list[Any]) -> str:
    """The best trial as `netwright train` options, where the settings have options."""
    by_key = {s.key: s for s in TRAINING}
    words = []
    for dimension in dimensions:
        setting = by_key.get(dimension.setting or "")
        if setting is not None and setting.option and setting.kind != "bool":
            value = params[dimension.name]
            words.append(
                f"{setting.option} {value:.4g}"
                if isinstance(value, float)
                else f"{setting.option} {value}"
            )
    return " ".join(words)
