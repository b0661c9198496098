"""The decision-regions view: what a classifier predicts over 2-D and 3-D data."""

from __future__ import annotations

import numpy as np
import pytest

from app.regions_view import RegionsView, class_ids


class NearestCentre:
    """A tiny classifier: each point gets the class of the nearest class centre."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.centres = np.stack([x[y == k].mean(axis=0) for k in np.unique(y)])
        self.calls = 0

    def __call__(self, points: np.ndarray) -> np.ndarray:
        self.calls += 1
        distances = ((points[:, None, :] - self.centres[None]) ** 2).sum(axis=2)
        return distances.argmin(axis=1)


@pytest.fixture
def view(qtbot):
    made = RegionsView(resolution=60)
    qtbot.addWidget(made)
    made.resize(400, 360)
    made.show()
    return made


def blobs(dim: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.eye(3, dim) * 4.0
    x = np.concatenate([c + rng.normal(0, 0.5, (50, dim)) for c in centres])
    return x.astype(np.float32), np.repeat(np.arange(3), 50)


def test_2d_regions_colour_the_grid_by_the_predicted_class(view):
    x, y = blobs(2)
    predict = NearestCentre(x, y)
    view.set_data(x, y)
    view.set_predict(predict)
    assert view.regions.shape == (60, 60)
    assert set(np.unique(view.regions)) == {0, 1, 2}
    assert not view.slice_row.isVisibleTo(view)
    assert view.near_slice_count() == len(x)  # every point drawn solid
    # the cell under each class centre shows that class
    bounds = view._bounds
    for k, centre in enumerate(predict.centres):
        col = round((centre[0] - bounds[0, 0]) / (bounds[0, 1] - bounds[0, 0]) * 59)
        row = round((centre[1] - bounds[1, 0]) / (bounds[1, 1] - bounds[1, 0]) * 59)
        assert view.regions[row, col] == k
    picture = view.grab().toImage()
    assert not picture.isNull() and picture.width() == 400


def test_3d_data_shows_a_slice_that_the_slider_moves(view):
    x, y = blobs(3)  # class 2 sits high on the third axis
    view.set_data(x, y)
    view.set_predict(NearestCentre(x, y))
    assert view.slice_row.isVisibleTo(view)
    assert view.shown_axes() == (0, 1)
    view.set_slice(float(x[:, 2].min()))
    low_slice = set(np.unique(view.regions))
    view.set_slice(float(x[:, 2].max()))
    assert 2 not in low_slice
    assert (view.regions == 2).mean() > 0.5  # high up, most of the slice is class 2
    assert 0 < view.near_slice_count() < len(x)  # only the points near the slice stand out
    assert "x₃ =" in view.slice_label.text()


def test_slicing_across_another_axis_shows_the_other_two(view):
    x, y = blobs(3)
    view.set_data(x, y)
    view.set_predict(NearestCentre(x, y))
    view.set_slice_axis(0)
    assert view.shown_axes() == (1, 2)
    assert view.regions.shape == (60, 60)


def test_scores_are_read_as_their_best_class_and_bad_data_is_refused(view):
    assert list(class_ids(np.array([[0.1, 0.9], [2.0, -1.0]]))) == [1, 0]
    with pytest.raises(ValueError, match="2-D or 3-D"):
        view.set_data(np.zeros((5, 4)), np.zeros(5))


def test_without_a_classifier_only_the_data_is_drawn(view):
    x, y = blobs(2)
    view.set_data(x, y)
    assert view.regions is None
    assert len(view.points.data) == len(x)
