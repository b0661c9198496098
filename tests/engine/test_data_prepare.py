"""Fitting data to a network: shapes, targets, split, scaling, and the checks `netwright check` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.analysis import analyse
from engine.data import (
    DataError,
    DataSet,
    InMemoryBatches,
    apply_scaling,
    dataset_problems,
    load_training_data,
    network_io,
    prepare_data,
    scaling_affine,
    split_indices,
)
from engine.problems import project_problems
from engine.project import Project, load_project, project_from_json
from engine.resources import EXAMPLES
from engine.settings import TrainingSettings


def project(input_params: dict[str, Any], out_features: int = 3, **sections: Any) -> Project:
    nodes = [
        {"id": "input", "type": "Input", "params": input_params},
        {"id": "flat", "type": "Flatten", "params": {}},
        {"id": "head", "type": "Linear", "params": {"out_features": out_features}},
        {"id": "output", "type": "Output", "params": {}},
    ]
    chain = ["input", "flat", "head", "output"]
    edges = [{"source": {"node": a}, "target": {"node": b}} for a, b in zip(chain, chain[1:])]
    data = {
        "format": "netwright-project",
        "version": 1,
        "name": "t",
        "graph": {"nodes": nodes, "edges": edges},
    }
    data.update(sections)
    return project_from_json(data)


def prepare(p: Project, data: DataSet, **settings: Any) -> Any:
    analysis = analyse(p.graph)
    assert analysis.ok, analysis.errors
    chosen = TrainingSettings.from_json({**p.training, **settings})
    return prepare_data(data, network_io(analysis), chosen, p.dataset)


def grid(count: int = 20, values: int = 4, classes: int = 2) -> DataSet:
    x = np.arange(count * values, dtype=np.float32).reshape(count, values)
    y = np.arange(count) % classes
    return DataSet("grid", x, y.astype(np.int64), tuple(str(i) for i in range(classes)))


@pytest.mark.parametrize("shape", [[64], [8, 8], [1, 8, 8]])
def test_digits_fit_any_input_shape_with_64_values(shape: list[int]) -> None:
    p = project({"shape": shape}, 10, dataset={"source": "builtin:digits"})
    data = load_training_data(p, TrainingSettings(), analyse(p.graph))
    assert tuple(data.train_x.shape[1:]) == tuple(shape)
    assert data.train_samples + data.val_samples == 1797
    assert data.class_names == tuple(str(i) for i in range(10))


def test_a_shape_mismatch_names_the_data_and_the_input_node() -> None:
    p = project({"shape": [1, 28, 28]}, 10, dataset={"source": "builtin:digits"})
    with pytest.raises(DataError) as error:
        load_training_data(p, TrainingSettings(), analyse(p.graph))
    message = str(error.value)
    assert "digits" in message and "'input'" in message and "1x28x28 = 784" in message
    assert error.value.code == 1


def test_labels_beyond_the_output_say_how_many_classes_to_give() -> None:
    with pytest.raises(DataError, match=r"labels go up to 4 \(5 classes\).*out_features=5"):
        prepare(project({"shape": [4]}, 3), grid(classes=5))


def test_the_split_is_reproducible_from_the_seed_and_stratified() -> None:
    labels = np.array([0] * 50 + [1] * 50)
    train, val = split_indices(100, 0.2, seed=7, labels=labels)
    again_train, again_val = split_indices(100, 0.2, seed=7, labels=labels)
    np.testing.assert_array_equal(val, again_val)
    np.testing.assert_array_equal(train, again_train)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    assert (labels[val] == 0).sum() == (labels[val] == 1).sum() == 10
    assert not np.array_equal(split_indices(100, 0.2, seed=8, labels=labels)[1], val)


def test_standard_scaling_is_fitted_on_the_training_part_and_recorded() -> None:
    p = project({"shape": [4]}, 2)
    data = prepare(p, grid(40), seed=3)
    assert data.scaling["method"] == "standard" and data.scaling["per"] == "feature"
    assert data.train_x.mean(dim=0).abs().max() < 1e-4
    assert torch.allclose(data.train_x.std(dim=0, unbiased=False), torch.ones(4), atol=1e-4)
    offset, scale = scaling_affine(data.scaling, (4,))
    raw = grid(40).x
    assert np.allclose(apply_scaling(raw, data.scaling), (raw - offset) / scale)


def test_minmax_scaling_maps_the_training_data_onto_0_to_1() -> None:
    data = prepare(project({"shape": [4]}, 2, dataset={"scaling": "minmax"}), grid(40))
    assert (
        data.train_x.min() >= 0 and data.train_x.max() <= 1 and data.scaling["method"] == "minmax"
    )


def test_images_scale_per_channel() -> None:
    x = np.random.default_rng(0).normal(5, 2, (30, 3, 4, 4)).astype(np.float32)
    data = prepare(
        project({"shape": [3, 4, 4]}, 2), DataSet("img", x, np.arange(30) % 2, ("a", "b"))
    )
    assert data.scaling["per"] == "channel" and len(data.scaling["offset"]) == 3


def test_an_autoencoder_learns_its_own_scaled_input() -> None:
    p = project({"shape": [4]}, 4, dataset={"target": "input", "scaling": "minmax"})
    data = prepare(p, grid(10), loss="mse")
    assert torch.equal(data.train_x, data.train_y) and not data.classification


def test_regression_targets_must_fit_the_output() -> None:
    values = DataSet("vals", grid().x, np.ones((20, 2), dtype=np.float32))
    with pytest.raises(DataError, match="each target holds 2 value"):
        prepare(project({"shape": [4]}, 3), values, loss="mse")


def test_token_ids_beyond_the_embedding_are_caught() -> None:
    p = project_from_json(load_project(EXAMPLES / "transformer-marker.netwright.json").to_json())
    for node in p.graph:
        if node.type == "Embedding":
            node.params["num_embeddings"] = 10
    with pytest.raises(DataError, match=r"token ids run from 0 to 11.*'embed'.*at least 12"):
        load_training_data(p, TrainingSettings(), analyse(p.graph))


def test_in_memory_batches_cover_every_sample_once_per_epoch_and_shard_by_rank() -> None:
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    batches = InMemoryBatches(x, y, 4, seed=1)
    seen = torch.cat([yb for _, yb in batches.epoch(0)])
    assert sorted(seen.tolist()) == list(range(10)) and len(batches) == 3
    assert torch.equal(batches.order(0), InMemoryBatches(x, y, 4, seed=1).order(0))
    assert not torch.equal(batches.order(0), batches.order(1))
    shares = [InMemoryBatches(x, y, 3, seed=1, rank=r, world_size=2).order(0) for r in (0, 1)]
    assert sorted(torch.cat(shares).tolist()) == list(range(10))


def test_a_last_batch_of_one_sample_is_left_out_for_batch_norm() -> None:
    batches = InMemoryBatches(torch.zeros(9, 1), torch.zeros(9), 4)
    assert [len(yb) for _, yb in batches.epoch(0)] == [4, 4] and len(batches) == 2


def test_check_reports_data_set_mistakes_on_the_dataset_source(tmp_path: Path) -> None:
    p = project({"shape": [4]}, 3, dataset={"source": "builtin:nope"})
    problems = dataset_problems(p)
    assert [d.param for d in problems] == ["dataset.source"]
    assert "no bundled data set named 'nope'" in problems[0].message
    missing = project({"shape": [4]}, 3, dataset={"source": "csv:absent.csv", "scaling": "zscore"})
    missing.path = tmp_path / "p.netwright.json"
    found = {d.param: d.message for d in project_problems(missing).problems}
    assert "no such file" in found["dataset.source"] and str(tmp_path) in found["dataset.source"]
    assert "unknown scaling 'zscore'" in found["dataset.scaling"]


def test_every_bundled_example_passes_the_data_checks() -> None:
    for path in sorted(EXAMPLES.glob("*.netwright.json")):
        assert dataset_problems(load_project(path)) == [], path.name
