"""`netwright search`: dimensions from the settings table and layer parameters, trials recorded
as runs, the best printed last, pruning, and several processes finishing one study."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_train_cli import ROOT, moons_project

from engine.cli import run
from engine.experiments.dimensions import DimensionError, candidates, parse_dimension
from engine.experiments.search import Search, run_trial
from engine.project import load_project
from engine.resources import example


def test_dimensions_read_settings_by_their_short_names_and_layer_parameters() -> None:
    project = load_project(example("digits-cnn").path)
    lr = parse_dimension("lr=1e-4..1e-2:log", project)
    assert (lr.setting, lr.kind, lr.low, lr.high, lr.log) == (
        "optimizer.lr",
        "float",
        1e-4,
        1e-2,
        True,
    )
    batch = parse_dimension("batch_size=32,64,128", project)
    assert batch.kind == "choice" and batch.choices == (32, 64, 128)
    optimizer = parse_dimension("optimizer=adam,sgd", project)
    assert optimizer.setting == "optimizer.name" and optimizer.choices == ("adam", "sgd")
    width = parse_dimension("conv1.out_channels=8..64", project)
    assert (width.node, width.param, width.kind) == ("conv1", "out_channels", "int")
    assert width.current(project) == 32 and lr.current(project) == 0.001
    offered = {d.name for d in candidates(project)}
    assert {"lr", "batch_size", "weight_decay", "conv1.out_channels", "dropout.p"} <= offered


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("lr", "write NAME=LOW..HIGH"),
        ("speed=1..2", "neither a training setting nor a layer parameter"),
        ("lr=0..1:log", "a log scale needs a range above 0"),
        ("lr=1e-2..1e-4", "the range must grow"),
        ("batch_size=0..64", "batch size must be a whole number from 1"),
        ("optimizer=adam,lbfgs", "unknown name 'lbfgs'"),
        ("conv1.colour=1..2", "layer 'conv1' (Conv2d) has no parameter 'colour'"),
        ("dropout.p=0.1..1.5", "'p' must be at most 0.99"),
        ("input.shape=1..3", "a list of numbers"),
        ("lr=1e-4..1e-2:ln", "':ln' is not a scale"),
    ],
)
def test_a_dimension_that_cannot_be_searched_is_refused_naming_it(spec: str, words: str) -> None:
    project = load_project(example("digits-cnn").path)
    with pytest.raises(DimensionError) as refused:
        parse_dimension(spec, project)
    assert words in str(refused.value)


def test_a_search_prints_each_trial_and_the_best_last_and_records_every_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    code = run(
        [
            "search",
            str(project),
            "--trials",
            "3",
            "--param",
            "lr=1e-3..1e-1:log",
            "--param",
            "hidden.out_features=4..32",
            "--seed",
            "1",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    trials = [line for line in lines if line.startswith("trial")]
    assert len(trials) == 3
    assert "lr=0.01 hidden.out_features=16" in trials[0]  # the project's own settings first
    best = next(line for line in lines if line.startswith("best: trial"))
    assert lines.index(best) > lines.index(trials[-1])
    assert any(line.startswith("repeat it: netwright train") and "--lr" in line for line in lines)
    assert run(["runs", str(project), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in runs] == ["trial 0", "trial 1", "trial 2"]
    assert all(r["source"] == "search" and r["trial"]["study"] == "moons-search" for r in runs)


def test_search_json_is_one_object_a_line_ending_with_the_best(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path, epochs=1)
    assert (
        run(
            [
                "search",
                str(project),
                "--trials",
                "2",
                "--param",
                "batch_size=16,64",
                "--json",
                "--no-record",
            ]
        )
        == 0
    )
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in events] == ["study", "trial", "trial", "best"]
    assert events[-1]["best"]["params"]["batch_size"] in (16, 64)
    assert not (tmp_path / "moons.runs").exists()


def test_bad_search_options_exit_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    assert run(["search", str(project), "--trials", "2", "--param", "lr=1..0"]) == 2
    err = capsys.readouterr().err
    assert "the range must grow" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exited:
        run(["search", str(project), "--trials", "0", "--param", "lr=1e-3..1e-1"])
    assert exited.value.code == 2
    gan = example("gan-2d").path
    assert run(["search", str(gan), "--trials", "1", "--param", "lr=1e-4..1e-3"]) == 1


def test_a_hopeless_trial_is_pruned_at_the_median(tmp_path: Path) -> None:
    project = load_project(moons_project(tmp_path, epochs=6, early_stopping=None))
    dimension = parse_dimension("lr=1e-6,0.01", project)
    search = Search(project, [dimension], trials=6, seed=0, baseline=False)
    outcomes = []
    while (setup := search.next_trial()) is not None:
        outcomes.append(run_trial(search, setup).outcome)
    states = {(o.params["lr"], o.state) for o in outcomes}
    assert (1e-6, "pruned") in states  # a rate that learns nothing stops before its 6 epochs
    assert search.best() is not None and search.best().params["lr"] == 0.01


def test_two_processes_sharing_one_sqlite_storage_finish_one_study_between_them(
    tmp_path: Path,
) -> None:
    project = moons_project(tmp_path, epochs=8, early_stopping=None)
    storage = tmp_path / "study.db"
    command = [
        sys.executable, "-m", "engine", "search", str(project), "--trials", "8",
        "--param", "lr=1e-3..1e-1:log", "--param", "hidden.out_features=4..64",
        "--storage", f"sqlite:///{storage}", "--study", "shared", "--json", "--no-record",
    ]  # fmt: skip
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=280) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _out, err in outputs]
    numbers = [
        [e["number"] for e in map(json.loads, out.splitlines()) if e["event"] == "trial"]
        for out, _err in outputs
    ]
    assert sorted(numbers[0] + numbers[1]) == list(range(8))  # every trial once, none twice
    assert numbers[0] and numbers[1]  # and both processes took some
    import optuna

    from engine.experiments.search import OVER_BUDGET

    study = optuna.load_study(study_name="shared", storage=f"sqlite:///{storage}")
    run = [t for t in study.trials if OVER_BUDGET not in t.user_attrs]
    assert len(run) == 8  # a slot both asked for at once is marked, never trained


def test_the_learning_rate_finder_prints_a_rate_and_trains_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = moons_project(tmp_path)
    assert run(["train", str(project), "--find-lr"]) == 0
    out = capsys.readouterr().out
    assert "suggested learning rate" in out and "--lr" in out
    assert not (tmp_path / "moons.safetensors").exists()
    assert not (tmp_path / "moons.runs").exists()


def test_the_range_test_puts_every_weight_back(tmp_path: Path) -> None:
    import torch

    from engine.experiments.lr_finder import find_lr
    from engine.training import plan_training

    plan = plan_training(load_project(example("digits-cnn").path))
    before = {k: v.clone() for k, v in plan.model.state_dict().items()}
    found = find_lr(plan, steps=60)
    assert 1e-7 <= (found.suggestion or 0) <= 10 and len(found.losses) <= 60
    after = plan.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # batch-norm statistics too
