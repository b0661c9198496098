"""Atomic file writes: a crash or kill at any moment leaves the previous file whole.

Write to a temporary file in the same folder, flush and fsync it, then rename
it over the target (atomic on POSIX and Windows), then fsync the folder so the
rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


class WriteError(OSError):
    """A file that could not be written, said plainly (disk full, file too large, no
    permission); the previous file is whole. Writers that raise their own kind of error for a
    failed write (safetensors) are translated into this."""


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target` atomically.

    For writers that insist on a file name (torch.onnx.export, safetensors).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        os.close(handle)
    except OSError as error:
        raise WriteError(f"{target}: cannot be written ({_cause(error)})") from None
    temp = Path(temp_name)
    try:
        yield temp
        with open(temp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temp, target)
        _fsync_dir(target.parent)
    except WriteError:
        raise
    except OSError as error:  # disk full, file too large, the folder gone: the old file stays
        raise WriteError(f"{target}: cannot be written ({_cause(error)})") from None
    finally:
        temp.unlink(missing_ok=True)


def _cause(error: OSError) -> str:
    return error.strerror or str(error)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as temp, open(temp, "wb") as out:
        out.write(data)
        out.flush()


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_with(target: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """Let `write(path)` produce the file, then move it into place atomically."""
    with atomic_path(target) as temp:
        write(temp)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
