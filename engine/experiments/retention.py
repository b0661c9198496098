"""How much run history a project keeps: the project file's ``runs`` section, declared once.

``"runs": {"keep": 200, "max_megabytes": 2000}``: after each run the oldest
finished runs are deleted until at most `keep` remain and together they take at
most `max_megabytes` on disk (weights are most of it). Pinned runs and runs
still training are never deleted. Declared like the training settings, so the
docs table and the messages come from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.settings import Setting
from engine.settings.declared import read_table

if TYPE_CHECKING:
    from engine.project import Project

RETENTION: tuple[Setting, ...] = (
    Setting(
        "keep",
        "int",
        200,
        "The most runs kept in the history; the oldest unpinned ones go first.",
        "Keep runs",
        minimum=1,
        maximum=1_000_000,
    ),
    Setting(
        "max_megabytes",
        "float",
        2000.0,
        "The most disk space the history takes, in MB (weights are most of it).",
        "Disk limit (MB)",
        minimum=1.0,
        maximum=1e9,
    ),
)


@dataclass(frozen=True)
class Retention:
    keep: int = RETENTION[0].default
    max_megabytes: float = RETENTION[1].default

    @property
    def max_bytes(self) -> int:
        return int(self.max_megabytes * 1_000_000)

    @classmethod
    def from_project(cls, project: Project, problems: list[str] | None = None) -> Retention:
        """The project's limits; an unusable value is named in `problems` and its default used."""

        def report(key: str, message: str, hint: str | None) -> None:
            if problems is not None:
                problems.append(f"runs.{key}: {message}")

        values, _ = read_table(project.extra.get("runs", {}), RETENTION, (), report)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {"keep": self.keep, "max_megabytes": self.max_megabytes}
