"""`netwright profile PROJECT [--device D] [--batch-size B] [--onnx] [--json]`: measured time per layer.

Runs the network for training on the device (engine.profiling) and prints each
layer's median forward and backward time per batch, the slowest first, with its
share of all the layers' time; `--onnx` times the exported file in onnxruntime
instead (forward only). `--json` prints one object (CONTRACT.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "profile",
        help="measure each layer's time per batch, forward and backward",
        description=(
            "Run the network on a device and time each layer per batch (median after warm-up), "
            "the slowest first; --onnx times the exported ONNX file in onnxruntime instead."
        ),
    )
    parser.add_argument("project", type=Path)
    parser.add_argument(
        "--device",
        default=None,
        metavar="D",
        help="auto, cpu, cuda, cuda:N or mps (default: the project's)",
    )
    parser.add_argument(
        "--batch-size", type=int, metavar="B", help="samples per batch (default: the project's)"
    )
    parser.add_argument(
        "--repeats", type=int, default=10, metavar="N", help="batches timed, after 3 warm-up ones"
    )
    parser.add_argument(
        "--onnx", action="store_true", help="time the exported ONNX file in onnxruntime (CPU)"
    )
    parser.add_argument("--weights", type=Path, metavar="W", help="--onnx: the weights to export")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError

    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {args.batch_size}")
    if args.repeats < 1:
        raise UserError(f"--repeats must be at least 1, not {args.repeats}")
    if args.onnx and args.device not in (None, "cpu", "auto"):
        raise UserError("--onnx profiles in onnxruntime on the CPU; leave out --device")
    if args.weights is not None and not args.onnx:
        raise UserError("--weights applies to --onnx only (times do not depend on the weights)")
    from engine.profiling import ProfileError, profile_onnx, profile_torch
    from engine.project import load_project

    project = load_project(args.project)
    device = args.device or str(project.training.get("device", "auto"))
    try:
        if args.onnx:
            found = profile_onnx(project, args.batch_size, args.repeats, weights=args.weights)
        else:
            found = profile_torch(project, device, args.batch_size, args.repeats)
    except ProfileError as error:
        raise UserError(f"{args.project}: {error}", code=error.code) from None
    if args.json:
        data = found.to_json()
        data["name"] = project.name
        print(json.dumps(data))
        return 0
    for line in table_lines(project.name, found):
        print(line)
    return 0


def table_lines(name: str, found: Any) -> list[str]:
    """The sorted table a person reads, and the totals under it."""
    timed = "forward" if found.backward_ms is None else "forward and backward"
    lines = [
        f"{name} in {found.runtime} on {found.device}, batch size {found.batch_size}: "
        f"median of {found.repeats} batches ({timed}) after warm-up"
    ]
    rows = [("layer", "type", "forward ms", "backward ms", "share")]
    for layer in found.layers:
        backward = "" if layer.backward_ms is None else f"{layer.backward_ms:.3f}"
        rows.append(
            (
                layer.node,
                layer.type,
                f"{layer.forward_ms:.3f}",
                backward,
                f"{100 * layer.share:.1f}%",
            )
        )
    backward_total = "" if found.backward_ms is None else f"{found.backward_ms:.3f}"
    rows.append(("all layers", "", f"{found.forward_ms:.3f}", backward_total, "100.0%"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        cells = [c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        lines.append(("  " + "  ".join(cells)).rstrip())
        if i == 0 or i == len(rows) - 2:
            lines.append("  " + "  ".join("-" * w for w in widths))
    whole = "a whole batch" if found.runtime != "torch" else "a whole training step"
    lines.append(
        f"  {whole} without the timing hooks: {found.step_ms:.3f} ms"
        if found.runtime == "torch"
        else f"  {whole} (onnxruntime's model_run): {found.step_ms:.3f} ms"
    )
    lines += [f"  note: {note}" for note in found.notes]
    return lines
