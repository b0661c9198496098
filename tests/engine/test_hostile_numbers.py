"""Absurd sizes in a project file are problems with a message, never an overflow crash."""

from __future__ import annotations

import json

import pytest

from engine.analysis import analyse
from engine.cli import main
from engine.project import ProjectError, project_from_json
from engine.resources import example


def perceptron_with(node: int, name: str, value: object) -> dict:
    data = json.loads(example("perceptron").path.read_text())
    data["graph"]["nodes"][node]["params"][name] = value
    return data


@pytest.mark.parametrize("value", [10**400, 10**30, 1e308, -1e308, 2.0**60])
def test_a_size_too_large_for_any_machine_is_named_not_crashed_on(value):
    analysis = analyse(project_from_json(perceptron_with(1, "out_features", value)).graph)
    problems = [str(d) for d in analysis.errors]
    assert any("'out_features' is far too large" in p and "linear" in p for p in problems)


def test_an_input_shape_of_huge_whole_numbers_is_refused(tmp_path):
    analysis = analyse(project_from_json(perceptron_with(0, "shape", [2**62, 10**300])).graph)
    assert any("'shape' is far too large" in str(d) for d in analysis.errors)


def test_check_reports_it_with_exit_1_and_no_traceback(tmp_path, capsys):
    path = tmp_path / "hostile.netwright.json"
    path.write_text(json.dumps(perceptron_with(1, "out_features", 10**400)))
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert "far too large" in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


def test_ordinary_whole_numbers_written_as_floats_still_work():
    analysis = analyse(project_from_json(perceptron_with(1, "out_features", 3.0)).graph)
    assert analysis.ok


@pytest.mark.parametrize("position", [[10**400, 0], [0, -(10**30)], [1e308, 1.0]])
def test_a_position_too_large_to_be_a_float_is_refused_with_a_message(position):
    data = json.loads(example("perceptron").path.read_text())
    data["graph"]["nodes"][0]["position"] = position
    with pytest.raises(ProjectError, match=r'"position" must be two numbers'):
        project_from_json(data)
