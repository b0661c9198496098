"""`netwright generate PROJECT [--weights W] --prompt TEXT --tokens N [...]`: a language model writes.

Prints the prompt and the model's continuation of it. The project's
``generation`` section gives the defaults (the same values the window's
Generate box and its live samples use); the options override them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.settings.generation import GENERATION


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "generate",
        help="continue a prompt with a trained language model",
        description="Write text with a project's trained language model (a network trained "
        "with the next_token loss, such as the tiny-gpt example). Prints the prompt and its "
        "continuation.",
    )
    parser.add_argument("project", type=Path, help="the .netwright.json project file")
    parser.add_argument(
        "--weights",
        type=Path,
        metavar="W",
        help="the trained .safetensors file (default NAME.safetensors beside the project)",
    )
    for setting in GENERATION:
        assert setting.option is not None
        parser.add_argument(
            setting.option,
            type=setting.parse_text,
            metavar=setting.metavar,
            dest=setting.key,
            help=f"{setting.help.rstrip('.')} ({setting.describe()}; default: the project's, "
            f"else {setting.default!r})",
        )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError
    from engine.project import load_project
    from engine.settings.generation import GenerationSettings
    from engine.text.generate import GenerationError, Sampling, project_writer

    project = load_project(args.project)
    chosen = GenerationSettings.from_project(
        project, {s.key: getattr(args, s.key) for s in GENERATION}
    )
    try:
        writer = project_writer(project, args.weights)
    except GenerationError as error:
        raise UserError(f"{args.project}: {error}", code=error.code) from None
    sampling = Sampling(chosen.temperature, chosen.top_k, chosen.seed)
    text = writer.continuation(chosen.prompt, chosen.tokens, sampling)
    print(chosen.prompt + text)
    return 0
