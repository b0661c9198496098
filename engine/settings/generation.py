"""How a language model writes: the project's ``generation`` section, declared once.

The same values drive the samples the dashboard shows while a language model
trains, the window's Generate box, and the defaults of `netwright generate`
(whose options override them for one call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.analysis import Diagnostic
from engine.settings.declared import Setting, defaults, read_table

if TYPE_CHECKING:
    from engine.project import Project

GENERATION: tuple[Setting, ...] = (
    Setting(
        "prompt",
        "text",
        "",
        "The text the model continues (empty: it starts from a new line).",
        "Prompt",
        option="--prompt",
        metavar="TEXT",
    ),
    Setting(
        "tokens",
        "int",
        200,
        "How many tokens to write.",
        "Tokens",
        minimum=1,
        maximum=100_000,
        option="--tokens",
        metavar="N",
    ),
    Setting(
        "temperature",
        "float",
        0.8,
        "Randomness: 0 always takes the likeliest token, 1 samples the model's own "
        "probabilities, more is wilder.",
        "Temperature",
        minimum=0.0,
        maximum=10.0,
        option="--temperature",
        metavar="T",
    ),
    Setting(
        "top_k",
        "int",
        40,
        "Draw only from the k likeliest tokens (0: from all of them).",
        "Top-k",
        minimum=0,
        maximum=1_000_000,
        option="--top-k",
        metavar="K",
    ),
    Setting(
        "seed",
        "int",
        0,
        "The random seed: the same seed writes the same text.",
        "Seed",
        minimum=0,
        maximum=2**32 - 1,
        option="--seed",
        metavar="S",
    ),
)
_DEFAULT = defaults(GENERATION)


@dataclass(frozen=True)
class GenerationSettings:
    prompt: str = _DEFAULT["prompt"]
    tokens: int = _DEFAULT["tokens"]
    temperature: float = _DEFAULT["temperature"]
    top_k: int = _DEFAULT["top_k"]
    seed: int = _DEFAULT["seed"]

    @classmethod
    def from_project(
        cls, project: Project, overrides: dict[str, Any] | None = None
    ) -> GenerationSettings:
        """The project's values (defaults where it has none or a bad one), then `overrides`."""
        values, _ = read_table(project.extra.get("generation"), GENERATION, (), lambda *_: None)
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls(**values)


def generation_problems(project: Project) -> list[Diagnostic]:
    """Unusable values in the project's ``generation`` section."""
    problems: list[Diagnostic] = []
    section = project.extra.get("generation")
    if section is None:
        return problems

    def report(key: str, message: str, hint: str | None) -> None:
        problems.append(Diagnostic("error", message, None, f"generation.{key}", hint))

    if not isinstance(section, dict):
        report("", 'generation must be an object such as {"prompt": "def ", "tokens": 200}', None)
        return problems
    read_table(section, GENERATION, (), report)
    return problems
