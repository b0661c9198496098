"""`netwright import MODEL.onnx -o PROJECT`: an ONNX model as an editable project."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "import",
        help="turn an ONNX model into an editable project, laid out, weights kept",
        description=(
            "Map the model's operators to Netwright layers, fold constants into weights, fold the "
            "exporter's module scopes into nested blocks (identical ones share a definition; "
            "--flat keeps one flat graph), lay the graph out and write PROJECT plus NAME.safetensors beside it. Existing files are "
            "never overwritten."
        ),
    )
    parser.add_argument("model", type=Path, metavar="MODEL.onnx")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="PROJECT", help="project file to create"
    )
    parser.add_argument(
        "--flat",
        action="store_true",
        help="one flat graph of layers, instead of blocks along the file's module scopes",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError
    from engine.onnx_import import OnnxImportError, import_onnx

    try:
        result = import_onnx(args.model, args.output, flat=args.flat)
    except OnnxImportError as error:
        raise UserError(str(error), code=error.code) from None
    for line in result.summary_lines():
        print(line)
    return 0
