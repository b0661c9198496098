"""Why a project cannot be trained as it stands: the one refusal both the CLI and the window show."""

from __future__ import annotations

from engine.problems import ProjectReport


class PlanError(ValueError):
    """The project cannot be trained as it stands; `code` 1 (fix the project) or 2 (bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def refuse_problems(report: ProjectReport, dataset: str | None = None) -> None:
    """Raise PlanError listing what stops the project training (the first 20). With `dataset`
    given, the project's own data source is not used in this run, so its problems don't count."""
    problems = report.errors
    if dataset is not None:
        problems = [d for d in problems if not (d.param or "").startswith("dataset.source")]
    if problems:
        lines = "\n".join(
            f"  {d}" + (f" [{d.param}]" if d.param and not d.node else "") for d in problems[:20]
        )
        raise PlanError(f"the project cannot be trained until these are fixed:\n{lines}", 1)
