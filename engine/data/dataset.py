"""A data set in memory, before it meets a network: samples, targets and class names.

Every loader (bundled, CSV, NPZ, image folder, IDX) returns a `DataSet`; the
preparation step (`engine.data.prepare`) then fits it to one network's Input
and Output. Loaders raise `DataError` for anything unusable, with a message
naming the file (or data set) and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class DataError(ValueError):
    """Data that cannot be used; `code` is the CLI exit code (2 unreadable, 1 unusable as asked)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class DataSet:
    """Samples `x` (N, *shape) and targets `y`: class ids (N,) int64, values (N, ...) float32, or None.

    `y` is None only for data without targets (an autoencoder's target is its input).
    `class_names[i]` names class id i; None for regression targets. `validation` marks the
    samples held out for validation when the data itself decides (text: the end of each
    file); None lets the training settings draw the split.
    """

    name: str
    x: np.ndarray
    y: np.ndarray | None
    class_names: tuple[str, ...] | None = None
    description: str = ""
    validation: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.y is not None and len(self.y) != len(self.x):
            raise DataError(
                f"{self.name}: {len(self.x)} samples but {len(self.y)} targets; they must match"
            )
        if self.validation is not None and len(self.validation) != len(self.x):
            raise DataError(f"{self.name}: the validation mask does not match the samples")

    @property
    def samples(self) -> int:
        return len(self.x)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def is_tokens(self) -> bool:
        """Integer samples, such as token ids for an Embedding."""
        import numpy as np

        return bool(np.issubdtype(self.x.dtype, np.integer))

    @property
    def classes(self) -> int | None:
        return len(self.class_names) if self.class_names is not None else None
