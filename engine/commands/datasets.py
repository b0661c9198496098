"""`netwright datasets`: one line per bundled data set (`NAME  shape  classes  description`)."""

from __future__ import annotations

import argparse

from engine.data.builtin import BUILTINS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("datasets", help="list the bundled data sets")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rows = [
        (
            entry.name,
            "x".join(map(str, entry.shape)) or "text",
            str(entry.classes) if entry.classes is not None else "-",
            entry.description,
        )
        for entry in BUILTINS.values()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3])
    return 0
