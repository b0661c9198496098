"""What an import refuses, said once for the whole file.

Two kinds of refusal read differently to a user. Some operators have no place in a
trainable layer graph at all (control flow, sequence and optional values, the ops
only a training run uses): those are refused for what they are. Every other operator
that does not convert is merely unmapped today; it is listed precisely (operator,
count, the first node names) so the gap can be closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

LISTED = 40  # kinds of refusal named in the one message

_CONTROL_FLOW = "control flow has no place in a layer graph (it runs the same way every time)"
_SEQUENCE = "sequence values have no place in a layer graph (every wire carries one tensor)"
_OPTIONAL = "optional values have no place in a layer graph (every wire carries one tensor)"
_TRAINING = "it belongs to a training run, not to the network (Netwright's training does this)"
_LOSS = "a training loss is not a layer (choose the loss in the project's training settings)"

NO_PLACE: dict[str, str] = {
    **dict.fromkeys(("If", "Loop", "Scan"), _CONTROL_FLOW),
    **dict.fromkeys(
        (
            "SequenceAt",
            "SequenceConstruct",
            "SequenceEmpty",
            "SequenceErase",
            "SequenceInsert",
            "SequenceLength",
            "SequenceMap",
            "SplitToSequence",
            "ConcatFromSequence",
        ),
        _SEQUENCE,
    ),
    **dict.fromkeys(("Optional", "OptionalGetElement", "OptionalHasElement"), _OPTIONAL),
    **dict.fromkeys(("SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"), _LOSS),
}
TRAINING_DOMAIN = "ai.onnx.preview.training"  # Gradient, Momentum, Adagrad, Adam


def no_place(node: Any) -> str | None:
    """Why `node` can never be a layer, or None when it merely has no layer yet."""
    if node.domain == TRAINING_DOMAIN:
        return _TRAINING
    if node.domain in ("", "ai.onnx"):
        return NO_PLACE.get(node.op_type)
    return None


def gap_message(path: Path, gaps: Mapping[str, list[str]], never: set[str]) -> str:
    """One message for every refusal: what can never be a layer first, then what has no
    layer yet, each with its count and the first node names."""
    count = sum(len(v) for v in gaps.values())
    ordered = [k for k in gaps if k in never] + [k for k in gaps if k not in never]
    lines = []
    for reason in ordered[:LISTED]:
        names = gaps[reason]
        shown = ", ".join(f"'{n}'" for n in names[:3]) + (
            f" and {len(names) - 3} more" if len(names) > 3 else ""
        )
        lines.append(f"  {reason} ({len(names)}x: {shown})")
    if len(ordered) > LISTED:
        lines.append(f"  ... and {len(ordered) - LISTED} more kinds")
    return (
        f"{path}: {count} operator(s) have no Netwright layer, so nothing was written:\n"
        + "\n".join(lines)
    )
