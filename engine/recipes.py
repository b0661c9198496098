"""Training recipes for projects with several networks. Today: the GAN.

A GAN project holds two graphs, `generator` and `discriminator`. The recipe
says how they train together and fixes the shapes that connect them: the
latent size feeds the generator's Input, the generator's Output must fit the
discriminator's Input, and the discriminator ends in one score per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.analysis import Analysis, Diagnostic, analyse
from engine.layers._shape import fmt
from engine.settings import OptimizerSettings, Section, Setting, optimizer_settings
from engine.settings.declared import defaults, group, read_table, top_level

if TYPE_CHECKING:
    from engine.project import Project

GAN_LOSSES = {
    "non_saturating": "Non-saturating (the original GAN's)",
    "hinge": "Hinge",
    "wgan_gp": "Wasserstein with gradient penalty",
}
GAN_NETWORKS = ("generator", "discriminator")
GAN_LR = 2e-4

GAN_SECTIONS = tuple(
    Section(f"{role}.optimizer", '{"name": "adam", "lr": 0.0002}') for role in GAN_NETWORKS
)
GAN_RECIPE: tuple[Setting, ...] = (
    Setting(
        "latent_size",
        "int",
        16,
        "Random numbers the generator turns into a sample.",
        minimum=1,
        maximum=4096,
    ),
    Setting(
        "loss",
        "choice",
        "non_saturating",
        "How the two networks score each other.",
        choices=GAN_LOSSES,
    ),
    Setting("d_steps", "int", 1, "Discriminator steps per generator step.", minimum=1, maximum=20),
    Setting(
        "gp_weight",
        "float",
        10.0,
        "wgan_gp: the gradient penalty's weight.",
        minimum=0.0,
        maximum=1000.0,
    ),
    Setting(
        "samples",
        "int",
        64,
        "Fixed latent vectors drawn once, for comparable sample grids.",
        minimum=1,
        maximum=1024,
    ),
    *(
        replace(setting, key=f"{role}.{setting.key}")
        for role in GAN_NETWORKS
        for setting in optimizer_settings(lr=GAN_LR, label=False)
    ),
)
_DEFAULT = defaults(GAN_RECIPE)


@dataclass(frozen=True)
class GanRecipe:
    latent_size: int = _DEFAULT["latent_size"]
    loss: str = _DEFAULT["loss"]
    d_steps: int = _DEFAULT["d_steps"]
    gp_weight: float = _DEFAULT["gp_weight"]
    samples: int = _DEFAULT["samples"]
    generator_optimizer: OptimizerSettings = field(
        default_factory=lambda: OptimizerSettings("adam", GAN_LR)
    )
    discriminator_optimizer: OptimizerSettings = field(
        default_factory=lambda: OptimizerSettings("adam", GAN_LR)
    )

    @classmethod
    def from_project(cls, project: Project) -> GanRecipe:
        return _parse(project.recipe or {}, [])


def apply_training_overrides(project: Project, overrides: dict[str, Any]) -> None:
    """A run's optimizer options (`netwright train --lr`) for a project of several networks:
    each network's optimizer in the recipe takes them (in memory; the file is never written)."""
    if not project.is_multi_network:
        return
    for key, value in overrides.items():
        if key.startswith("optimizer.") and value is not None:
            for role in GAN_NETWORKS:
                project.set_value(f"recipe.{role}.{key}", value)


def data_network(project: Project) -> str | None:
    """The network the project's data feeds: a GAN's discriminator (None: the only network)."""
    return "discriminator" if project.is_multi_network else None


def analyse_networks(project: Project) -> dict[str, Analysis]:
    """Each network's own analysis, by name."""
    return {name: analyse(graph) for name, graph in project.named_graphs().items()}


def recipe_problems(project: Project, analyses: dict[str, Analysis]) -> list[Diagnostic]:
    """Problems with the recipe itself and with the shapes that join its networks."""
    if not project.is_multi_network:
        return []
    problems: list[Diagnostic] = []
    data = project.recipe or {}
    kind = data.get("kind")
    if kind != "gan":
        problems.append(
            Diagnostic(
                "error", f"unknown training recipe {kind!r}", param="recipe.kind", hint='use "gan"'
            )
        )
        return problems
    missing = [n for n in GAN_NETWORKS if n not in project.networks]
    if missing:
        problems.append(
            Diagnostic(
                "error",
                "a GAN needs networks named generator and discriminator; missing "
                + ", ".join(missing),
                param="networks",
            )
        )
        return problems
    recipe = _parse(data, problems)
    _check_joins(analyses, recipe, problems)
    return problems


def _check_joins(
    analyses: dict[str, Analysis], recipe: GanRecipe, problems: list[Diagnostic]
) -> None:
    g, d = analyses["generator"], analyses["discriminator"]
    g_input, d_input = g.nodes.get(g.input_id or ""), d.nodes.get(d.input_id or "")
    if g_input is not None and list(g_input.resolved.get("shape", [])) != [recipe.latent_size]:
        problems.append(
            Diagnostic(
                "error",
                f"the generator's Input must take the latent vector ({recipe.latent_size} values), "
                f"but its shape is {g_input.resolved.get('shape')}",
                g.input_id,
                "shape",
                f"set it to [{recipe.latent_size}] or change recipe.latent_size",
                network="generator",
            )
        )
    g_out = g.output_shape if g.ok else None
    d_out = d.output_shape if d.ok else None
    if g_out is not None and d_input is not None:
        d_shape = tuple(d_input.resolved.get("shape", []))
        if g_out != d_shape:
            problems.append(
                Diagnostic(
                    "error",
                    f"the generator makes {fmt(g_out)} samples but the discriminator's Input takes {fmt(d_shape)}",
                    d.input_id,
                    "shape",
                    "make the generator's last layer produce the discriminator's input shape",
                    network="discriminator",
                )
            )
    if d_out is not None and d_out != (1,):
        problems.append(
            Diagnostic(
                "error",
                f"the discriminator must end in one score per sample, but gives {fmt(d_out)}",
                d.output_id,
                hint="end it with Linear(out_features=1), without a Sigmoid",
                network="discriminator",
            )
        )


def _parse(data: dict[str, Any], problems: list[Diagnostic]) -> GanRecipe:
    def report(key: str, message: str, hint: str | None) -> None:
        problems.append(Diagnostic("error", message, None, f"recipe.{key}", hint))

    values, _ = read_table(data, GAN_RECIPE, GAN_SECTIONS, report)
    return GanRecipe(
        **top_level(values),
        generator_optimizer=OptimizerSettings(**group(values, "generator.optimizer")),
        discriminator_optimizer=OptimizerSettings(**group(values, "discriminator.optimizer")),
    )
