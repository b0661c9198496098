"""GAN projects end to end: the bundled examples, `netwright train`, weights, Ctrl+C, export."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from test_train_cli import ctrl_c_after_first_epoch

from engine.cli import run
from engine.compiler import compile_graph
from engine.data.dataset import DataError
from engine.export import export_onnx, export_python
from engine.export.python_export import class_name
from engine.project import load_project, project_from_json, save_project
from engine.resources import example
from engine.training import load_networks, plan_training, save_checkpoint
from engine.weights import load_weights
from tests.engine.test_export_python import load_exported
from tests.engine.test_multi_network import gan

ROOT = Path(__file__).resolve().parents[2]


def tiny_project(tmp_path: Path, epochs: int = 1, **dataset: Any) -> Path:
    """A tiny GAN on the ring, saved in `tmp_path`."""
    data = gan(recipe={"kind": "gan", "latent_size": 8, "samples": 16})
    data["dataset"] = {"source": "builtin:ring", **dataset}
    data["training"] = {"epochs": epochs, "batch_size": 256, "seed": 0, "device": "cpu"}
    path = tmp_path / "ring.netwright.json"
    path.write_text(json.dumps(data))
    return path


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("name", ["gan-2d", "gan-digits"])
def test_the_gan_examples_load_plan_and_save_both_networks(name: str, tmp_path: Path) -> None:
    found = example(name)
    assert found is not None and found.description
    project = load_project(found.path)
    assert list(project.networks) == ["generator", "discriminator"]
    copy = save_project(project, tmp_path / f"{name}.netwright.json")
    again = load_project(copy)
    assert again.to_json() == project.to_json()
    plan = plan_training(again)
    real = plan.data.real
    assert real.min() == pytest.approx(-1.0) and real.max() == pytest.approx(1.0)
    assert (plan.step.quality.modes is not None) == (name == "gan-2d")
    assert plan.step.samples().shape == (plan.step.recipe.samples, *real.shape[1:])


def test_gan_weights_go_to_one_file_holding_both_networks_and_load_back(tmp_path: Path) -> None:
    project = load_project(tiny_project(tmp_path))
    plan = plan_training(project)
    _, result = plan.run()
    saved = plan.save(tmp_path / "ring.safetensors", result)
    assert saved == project.weights_path()  # what export and --resume read
    keys = load_file(str(saved))
    assert {k.split(".")[0] for k in keys} == {"generator", "discriminator"}
    resumed = plan_training(load_project(project.path), weights=saved)
    for name, network in plan.networks.items():
        mine, theirs = network.state_dict(), resumed.networks[name].state_dict()
        assert all(torch.equal(mine[k], theirs[k]) for k in mine)


def test_weights_from_before_one_file_per_run_still_resume_and_export(tmp_path: Path) -> None:
    """Older versions wrote NAME.generator.safetensors and NAME.discriminator.safetensors."""
    project = load_project(tiny_project(tmp_path))
    plan = plan_training(project)
    for name, network in plan.networks.items():
        save_checkpoint(network, tmp_path / f"ring.{name}.safetensors")
    assert run(["train", str(project.path), "--resume"]) == 0
    assert (tmp_path / "ring.safetensors").is_file()
    (tmp_path / "ring.safetensors").unlink()
    result = export_onnx(project, tmp_path / "g.onnx")
    assert "ring.generator.safetensors" in result.weights


def test_data_that_does_not_fit_the_discriminator_is_refused_naming_its_input(
    tmp_path: Path,
) -> None:
    project = load_project(tiny_project(tmp_path))
    project.dataset["source"] = "builtin:digits"
    with pytest.raises(DataError, match="discriminator's Input 'sample'") as caught:
        plan_training(project)
    assert caught.value.code == 1


def test_train_runs_a_gan_with_progress_metrics_both_weights_and_a_samples_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tiny_project(tmp_path)
    metrics, picture = tmp_path / "m.jsonl", tmp_path / "samples.png"
    code = run(
        ["train", str(project), "--epochs", "1", "--metrics-out", str(metrics),
         "--samples-out", str(picture)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "epoch 1/1" in out and "d_loss" in out and "D(real)" in out and "modes" in out
    start, epoch, end = events(metrics)
    assert start["event"] == "start" and start["recipe"] == "gan" and start["world_size"] == 1
    assert {"g_loss", "d_loss", "d_real", "d_fake", "modes_covered", "warnings"} <= set(epoch)
    assert end["event"] == "end" and end["status"] == "completed" and end["epochs"] == 1
    networks = load_project(project).networks
    load_networks({n: compile_graph(g) for n, g in networks.items()}, tmp_path / "ring.safetensors")
    with Image.open(picture) as image:
        assert image.format == "PNG" and image.size[0] > 100


def test_weights_out_and_weights_name_the_same_file_for_a_gan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tiny_project(tmp_path)
    weights = tmp_path / "w" / "x.safetensors"
    assert run(["train", str(project), "--weights-out", str(weights)]) == 0
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["x.safetensors"]
    assert (
        run(["export", str(project), "--onnx", str(tmp_path / "g.onnx"), "--weights", str(weights)])
        == 0
    )
    assert f"trained weights from {weights}" in capsys.readouterr().out
    assert run(["train", str(project), "--weights-out", str(weights), "--resume"]) == 0


def test_samples_out_is_refused_for_a_single_network_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = gan()
    data["graph"] = data.pop("networks")["discriminator"]
    data.pop("recipe")
    path = tmp_path / "one.netwright.json"
    path.write_text(json.dumps(data))
    assert run(["train", str(path), "--samples-out", str(tmp_path / "x.png")]) == 2
    assert "GAN projects only" in capsys.readouterr().err


def test_a_gan_with_a_broken_join_is_refused_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(tiny_project(tmp_path).read_text())
    data["recipe"]["latent_size"] = 4
    path = tmp_path / "broken.netwright.json"
    path.write_text(json.dumps(data))
    assert run(["train", str(path)]) == 1
    assert "latent" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery to a child is POSIX-only here")
def test_ctrl_c_stops_a_gan_cleanly_and_saves_both_networks_whole(tmp_path: Path) -> None:
    project = tiny_project(tmp_path, epochs=100_000)
    metrics = tmp_path / "m.jsonl"
    returncode, out, err = ctrl_c_after_first_epoch(project, metrics)
    assert returncode == 0, err
    assert "Traceback" not in err and "stopped" in out
    assert events(metrics)[-1]["status"] == "stopped"
    loaded = load_project(project)
    networks = {name: compile_graph(graph) for name, graph in loaded.networks.items()}
    load_networks(networks, tmp_path / "ring.safetensors")


def test_the_trained_generator_exports_to_verified_onnx_and_to_python(tmp_path: Path) -> None:
    project_path = tiny_project(tmp_path)
    assert run(["train", str(project_path)]) == 0
    project = load_project(project_path)
    generator = compile_graph(project.graph).eval()
    load_weights(generator, tmp_path / "ring.safetensors", "generator")
    result = export_onnx(project, tmp_path / "g.onnx", verify=True)
    assert "ring.safetensors" in result.weights
    assert result.max_abs_difference is not None and result.max_abs_difference <= result.tolerance
    z = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: z.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, generator(z).numpy(), rtol=1e-4, atol=1e-5)
    python = export_python(project, tmp_path / "g.py")
    assert "ring.safetensors" in python.weights
    code = load_exported(tmp_path / "g.py")
    model = getattr(code, class_name(project.name))()
    model.load_state_dict(code.load_safetensors(str(tmp_path / "ring.safetensors"), "generator"))
    with torch.no_grad():
        np.testing.assert_allclose(model.eval()(z).numpy(), got, rtol=1e-4, atol=1e-5)


def test_the_untrained_gan_example_exports_its_generator(tmp_path: Path) -> None:
    found = example("gan-digits")
    assert found is not None
    project = project_from_json(json.loads(found.path.read_text()))
    result = export_onnx(project, tmp_path / "g.onnx", verify=True)
    assert "initial weights" in result.weights
    model = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    (output,) = model.get_outputs()
    assert output.shape[1:] == [1, 8, 8]


def test_a_gan_is_not_trained_under_torchrun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert run(["train", str(tiny_project(tmp_path))]) == 2
    assert "one process" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.safetensors"))


def test_symmetric_scaling_maps_the_whole_range_onto_minus_one_to_one_with_one_offset() -> None:
    from engine.data.scaling import apply_scaling, fit_scaling
    from engine.data.spec import dataset_problems

    x = np.stack([np.linspace(0, 16, 50), np.linspace(0, 4, 50)], axis=1).astype(np.float32)
    stats = fit_scaling("symmetric", x)
    assert stats == {"method": "symmetric", "per": "all", "offset": [8.0], "scale": [8.0]}
    scaled = apply_scaling(x, stats)
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    assert scaled[:, 1].max() == pytest.approx(-0.5)  # a narrower feature keeps its place
    project = project_from_json(
        {**gan(), "dataset": {"source": "builtin:ring", "scaling": "symmetric"}}
    )
    assert dataset_problems(project) == []
