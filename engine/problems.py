"""Everything wrong with a project, in one list: graphs, settings, recipe (and data).

`netwright check`, the editor's Problems panel and the trainer's pre-flight all
ask here, so they agree. Add new project-level checks to `project_problems`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.analysis import Analysis, Diagnostic
from engine.data.spec import dataset_problems
from engine.device_memory import cost_problems
from engine.project import Project
from engine.recipes import analyse_networks, recipe_problems
from engine.settings import settings_problems
from engine.settings.generation import generation_problems


@dataclass
class ProjectReport:
    analyses: dict[str, Analysis]  # by network name ("network" for a single-network project)
    problems: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.problems if d.severity == "error"]

    @property
    def main(self) -> Analysis:
        """The analysis of the project's main network (a GAN's generator)."""
        return next(iter(self.analyses.values()))


def project_problems(project: Project) -> ProjectReport:
    analyses = analyse_networks(project)
    problems: list[Diagnostic] = []
    for name, analysis in analyses.items():
        tag = name if project.is_multi_network else None
        problems += [replace(d, network=tag) for d in analysis.diagnostics]
    single = None if project.is_multi_network else next(iter(analyses.values()))
    problems += settings_problems(project, single)
    problems += cost_problems(project, single)
    problems += [
        several_inputs(a, name if project.is_multi_network else None)
        for name, a in analyses.items()
        if len(a.input_ids) > 1
    ]
    problems += recipe_problems(project, analyses)
    problems += dataset_problems(project)
    problems += generation_problems(project)
    return ProjectReport(analyses, problems)


def several_inputs(analysis: Analysis, network: str | None) -> Diagnostic:
    """A network reading several Inputs checks and exports, but a data set feeds one Input."""
    inputs = ", ".join(f"'{i}'" for i in analysis.input_ids)
    return Diagnostic(
        "warning",
        f"the network reads {len(analysis.input_ids)} inputs ({inputs}): it checks and exports, "
        "but training needs data for each of them, which a data set does not give",
        analysis.input_ids[1],
        hint="keep one Input to train it",
        network=network,
    )
