"""User data files: CSV, NPZ, image folders and IDX, and a clear message for every malformed one."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data import DataError, DataSpec, load_spec, parse_spec
from engine.data.files import load_csv, load_npz
from engine.data.images import load_idx, load_image_folder


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- CSV -------------------------------------------------------------------------------------
def test_csv_with_text_labels_maps_them_to_classes_in_sorted_order(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "a,b,kind\n1,2,cat\n3,4,dog\n5,6,cat\n")
    data = load_csv(path)
    assert data.x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.y is not None and data.y.tolist() == [0, 1, 0]
    assert data.class_names == ("cat", "dog")


def test_csv_target_column_can_be_chosen_by_name(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "label,a,b\n1,0.5,2\n0,1.5,3\n")
    data = load_csv(path, target_column="label")
    assert data.x.tolist() == [[0.5, 2], [1.5, 3]]
    assert data.y is not None and data.y.tolist() == [1, 0]


def test_csv_regression_targets_stay_real_numbers(tmp_path: Path) -> None:
    data = load_csv(write(tmp_path / "f.csv", "a,price\n1,2.5\n2,3.25\n"), classification=False)
    assert (
        data.y is not None and data.y.dtype == np.float32 and data.y[:, 0].tolist() == [2.5, 3.25]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,y\n1,x,0\n", "line 2, column 'b': 'x' is not a number"),
        ("a,b,y\n1,2,0\n1,,1\n", "line 3, column 'b': missing value"),
        ("a,b,y\n1,2,0\n1,2\n", "line 3 has 2 values but the header names 3"),
        ("1,2,0\n3,4,1\n", "first line should be a header"),
        ("a,b,y\n", "no data rows"),
        ("", "the file is empty"),
        ("a,b,y\n1,2,\n", "the target is missing"),
    ],
)
def test_malformed_csv_files_say_where_and_what(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=message) as error:
        load_csv(path)
    assert str(path) in str(error.value)


def test_csv_unknown_target_column_lists_the_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="the columns are a, y"):
        load_csv(write(tmp_path / "f.csv", "a,y\n1,0\n"), target_column="label")


def test_a_binary_file_is_not_taken_for_csv(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        load_csv(path)


# --- NPZ -------------------------------------------------------------------------------------
def test_npz_arrays_load_with_integer_labels_as_classes(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.arange(12, dtype=np.float64).reshape(3, 4), y=np.array([2, 0, 1]))
    data = load_npz(path)
    assert data.x.dtype == np.float32 and data.sample_shape == (4,)
    assert data.y is not None and data.y.tolist() == [2, 0, 1] and data.classes == 3


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((3, 2))}, "needs arrays named 'x' and 'y'; it holds x"),
        ({"x": np.zeros((3, 2)), "y": np.zeros(2)}, "'x' has 3 samples but 'y' has 2"),
        ({"x": np.array([[np.nan, 1.0]]), "y": np.zeros(1)}, "missing \\(NaN\\) or infinite"),
        ({"x": np.zeros(3), "y": np.zeros(3)}, "one row per sample"),
    ],
)
def test_malformed_npz_files_say_what_is_wrong(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        load_npz(path)


def test_npz_with_python_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.array([{"a": 1}, {"b": 2}], dtype=object), y=np.zeros(2))
    with pytest.raises(DataError, match="Python objects"):
        load_npz(path)


def test_a_file_that_is_not_npz_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "d.npz", "hello")
    with pytest.raises(DataError, match="not a readable NumPy"):
        load_npz(path)


# --- image folders ---------------------------------------------------------------------------
def image_folder(root: Path, per_class: int = 2) -> Path:
    for name, shade in (("cats", 30), ("dogs", 220)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (12, 10), (shade, shade, shade)).save(root / name / f"{i}.png")
    return root


def test_image_folders_become_classes_and_images_are_resized_to_the_input(tmp_path: Path) -> None:
    data = load_image_folder(image_folder(tmp_path / "pics"), (1, 8, 6))
    assert data.x.shape == (4, 1, 8, 6) and data.class_names == ("cats", "dogs")
    assert data.y is not None and data.y.tolist() == [0, 0, 1, 1]
    assert data.x[0].max() < 0.2 < 0.8 < data.x[3].min()
    rgb = load_image_folder(tmp_path / "pics", (3, 4, 4))
    assert rgb.x.shape == (4, 3, 4, 4)


def test_an_empty_class_folder_is_named(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "pics")
    (root / "birds").mkdir()
    with pytest.raises(DataError, match="'birds' holds no images"):
        load_image_folder(root, (1, 8, 8))


def test_an_unreadable_image_is_named(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "pics")
    (root / "cats" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"broken.png: cannot be read as an image"):
        load_image_folder(root, (1, 8, 8))


def test_images_need_an_image_shaped_input(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="channels x height x width") as error:
        load_image_folder(image_folder(tmp_path / "pics"), (64,))
    assert error.value.code == 1


def test_a_folder_without_class_folders_is_refused(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path / "flat", (1, 8, 8))


# --- IDX -------------------------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_idx_images_and_labels_load_gzipped_or_not(tmp_path: Path) -> None:
    pixels = np.arange(3 * 4 * 5).reshape(3, 4, 5) % 256
    (tmp_path / "img.gz").write_bytes(gzip.compress(idx_bytes(pixels)))
    (tmp_path / "lab").write_bytes(idx_bytes(np.array([1, 0, 2])))
    data = load_idx(tmp_path / "img.gz", tmp_path / "lab")
    assert data.x.shape == (3, 4, 5) and data.x.max() <= 1.0
    assert data.y is not None and data.y.tolist() == [1, 0, 2] and data.classes == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not idx", "not an IDX file"),
        (idx_bytes(np.zeros((3, 4, 5)))[:-7], "truncated or damaged"),
        (b"\x1f\x8b\x08garbage", "damaged gzip"),
    ],
)
def test_broken_idx_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "img").write_bytes(content)
    (tmp_path / "lab").write_bytes(idx_bytes(np.zeros(3)))
    with pytest.raises(DataError, match=message):
        load_idx(tmp_path / "img", tmp_path / "lab")


def test_idx_image_and_label_counts_must_match(tmp_path: Path) -> None:
    (tmp_path / "img").write_bytes(idx_bytes(np.zeros((3, 2, 2))))
    (tmp_path / "lab").write_bytes(idx_bytes(np.zeros(4)))
    with pytest.raises(DataError, match=r"3 images but .* 4 labels"):
        load_idx(tmp_path / "img", tmp_path / "lab")


# --- specs -----------------------------------------------------------------------------------
def test_specs_name_their_kind_and_resolve_paths_beside_the_project(tmp_path: Path) -> None:
    assert parse_spec("builtin:digits") == DataSpec("builtin", name="digits")
    assert parse_spec("csv:data/f.csv", tmp_path).paths == (tmp_path / "data" / "f.csv",)
    assert parse_spec("idx:a.gz, b.gz", tmp_path).paths == (tmp_path / "a.gz", tmp_path / "b.gz")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("digits", "not a data set spec"),
        ("parquet:x.parquet", "unknown kind of data 'parquet'"),
        ("builtin:mnist", "no bundled data set named 'mnist'"),
        ("idx:only-one", "idx needs two files"),
        ("csv:", "names no data set or file"),
    ],
)
def test_bad_specs_say_what_to_write(spec: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_spec(spec)


def test_load_spec_reads_each_kind(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "a,b,y\n1,2,0\n3,4,1\n")
    assert load_spec(parse_spec(f"csv:{path}")).samples == 2
    assert load_spec(parse_spec("builtin:iris")).sample_shape == (4,)
