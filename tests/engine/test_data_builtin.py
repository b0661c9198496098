"""Bundled data sets: each loads offline, with its shape, classes and the same samples every time."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli import run
from engine.data import BUILTINS, DataError, DataSet, load_builtin
from engine.data.synthetic import MARKER


@pytest.mark.parametrize("name", [n for n, entry in BUILTINS.items() if not entry.text])
def test_every_bundled_data_set_loads_with_its_declared_shape_and_classes(name: str) -> None:
    entry = BUILTINS[name]
    data = load_builtin(name)
    assert isinstance(data, DataSet)
    assert data.sample_shape == entry.shape
    assert data.samples >= 150
    assert data.y is not None and len(data.y) == data.samples
    if entry.classes is None:
        assert data.class_names is None and data.y.dtype == np.float32
    else:
        assert data.classes == entry.classes
        assert set(np.unique(data.y)) == set(range(entry.classes))


def test_generated_data_is_the_same_on_every_load() -> None:
    first, second = load_builtin("paper-ball"), load_builtin("paper-ball")
    np.testing.assert_array_equal(first.x, second.x)
    second.x[0] = 99  # callers get a copy: changing it leaves the bundled data alone
    assert load_builtin("paper-ball").x[0, 0] != 99


def test_marker_sequences_have_one_marker_followed_by_the_answer() -> None:
    data = load_builtin("marker")
    assert data.is_tokens and data.x.max() == 11 and data.x.min() == 0
    assert np.all((data.x == MARKER).sum(axis=1) == 1)
    where = np.argmax(data.x == MARKER, axis=1)
    np.testing.assert_array_equal(data.x[np.arange(data.samples), where + 1], data.y)
    assert len(np.unique(where)) == 15  # the marker moves around: no fixed position to read


def test_sine_targets_continue_the_window() -> None:
    data = load_builtin("sine")
    assert data.y is not None and data.y.shape == (data.samples, 1)
    steps = np.abs(np.diff(data.x[:, :, 0], axis=1)).max()
    assert np.abs(data.y[:, 0] - data.x[:, -1, 0]).max() < steps + 0.3


def test_an_unknown_name_lists_the_ones_there_are() -> None:
    with pytest.raises(DataError, match="digits, iris"):
        load_builtin("mnist")


def test_netwright_datasets_prints_one_line_per_data_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(BUILTINS)
    digits = next(line for line in lines if line.startswith("digits "))
    assert digits.split()[1:3] == ["8x8", "10"]
    assert next(line for line in lines if line.startswith("sine ")).split()[1:3] == ["24x1", "-"]
