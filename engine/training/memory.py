"""Running out of memory mid-training becomes a clear message, and the memory is given back.

A CUDA out-of-memory error (or the CPU allocator's "can't allocate memory")
inside the loop is turned into `OutOfMemory`, whose message names the batch
size and suggests half of it; the cached GPU memory is released first, so the
application that called `fit` keeps working and can try again.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import torch

_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory")


class OutOfMemory(RuntimeError):
    """Training needed more memory than the device has; the message says what to try."""

    def __init__(self, message: str, batch_size: int) -> None:
        super().__init__(message)
        self.batch_size = batch_size


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and any(m in str(error).lower() for m in _MARKERS)


def release_memory(device: torch.device) -> None:
    """Drop Python references' garbage and give cached device memory back to the driver."""
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


@contextlib.contextmanager
def out_of_memory_guard(device: torch.device, batch_size: int) -> Iterator[None]:
    try:
        yield
    except (torch.OutOfMemoryError, RuntimeError) as error:
        if not is_out_of_memory(error):
            raise
        release_memory(device)
        smaller = max(1, batch_size // 2)
        where = "the GPU" if device.type == "cuda" else str(device)
        raise OutOfMemory(
            f"{where} ran out of memory training with batch size {batch_size}; "
            f"try a batch size of {smaller} (training.batch_size or --batch-size), or a smaller network",
            batch_size,
        ) from None
