"""`netwright new PROJECT [--example NAME]`: start a project file."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.project import Project, load_project, project_stem, save_project
from engine.resources import example, examples


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("new", help="write a new project file (empty, or a copy of an example)")
    parser.add_argument("project", type=Path, help="file to create, e.g. mynet.netwright.json")
    parser.add_argument(
        "--example", metavar="NAME", help="start from this example (see `netwright examples`)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError

    path: Path = args.project
    if path.exists():
        raise UserError(f"{path} already exists; choose another name (nothing was changed)")
    if args.example:
        found = example(args.example)
        if found is None:
            names = ", ".join(e.name for e in examples())
            raise UserError(f"there is no example '{args.example}'; choose one of: {names}")
        project = load_project(found.path)
        project.extra.pop("description", None)
    else:
        project = Project(name=project_stem(path))
    project.name = project_stem(path)
    save_project(project, path)
    print(f"wrote {path}")
    return 0
