"""Names for a network's input features, so a bar chart of attributions reads in the user's words.

The bundled tabular data sets come from scikit-learn's CSV files, which carry
no feature names; their names are the published ones, listed here. A CSV file
names its columns in its header. Anything else is numbered (x0, x1, ...).
"""

from __future__ import annotations

import csv
from pathlib import Path

IRIS = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
_MEASURES = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
)
BREAST_CANCER = tuple(
    f"{kind} {measure}" for kind in ("mean", "error", "worst") for measure in _MEASURES
)
WINE = (
    "alcohol",
    "malic acid",
    "ash",
    "alcalinity of ash",
    "magnesium",
    "total phenols",
    "flavanoids",
    "nonflavanoid phenols",
    "proanthocyanins",
    "colour intensity",
    "hue",
    "od280/od315 of diluted wines",
    "proline",
)
BUILTIN = {"iris": IRIS, "breast-cancer": BREAST_CANCER, "wine": WINE}


def feature_names(
    source: str | None, count: int, base: Path | None = None, target_column: object = None
) -> tuple[str, ...]:
    """`count` names for the features of the data `source` names (a dataset spec)."""
    kind, _, rest = (source or "").partition(":")
    found: tuple[str, ...] | None = None
    if kind == "builtin":
        found = BUILTIN.get(rest)
    elif kind == "csv":
        found = _csv_header(Path(rest) if base is None else base / rest, target_column)
    if found is not None and len(found) == count:
        return found
    return tuple(f"x{i}" for i in range(count))


def _csv_header(path: Path, target_column: object) -> tuple[str, ...] | None:
    """The header's names less the target column (the last one unless the project names one)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = [cell.strip() for cell in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError):
        return None
    if len(header) < 2:
        return None
    if isinstance(target_column, str) and target_column in header:
        target = header.index(target_column)
    elif isinstance(target_column, int) and -len(header) <= target_column < len(header):
        target = target_column % len(header)
    else:
        target = len(header) - 1
    return tuple(name for i, name in enumerate(header) if i != target)
