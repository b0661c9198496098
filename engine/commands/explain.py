"""`netwright explain PROJECT --sample N --method M`: why the network answered as it did.

Loads the network with its trained weights as export does (``--weights``, else
``NAME.safetensors`` beside the project, else the seed's initial weights, which
it says), takes validation sample N exactly as training split and scaled it,
and explains the answer for the predicted class or ``--target``. Prints a few
plain lines, or with ``--json`` one object (CONTRACT.md); ``--out`` draws it.
Exit 2 for a method, layer, sample or target the network has not, naming what
it has. A layer inside a block use is named by its path through the uses
(``--layer block1.conv1``), as its weights are.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

METHOD_NAMES = ("saliency", "integrated_gradients", "occlusion", "gradcam", "attention")
MOST = 5  # the inputs that counted most, listed in the plain output


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "explain",
        help="why the network answered as it did for one validation sample",
        description=(
            "Attributions for one validation sample (saliency, integrated gradients, occlusion, "
            "Grad-CAM on a conv layer) or an attention layer's weights, for the predicted class "
            "or --target."
        ),
    )
    parser.add_argument("project", type=Path)
    parser.add_argument("--weights", type=Path, metavar="W", help="a .safetensors file to use")
    parser.add_argument(
        "--sample", type=int, required=True, metavar="N", help="the validation sample, from 0"
    )
    parser.add_argument(
        "--method", required=True, metavar="M", help=f"one of: {', '.join(METHOD_NAMES)}"
    )
    parser.add_argument(
        "--layer",
        metavar="NODE",
        help=(
            "gradcam: a conv layer; attention: an attention layer; "
            "inside a block use by its path, such as block1.conv1"
        ),
    )
    parser.add_argument(
        "--target", type=int, metavar="CLASS", help="the class to explain (default: predicted)"
    )
    parser.add_argument("--out", type=Path, metavar="FILE.png", help="draw it into a PNG file")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError

    if args.method not in METHOD_NAMES:  # before loading anything: a typo is answered at once
        raise UserError(f"--method {args.method!r} is not one of: {', '.join(METHOD_NAMES)}")
    from engine.explain.methods import explain, finite
    from engine.explain.subject import ExplainError, load_subject
    from engine.project import load_project

    project = load_project(args.project)
    try:
        subject = load_subject(project, args.weights)
        found = explain(subject, args.method, args.sample, layer=args.layer, target=args.target)
    except ExplainError as error:
        raise UserError(f"{args.project}: {error}", code=error.code) from None
    if not finite(found):
        raise UserError(
            f"{args.project}: the network's outputs are not numbers (NaN or infinite) for sample "
            f"{args.sample}; its weights are unusable, train it again",
            code=1,
        )
    if args.out is not None:
        from engine.explain.picture import save_picture

        save_picture(found, subject, args.out)
    if args.json:
        data = found.to_json()
        data["weights"] = subject.weights
        print(json.dumps(data))
        if args.out is not None:
            print(f"wrote {args.out}", file=sys.stderr)
        return 0
    for line in summary(found, subject):
        print(line)
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


def summary(found: Any, subject: Any) -> list[str]:
    """A few lines a person reads: the answer, then what counted."""
    sample = f"validation sample {found.sample}"
    if found.truth is not None:
        sample += f" (true class {subject.class_name(found.truth)})"
    lines = [f"{subject.project.name}, {sample}"]
    if found.probabilities is not None:
        lines.append(
            f"predicted {found.prediction_name} ({found.probabilities[found.prediction]:.1%}); "
            f"explaining {found.target_name} ({found.probabilities[found.target]:.1%})"
        )
    else:
        lines.append(f"output {found.target}: {float(found.scores[found.target]):.4g}")
    if found.method == "attention":
        lines.extend(_attention_lines(found, subject))
    else:
        lines.extend(_attribution_lines(found, subject))
    lines.append(f"weights: {subject.weights}")
    return lines


def _attribution_lines(found: Any, subject: Any) -> list[str]:
    import numpy as np

    lines: list[str] = []
    if found.method == "integrated_gradients":
        lines.append(
            f"integrated gradients: the shares add up to {float(found.attributions.sum()):.4g} "
            f"of the output's change {found.output_change:.4g} from an all-zero input "
            f"(convergence delta {found.convergence_delta:.2g}, {found.steps} steps)"
        )
    if found.method == "gradcam":
        shape = "x".join(map(str, found.attributions.shape))
        lines.append(f"Grad-CAM on {found.layer}: a {shape} map (--json or --out to see it)")
        return lines
    values = np.asarray(found.attributions, np.float64)
    names = _input_names(subject, values.shape, found.sample)
    order = np.argsort(-np.abs(values.ravel()))[:MOST]
    lines.append(f"{found.method.replace('_', ' ')}: the inputs that counted most")
    for index in order:
        lines.append(f"  {names(int(index))}: {values.ravel()[index]:+.4g}")
    return lines


def _input_names(subject: Any, shape: tuple[int, ...], found_sample: int | None) -> Any:
    """How a person names input number i: a feature, a pixel, a position."""
    import numpy as np

    if subject.tokens and found_sample is not None:
        tokens = subject.sample(found_sample)[0].tolist()
        return lambda i: f"position {i} (token {tokens[i]})"
    if subject.tokens:
        return lambda i: f"position {i}"
    if len(shape) == 1:
        features = subject.feature_names()
        return lambda i: features[i]
    if len(shape) == 3:

        def pixel(i: int) -> str:
            channel, row, column = np.unravel_index(i, shape)
            where = f"row {row}, column {column}"
            return where if shape[0] == 1 else f"channel {channel}, {where}"

        return pixel
    return lambda i: "value " + ",".join(map(str, np.unravel_index(i, shape)))


def _attention_lines(found: Any, subject: Any) -> list[str]:
    import numpy as np

    weights = found.attention
    received = weights.mean(axis=1)  # heads x keys: attention each key gets, over the queries
    lines = [f"attention in {found.layer}: {len(weights)} heads, {weights.shape[1]} queries"]
    tokens = subject.sample(found.sample)[0].tolist() if found.sample is not None else None
    for head, row in enumerate(received):
        key = int(np.argmax(row))
        token = f", token {tokens[key]}" if tokens is not None and subject.tokens else ""
        lines.append(
            f"  head {head + 1}: most attention on position {key}{token} ({row[key]:.0%} of it)"
        )
    return lines
