"""Old files in: models older than the opsets the converters are written for are upgraded first.

Many files people have (the onnx package's own PyTorch test models, early model
zoo exports) are opset 6 or older. Rather than teach every converter every old
spelling, onnx's own version converter rewrites them to the oldest opset the
converters read (the IR version moves with it, as the checker requires). What
the version converter cannot upgrade is refused naming the operator and the
opset, so the user knows which part of the file is the problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.onnx_import.errors import OnnxImportError

OLDEST_OPSET = 7  # the converters read opset 7 and newer; older files are upgraded to this


def default_opset(model: Any) -> int:
    """The opset of the default ONNX domain the file declares (0 when it declares none)."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def upgrade(model: Any, path: Path) -> Any:
    """`model` itself when its opset is new enough, else the model upgraded to OLDEST_OPSET."""
    import onnx
    from onnx import version_converter

    opset = default_opset(model)
    if opset >= OLDEST_OPSET:
        return model
    if opset == 0:
        raise OnnxImportError(
            f"{path}: the file declares no opset of the standard ONNX operators", code=2
        )
    try:
        upgraded = version_converter.convert_version(model, OLDEST_OPSET)
    except Exception as error:  # onnx raises RuntimeError or its own assertion types
        raise OnnxImportError(_refusal(model, path, opset, error)) from None
    upgraded.ir_version = max(
        upgraded.ir_version, onnx.helper.find_min_ir_version_for(list(upgraded.opset_import))
    )
    try:
        onnx.checker.check_model(upgraded)
    except onnx.checker.ValidationError as error:
        raise OnnxImportError(
            f"{path}: opset {opset} upgraded to opset {OLDEST_OPSET} is not a valid model "
            f"({str(error).strip().splitlines()[0][:200]}); re-export it with a newer opset"
        ) from None
    return upgraded


# what onnx's version converter says when it fails, and where the operator's name is
_NAMED = (
    re.compile(r"No Adapter (?:From|To) Version \$(\d+) for (\w+)"),
    re.compile(r"No Previous Version of (\w+) exists"),
    re.compile(r"failed: (\w+) in opset version (\d+)"),
    re.compile(r"adapt_(\w+?)_\d+_\d+"),
)


def _refusal(model: Any, path: Path, opset: int, error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    detail = text.split("failed:", 1)[-1].strip()[:200].rstrip(".")
    operator = _operator_named(model, text)
    what = f"its operator '{operator}' (opset {opset})" if operator else "one of its operators"
    return (
        f"{path}: the file is opset {opset}, older than Netwright reads ({OLDEST_OPSET} and newer), "
        f"and onnx's version converter cannot upgrade {what}: {detail}. "
        "Re-export the model with a newer opset"
    )


def _operator_named(model: Any, text: str) -> str | None:
    """The operator the converter's message names, checked against the file's own operators."""
    present = {node.op_type.lower(): node.op_type for node in model.graph.node}
    for pattern in _NAMED:
        match = pattern.search(text)
        if match is None:
            continue
        for group in match.groups():
            if group.lower() in present:
                return present[group.lower()]
    return None
