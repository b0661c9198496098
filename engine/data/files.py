"""User data from CSV and NPZ files, read defensively: every problem names the file and the fix."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from engine.data.dataset import DataError, DataSet


def load_csv(
    path: Path, target_column: str | int | None = None, classification: bool = True
) -> DataSet:
    """A CSV file with a header row; the target is the last column unless `target_column` names one.

    Features must be numbers; class labels may be numbers or text (text labels
    become classes in sorted order).
    """
    rows = _read_rows(path)
    header, body = rows[0], rows[1:]
    if all(_is_number(cell) for cell in header):
        raise DataError(
            f"{path}: the first line should be a header naming the columns, but it holds only numbers; "
            "add a header line"
        )
    if not body:
        raise DataError(f"{path}: the file has a header but no data rows")
    target = _target_index(path, header, target_column)
    if len(header) < 2:
        raise DataError(f"{path}: needs at least one feature column besides the target column")
    features = [i for i in range(len(header)) if i != target]
    x = np.empty((len(body), len(features)), dtype=np.float32)
    labels: list[str] = []
    for row_number, row in enumerate(body):
        line = row_number + 2
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {line} has {len(row)} values but the header names {len(header)} columns"
            )
        for j, column in enumerate(features):
            x[row_number, j] = _number(path, line, header[column], row[column])
        label = row[target].strip()
        if not label:
            raise DataError(
                f"{path}: line {line}, column '{header[target]}': the target is missing; fill it in or remove the row"
            )
        labels.append(label)
    if classification:
        numeric = all(_is_number(label) for label in labels)
        raw = np.array([float(v) for v in labels]) if numeric else np.array(labels)
        y, names = class_ids(raw, str(path))
        return DataSet(str(path), x, y, names)
    values = np.array(
        [_number(path, i + 2, header[target], label) for i, label in enumerate(labels)],
        dtype=np.float32,
    )
    return DataSet(str(path), x, values[:, None], None)


def _read_rows(path: Path) -> list[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file; save it as UTF-8 CSV") from None
    except (OSError, csv.Error) as error:
        raise DataError(f"{path}: cannot be read as CSV ({error})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    return rows


def _target_index(path: Path, header: list[str], target: str | int | None) -> int:
    names = [h.strip() for h in header]
    if target is None:
        return len(header) - 1
    if isinstance(target, int) and not isinstance(target, bool):
        if -len(header) <= target < len(header):
            return target % len(header)
    elif isinstance(target, str) and target in names:
        return names.index(target)
    raise DataError(
        f"{path}: no column {target!r} for the target; the columns are " + ", ".join(names),
        code=1,
    )


def _is_number(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return value == value and abs(value) != float("inf")


def _number(path: Path, line: int, column: str, text: str) -> float:
    text = text.strip()
    if not text:
        raise DataError(
            f"{path}: line {line}, column '{column}': missing value; fill it in or remove the row"
        )
    if not _is_number(text):
        raise DataError(
            f"{path}: line {line}, column '{column}': {text[:40]!r} is not a number; features must be "
            "numeric (only the target column may hold text labels)"
        )
    return float(text)


def load_npz(path: Path, need_targets: bool = True) -> DataSet:
    """A NumPy archive holding `x` (samples) and `y` (targets); never unpickles anything."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not magic.startswith(b"PK"):
        raise DataError(f"{path}: not a readable NumPy .npz archive (save it with numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            if "x" not in keys or (need_targets and "y" not in keys):
                wanted = "'x' and 'y'" if need_targets else "'x'"
                raise DataError(
                    f"{path}: needs arrays named {wanted}; it holds "
                    + (", ".join(sorted(keys)) or "none")
                )
            x = archive["x"]
            y = archive["y"] if "y" in keys else None
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise DataError(
                f"{path}: holds Python objects, which Netwright never loads; save plain numeric arrays"
            ) from None
        raise DataError(f"{path}: not a readable NumPy .npz archive ({error})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path}: not a readable NumPy .npz archive ({error})") from None
    if x.dtype.kind not in "iufb" or (y is not None and y.dtype.kind not in "iufbUS"):
        raise DataError(f"{path}: 'x' must hold numbers (and 'y' numbers or text labels)")
    if x.ndim < 2:
        raise DataError(
            f"{path}: 'x' must have one row per sample (shape N x ...), found {x.shape}"
        )
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise DataError(f"{path}: 'x' holds missing (NaN) or infinite values; fill or remove them")
    if y is not None and len(y) != len(x):
        raise DataError(f"{path}: 'x' has {len(x)} samples but 'y' has {len(y)}; they must match")
    samples = x if x.dtype.kind in "iu" else x.astype(np.float32)
    if y is None:
        return DataSet(str(path), samples, None, None)
    if y.dtype.kind in "iubUS" and (y.ndim == 1 or y.shape[1:] == (1,)):
        ids, names = class_ids(y.reshape(len(y)), str(path))
        return DataSet(str(path), samples, ids, names)
    if not np.all(np.isfinite(y)):
        raise DataError(f"{path}: 'y' holds missing (NaN) or infinite values; fill or remove them")
    return DataSet(str(path), samples, y.astype(np.float32), None)


def class_ids(labels: np.ndarray, source: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels as class ids 0..K-1 and the class names.

    Whole numbers >= 0 are used as the class ids themselves (so label 3 is class 3,
    the way NPZ and IDX files mean it); anything else (text, negative or fractional
    numbers) is mapped to ids in sorted order.
    """
    if labels.dtype.kind in "iub" or (
        labels.dtype.kind == "f"
        and np.all(np.isfinite(labels))
        and np.all(labels == np.round(labels))
    ):
        ids = labels.astype(np.int64)
        if ids.size == 0 or ids.min() >= 0:
            top = int(ids.max()) + 1 if ids.size else 0
            return ids, tuple(str(i) for i in range(top))
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise DataError(f"{source}: some labels are missing or not finite numbers")
    names, ids = np.unique(labels.astype(str), return_inverse=True)
    return ids.astype(np.int64), tuple(str(n) for n in names)
