"""Where bundled files live, and the bundled example projects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
EXAMPLES = RESOURCES / "examples"
DEFAULT_EXAMPLE = "digits-cnn"


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    path: Path


def examples() -> list[Example]:
    """Every bundled example, in a teaching order: simplest first."""
    found = []
    for path in sorted(EXAMPLES.glob("*.netwright.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        name = path.name.removesuffix(".netwright.json")
        found.append(Example(name, str(data.get("description", "")), path))
    rank = {name: i for i, name in enumerate(_ORDER)}
    return sorted(found, key=lambda e: (rank.get(e.name, len(rank)), e.name))


def example(name: str) -> Example | None:
    return next((e for e in examples() if e.name == name), None)


_ORDER = (
    "perceptron",
    "digits-mlp",
    "deep-mlp",
    "paper-ball",
    "digits-cnn",
    "residual-cnn",
    "digits-se-cnn",
    "digits-lstm",
    "sine-gru",
    "transformer-marker",
    "digits-vit",
    "digits-autoencoder",
)
