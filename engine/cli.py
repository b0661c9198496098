"""The headless command line: `netwright layers|examples|new|check|...`.

Each sub-command lives in a module of `engine.commands` with `register(sub)`
adding its parser and a `run(args) -> int` returning the exit code. Heavy
imports (torch, onnx) happen inside `run`, so listings stay quick. A user's
mistake raises `UserError` (or `ProjectError`) and becomes one plain line on
stderr with exit code 2 (unreadable input) or 1 (read but unusable): never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from engine import __version__
from engine.atomic import WriteError
from engine.project import ProjectError

COMMAND_MODULES = (
    "engine.commands.listings",
    "engine.commands.new",
    "engine.commands.check",
    "engine.commands.datasets",
    "engine.commands.train",
    "engine.commands.search",
    "engine.commands.runs",
    "engine.commands.export",
    "engine.commands.generate",
    "engine.commands.import_onnx",
    "engine.commands.explain",
    "engine.commands.profile",
)


class UserError(Exception):
    """A mistake the user can fix; `code` is the exit code (1 or 2)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def build_parser(gui_help: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netwright",
        description="Netwright: design, train and export neural networks. Without a command, opens the designer.",
    )
    parser.add_argument("--version", action="version", version=f"netwright {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if gui_help:
        sub.add_parser("gui", help="open the designer window (the default)")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def run(argv: Sequence[str]) -> int:
    """Parse and run one headless command; returns the exit code."""
    args = build_parser(gui_help=True).parse_args(list(argv))
    if args.command is None:
        build_parser(gui_help=True).print_help()
        return 2
    try:
        return int(args.run(args))
    except UserError as error:
        _say(str(error))
        return error.code
    except ProjectError as error:
        _say(str(error))
        return 2
    except WriteError as error:  # disk full, file too large, no permission: the old file is whole
        _say(str(error))
        return 2
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug of ours: still no traceback unless asked for
        if os.environ.get("NETWRIGHT_DEBUG"):
            raise
        _say(
            f"internal error: {type(error).__name__}: {error} (set NETWRIGHT_DEBUG=1 for details and please report it)"
        )
        return 1


def _say(message: str) -> None:
    print(f"netwright: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)
