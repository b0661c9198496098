"""`netwright runs PROJECT [--json] [--compare A B]`: the project's recorded training runs.

A table, oldest first, with a column for every setting that is not the same in
all the runs listed (so two runs at different learning rates show an `lr`
column), and a `graph` column when their architectures differ. `--json` prints
a list of run objects (CONTRACT.md: at least `id`, `started`, `settings`,
`val_loss`, `status`; docs/runs.md has every key). `--compare A B` names what
differs from run A to run B, settings and layers. Exit 0, also when nothing is
recorded yet; 2 for an unreadable project or an unknown run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from engine.project import load_project


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "runs",
        help="list a project's recorded training runs",
        description="List the training runs recorded for a project (its NAME.runs/ folder).",
    )
    parser.add_argument("project", type=Path, help="the .netwright.json project file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="name what differs from run A to run B (ids, or names such as 'run 3')",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.experiments.recorder import history_for

    project = load_project(args.project)
    history = history_for(project)
    runs = history.runs()
    if args.compare:
        return _compare(runs, args.compare, history.folder, args.json)
    if args.json:
        print(json.dumps([r.summary() for r in runs], indent=2, ensure_ascii=False))
        return 0
    if not runs:
        print(f"no runs recorded for {project.name} yet (they will be in {history.folder})")
        return 0
    print(table(runs))
    print(f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {history.folder}")
    return 0


def table(runs: list[Any]) -> str:
    """The runs as aligned text columns."""
    from engine.experiments.compare import differing_keys, flatten, show

    varying = [k for k in differing_keys(r.data for r in runs) if k != "epochs"]
    graphs = len({r.data.get("fingerprint") for r in runs}) > 1
    heads = ["name", "id", "started", "status", "epochs", "val_loss", "val_acc", "params", "time"]
    heads += [_short_key(k) for k in varying] + (["graph"] if graphs else []) + ["note"]
    rows = []
    for r in runs:
        flat = flatten(r.settings)
        row = [
            r.name,
            r.id,
            r.started[:16].replace("T", " "),
            r.status,
            str(r.data.get("epochs", "")),
            _number(r.val_loss, "{:.4f}"),
            _number(r.val_accuracy, "{:.1%}"),
            _number(r.data.get("parameters"), "{:,.0f}"),
            _number(r.data.get("seconds"), "{:.1f}s"),
        ]
        row += [show(flat.get(k)) for k in varying]
        row += [str(r.data.get("fingerprint", ""))[:6]] if graphs else []
        row.append(r.note)
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _compare(runs: list[Any], names: list[str], folder: Path, as_json: bool) -> int:
    from engine.cli import UserError
    from engine.experiments.compare import compare

    chosen = []
    for name in names:
        found = [r for r in runs if name in (r.id, r.name)]
        if not found:
            raise UserError(f"{folder}: no run '{name}' (netwright runs PROJECT lists them)", 2)
        chosen.append(found[-1])
    before, after = chosen
    comparison = compare(before.data, after.data)
    lines = comparison.lines()
    if as_json:
        print(json.dumps({"before": before.id, "after": after.id, "differences": lines}, indent=2))
        return 0
    print(f"from {before.name} ({before.id}) to {after.name} ({after.id}):")
    for line in lines or ["the same settings and the same network"]:
        print(f"  {line}")
    for label, key, pattern in (
        ("val_loss", "val_loss", "{:.4f}"),
        ("val_acc", "val_accuracy", "{:.1%}"),
    ):
        a, b = before.figure(key), after.figure(key)
        if a is not None and b is not None:
            print(f"  {label} {pattern.format(a)} → {pattern.format(b)}")
    return 0


def _short_key(key: str) -> str:
    """``optimizer.lr`` -> ``lr``; keys whose last part is ambiguous keep their section."""
    last = key.rsplit(".", 1)[-1]
    return key if last in ("name", "patience", "metric") else last


def _number(value: Any, pattern: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    return pattern.format(value)
