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
from engine.settings import OptimizerSettings, _parse_optimizer, _Reader

if TYPE_CHECKING:
    from engine.project import Project

GAN_LOSSES = ("non_saturating", "hinge", "wgan_gp")
GAN_NETWORKS = ("generator", "discriminator")


@dataclass(frozen=True)
class GanRecipe:
    latent_size: int = 16
    loss: str = "non_saturating"
    d_steps: int = 1  # discriminator steps per generator step
    gp_weight: float = 10.0  # WGAN-GP gradient penalty weight
    samples: int = 64  # fixed latent vectors drawn once, for comparable sample grids
    generator_optimizer: OptimizerSettings = field(
        default_factory=lambda: OptimizerSettings("adam", 2e-4)
    )
    discriminator_optimizer: OptimizerSettings = field(
        default_factory=lambda: OptimizerSettings("adam", 2e-4)
    )

    @classmethod
    def from_project(cls, project: Project) -> GanRecipe:
        return _parse(project.recipe or {}, [])


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
    def bad(key: str, message: str, hint: str | None = None) -> None:
        problems.append(Diagnostic("error", message, None, f"recipe.{key}", hint))

    reader = _Reader(data, bad)
    defaults = GanRecipe()
    optimizers = {}
    for role in GAN_NETWORKS:
        section = data.get(role, {})
        given = section.get("optimizer", {}) if isinstance(section, dict) else None
        parsed = _parse_optimizer(given, lambda k, m, h=None, r=role: bad(f"{r}.{k}", m, h))
        optimizers[role] = parsed if given else getattr(defaults, f"{role}_optimizer")
    recipe = GanRecipe(
        latent_size=reader.integer("latent_size", defaults.latent_size, 1, 4096),
        loss=reader.choice("loss", GAN_LOSSES, defaults.loss),
        d_steps=reader.integer("d_steps", defaults.d_steps, 1, 20),
        gp_weight=reader.number("gp_weight", defaults.gp_weight, 0.0, 1000.0),
        samples=reader.integer("samples", defaults.samples, 1, 1024),
    )
    return replace(
        recipe,
        generator_optimizer=optimizers["generator"],
        discriminator_optimizer=optimizers["discriminator"],
    )
