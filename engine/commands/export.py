"""`netwright export PROJECT --onnx OUT.onnx | --python OUT.py`: take the network elsewhere."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from engine.export.options import (
        DEFAULT_EXPORTER,
        EXPORTERS,
        PRECISIONS,
        QUANTIZE_FORMS,
        default_opset,
    )

    parser = sub.add_parser(
        "export",
        help="write the network as an ONNX file or a standalone PyTorch module",
        description=(
            "Export a project's network with its trained weights (the project's NAME.safetensors "
            "when there is one, else the seed's initial weights)."
        ),
    )
    parser.add_argument("project", type=Path)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--onnx", type=Path, metavar="OUT.onnx", help="write an ONNX file")
    target.add_argument("--python", type=Path, metavar="OUT.py", help="write PyTorch code")
    parser.add_argument(
        "--weights", type=Path, metavar="W", help="a .safetensors file to export instead"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="run the ONNX file in onnxruntime and print the largest difference from torch",
    )
    parser.add_argument(
        "--opset",
        type=int,
        default=None,
        metavar="N",
        help=(
            f"ONNX opset version (default {default_opset('torchscript')}; "
            f"{default_opset('dynamo')} with the dynamo exporter)"
        ),
    )
    parser.add_argument(
        "--exporter",
        choices=EXPORTERS,
        default=DEFAULT_EXPORTER,
        help=(
            f"torch's ONNX exporter (default {DEFAULT_EXPORTER}): torchscript is fast (a "
            "tenth of a second where dynamo takes seconds) and falls back to dynamo when it "
            "fails; dynamo is torch's torch.export-based one, opset 18 and newer"
        ),
    )
    parser.add_argument(
        "--quantize",
        choices=QUANTIZE_FORMS,
        default=None,
        help=(
            "write an int8 file: static quantization calibrated on the project's training data "
            "(dynamic for recurrent, attention and text networks); prints its size, validation "
            "accuracy (or loss) and CPU latency beside float32's"
        ),
    )
    parser.add_argument(
        "--calibration",
        type=int,
        default=None,
        metavar="N",
        help="training samples that calibrate --quantize int8 (default 256)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp16: half-precision weights and arithmetic, float32 inputs and outputs kept",
    )
    parser.add_argument(
        "--no-scaling",
        action="store_true",
        help=(
            "leave the fitted input scaling out of the file (it then reads samples scaled as "
            "training scaled them); by default the file reads raw samples"
        ),
    )
    parser.add_argument(
        "--check-deploy",
        action="store_true",
        help=(
            "report the opset, the operators used and whether onnxruntime and onnx's reference "
            "evaluator run the file"
        ),
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError
    from engine.export import ExportError, export_onnx, export_python
    from engine.export.options import DEFAULT_EXPORTER
    from engine.export.quantize import DEFAULT_CALIBRATION
    from engine.project import load_project

    if args.python is not None and args.verify:
        raise UserError("--verify applies to --onnx exports only")
    if args.python is not None and (args.opset is not None or args.exporter != DEFAULT_EXPORTER):
        raise UserError("--opset and --exporter apply to --onnx exports only")
    onnx_only = {
        "--quantize": args.quantize is not None,
        "--calibration": args.calibration is not None,
        "--precision": args.precision != "fp32",
        "--check-deploy": args.check_deploy,
    }
    if args.python is not None and any(onnx_only.values()):
        named = ", ".join(name for name, given in onnx_only.items() if given)
        raise UserError(f"{named} apply to --onnx exports only")
    if args.calibration is not None and args.quantize is None:
        raise UserError("--calibration N applies to --quantize int8 only")
    project = load_project(args.project)
    try:
        if args.onnx is not None:
            result = export_onnx(
                project,
                args.onnx,
                weights=args.weights,
                opset=args.opset,
                verify=args.verify,
                exporter=args.exporter,
                quantize=args.quantize,
                precision=args.precision,
                calibration=DEFAULT_CALIBRATION if args.calibration is None else args.calibration,
                scaling=not args.no_scaling,
                check_deploy=args.check_deploy,
            )
        else:
            result = export_python(
                project, args.python, weights=args.weights, scaling=not args.no_scaling
            )
    except ExportError as error:
        raise UserError(f"{args.project}: {error}", code=error.code) from None
    for line in result.summary_lines():
        print(line)
    return 0
