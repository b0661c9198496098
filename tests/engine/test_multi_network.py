"""Projects with several networks (a GAN): file format, validation of the shapes that join them, check."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.problems import project_problems
from engine.project import ProjectError, load_project, project_from_json, save_project


def chain(*layers: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    nodes = [{"id": i, "type": t, "params": p} for t, i, p in layers]
    edges = [
        {"source": {"node": a["id"], "port": "out"}, "target": {"node": b["id"], "port": "in"}}
        for a, b in zip(nodes, nodes[1:])
    ]
    return {"nodes": nodes, "edges": edges}


GAN: dict[str, Any] = {
    "format": "netwright-project",
    "version": 1,
    "name": "tiny-gan",
    "networks": {
        "generator": chain(
            ("Input", "latent", {"shape": [8]}),
            ("Linear", "hidden", {"out_features": 16}),
            ("ReLU", "relu", {}),
            ("Linear", "sample", {"out_features": 2}),
            ("Output", "output", {}),
        ),
        "discriminator": chain(
            ("Input", "sample", {"shape": [2]}),
            ("Linear", "hidden", {"out_features": 16}),
            ("LeakyReLU", "relu", {"negative_slope": 0.2}),
            ("Linear", "score", {"out_features": 1}),
            ("Output", "output", {}),
        ),
    },
    "recipe": {"kind": "gan", "latent_size": 8, "loss": "non_saturating"},
    "dataset": {"source": "builtin:moons"},
    "training": {"epochs": 2, "batch_size": 32, "seed": 0},
}


def gan(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(GAN)
    data.update(changes)
    return data


def test_a_gan_project_round_trips_with_both_networks(tmp_path: Path) -> None:
    project = project_from_json(gan())
    assert project.is_multi_network
    assert list(project.named_graphs()) == ["generator", "discriminator"]
    assert project.graph is project.networks["generator"]  # the network users export
    path = save_project(project, tmp_path / "gan.netwright.json")
    saved = json.loads(path.read_text())
    assert "graph" not in saved
    assert saved["networks"] == GAN["networks"] | {
        name: {**graph, "nodes": [{**n, "position": [0.0, 0.0]} for n in graph["nodes"]]}
        for name, graph in GAN["networks"].items()
    }
    assert saved["recipe"] == GAN["recipe"]
    assert load_project(path).networks["discriminator"].nodes["score"].params == {"out_features": 1}


def test_single_network_projects_are_written_exactly_as_before(tmp_path: Path) -> None:
    single = {k: v for k, v in gan().items() if k not in ("networks", "recipe")}
    single["graph"] = GAN["networks"]["generator"]
    saved = json.loads(
        save_project(project_from_json(single), tmp_path / "one.netwright.json").read_text()
    )
    assert "networks" not in saved and "recipe" not in saved and "graph" in saved


def test_a_valid_gan_has_no_problems() -> None:
    report = project_problems(project_from_json(gan()))
    assert report.errors == []
    assert set(report.analyses) == {"generator", "discriminator"}


def test_the_latent_size_must_feed_the_generator_input() -> None:
    data = gan()
    data["recipe"]["latent_size"] = 4
    [problem] = project_problems(project_from_json(data)).errors
    assert (problem.network, problem.node, problem.param) == ("generator", "latent", "shape")


def test_generator_output_must_fit_the_discriminator_input() -> None:
    data = gan()
    data["networks"]["generator"]["nodes"][3]["params"]["out_features"] = 3
    [problem] = project_problems(project_from_json(data)).errors
    assert problem.network == "discriminator" and problem.node == "sample"
    assert "generator makes 3 samples" in problem.message


def test_the_discriminator_must_end_in_one_score() -> None:
    data = gan()
    data["networks"]["discriminator"]["nodes"][3]["params"]["out_features"] = 2
    [problem] = project_problems(project_from_json(data)).errors
    assert problem.network == "discriminator" and "one score per sample" in problem.message


def test_errors_inside_a_network_are_tagged_with_its_name() -> None:
    data = gan()
    data["networks"]["discriminator"]["nodes"][1]["params"]["out_features"] = 0
    problems = project_problems(project_from_json(data)).errors
    assert any(p.network == "discriminator" and p.node == "hidden" for p in problems)
    assert "network 'discriminator', node 'hidden'" in str(problems[0])


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"networks": {}}, "named graphs"),
        ({"networks": {"Bad Name": {"nodes": []}}}, "not a usable network name"),
        ({"graph": {"nodes": []}}, "not both"),
        ({"networks": {"generator": []}}, "network 'generator'"),
    ],
)
def test_malformed_network_sections_are_refused(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ProjectError, match=fragment):
        project_from_json(gan(**changes))


def test_recipe_problems_name_the_setting() -> None:
    data = gan()
    data["recipe"]["loss"] = "magic"
    data["recipe"]["discriminator"] = {"optimizer": {"name": "adam", "lr": -1}}
    params = {p.param for p in project_problems(project_from_json(data)).errors}
    assert params == {"recipe.loss", "recipe.discriminator.optimizer.lr"}
    data = gan()
    data["recipe"]["kind"] = "diffusion"
    assert [p.param for p in project_problems(project_from_json(data)).errors] == ["recipe.kind"]


def test_check_prints_both_networks(tmp_path: Path) -> None:
    path = tmp_path / "gan.netwright.json"
    path.write_text(json.dumps(gan()))
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "app", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "tiny-gan / generator" in result.stdout and "tiny-gan / discriminator" in result.stdout
