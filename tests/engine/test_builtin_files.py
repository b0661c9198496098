"""The real bundled data sets read scikit-learn's files directly, identical to its loaders."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sklearn.datasets

from engine.data.builtin import load_builtin


@pytest.mark.parametrize(
    ("name", "loader"),
    [
        ("digits", sklearn.datasets.load_digits),
        ("iris", sklearn.datasets.load_iris),
        ("wine", sklearn.datasets.load_wine),
        ("breast-cancer", sklearn.datasets.load_breast_cancer),
    ],
)
def test_same_samples_targets_and_class_names_as_scikit_learn(name: str, loader) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = load_builtin(name), loader()
    assert np.array_equal(ours.x.reshape(len(ours.x), -1), theirs.data.astype(np.float32))
    assert np.array_equal(ours.y, theirs.target)
    assert ours.class_names == tuple(str(n) for n in theirs.target_names)


def test_loading_digits_does_not_import_scikit_learn() -> None:
    """Importing sklearn took seconds; the designer's Data panel previews digits as it opens."""
    code = "import sys; from engine.data.builtin import load_builtin; load_builtin('digits'); print('sklearn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr
