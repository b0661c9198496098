"""The one error ONNX import raises for anything a user can act on."""

from __future__ import annotations


class OnnxImportError(ValueError):
    """A file that cannot be imported; `code` is the CLI exit code (2 unreadable, 1 unsupported)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code
