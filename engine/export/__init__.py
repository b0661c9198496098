"""Getting a designed network out of Netwright: a verified ONNX file or readable PyTorch code.

The GUI and the CLI call `export_onnx` and `export_python`; both return an
`ExportResult` the caller can show as it is (path, size, opset, difference),
and raise `ExportError` (with the CLI exit code) for anything the user can fix.
Names are imported lazily so that importing the package does not load torch.
"""

from __future__ import annotations

from engine.export.options import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET
from engine.lazy import lazy_names

_LAZY = {
    "ExportError": "engine.export.model",
    "ExportResult": "engine.export.model",
    "export_onnx": "engine.export.onnx_export",
    "export_python": "engine.export.python_export",
    "python_source": "engine.export.python_export",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "DEFAULT_OPSET",
    "MAX_OPSET",
    "MIN_OPSET",
    "ExportError",
    "ExportResult",
    "export_onnx",
    "export_python",
    "python_source",
]
