"""The work list of issue 14's next phase: which real-model cases do not import yet, and why.

Each entry is an expected failure of tests/engine/test_import_real_models.py, grouped by
the operator or layer feature that is missing. `fragments` are the words of the refusal
the case must fail with (every refused operator of the file among them), so a fix shows
as a strict XPASS to remove here, and a regression as a failure. `reason` is what a
person reads in the test report. SLOW lists the cases that take more than a few seconds;
`make test` leaves them out and `make test-models` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gap:
    reason: str
    fragments: tuple[str, ...]


KNOWN_GAPS: dict[str, Gap] = {}


def gap(reason: str, fragments: tuple[str, ...], *cases: str) -> None:
    for case in cases:
        assert case not in KNOWN_GAPS, case
        KNOWN_GAPS[case] = Gap(reason, fragments)


PC, PO = "pytorch-converted", "pytorch-operator"

# ------------------------------------------------------------------ model shape, not operators
gap(
    "an input of one axis: Netwright reads the first axis of every input as the batch, so a "
    "sample of it would have no axis at all (the file computes on whole vectors, not batches)",
    ("has 1 axes; Netwright reads the first axis of every input as the batch",),
    *(
        f"{PO}/test_operator_{n}"
        for n in (
            "add_broadcast",
            "add_size1_right_broadcast",
            "addmm",
            "basic",
            "chunk",
            "symbolic_override_nested",
            "view",
        )
    ),
)
gap(
    "inputs of different batch sizes (2 and 1, 2 and 3): the file combines tensors that are "
    "not batches of samples (a matrix product, a broadcast across the first axis)",
    ("the inputs have different batch sizes",),
    f"{PO}/test_operator_add_size1_singleton_broadcast",
    f"{PO}/test_operator_mm",
)
gap(
    "the reference input is uninitialised float64 memory (values up to 9e223), beyond float32: "
    "Netwright computes in float32, where those values are infinite",
    ("NaN or infinity in other places",),
    f"{PO}/test_operator_addconstant",
)
gap(
    "integer arithmetic: an int64 input plus an int64 parameter (Netwright's arithmetic layers "
    "compute in float32)",
    ("Add: arithmetic on token ids has no layer",),
    f"{PO}/test_operator_non_float_params",
)
gap(
    "a parameter with one value per sample of a fixed batch of 2 (2x2 added to a 2x2 input): "
    "a Netwright network takes any batch size",
    ("Add: its constant operand of shape [2, 2] differs from sample to sample",),
    f"{PO}/test_operator_params",
)
gap(
    "a constant with one row per sample of a fixed batch of 10 (the loss's targets, 10x10)",
    ("Mul: its constant operand of shape [10, 10] differs from sample to sample",),
    f"{PC}/test_PoissonNLLLLoss_no_reduce",
)
gap(
    "x[0] of a batch: a Slice and Squeeze of the batch axis itself",
    ("Slice: it cuts the batch axis",),
    f"{PO}/test_operator_index",
)

# ------------------------------------------------------------------ torchvision and transformers
TS, DY = "torchvision-torchscript", "torchvision-dynamo"
HF_TS, HF_DY = "transformers-torchscript", "transformers-dynamo"
gap(
    "Swin's shifted-window attention: attention with a relative-position bias and a mask, "
    "the mask built from Mod, Range, Equal, Where, ScatterND and Not over the window grid "
    "(refused there, before its attention is checked against MultiheadAttention)",
    (
        "Mul: it computes with the batch size",
        "Mod: no layer computes it",
        "ConstantOfShape: no layer computes it",
        "Range: no layer computes it",
        "Equal: no layer computes it",
        "Where: no layer computes it",
        "ScatterND: no layer computes it",
        "Not: no layer computes it",
    ),
    f"{TS}/swin_t",
)
gap(
    "Swin's window partition, reshaping windows into the batch axis (refused first, so its "
    "shifted-window attention, with a relative-position bias, is never reached)",
    ("Reshape: it reshapes across the batch axis",),
    f"{DY}/swin_t",
)
gap(
    "not Netwright's: torch's TorchScript exporter cannot write GPT-2 (aten::diff in "
    "transformers' causal-mask code, opset 17)",
    ("Exporting the operator 'aten::diff' to ONNX",),
    f"{HF_TS}/gpt2",
)

# more than a few seconds each on a 2-core machine (measured with --durations)
SLOW: set[str] = {
    "light/bvlc_alexnet",
    "light/densenet121",
    "light/resnet50",
    "light/vgg19",
    "light/zfnet512",
    *(
        f"{TS}/{n}"
        for n in (
            "alexnet",
            "convnext_tiny",
            "densenet121",
            "resnet18",
            "swin_t",
            "vgg19",
            "vit_b_16",
        )
    ),
    *(
        f"{DY}/{n}"
        for n in (
            "alexnet",
            "convnext_tiny",
            "densenet121",
            "efficientnet_b0",
            "mobilenet_v2",
            "mobilenet_v3_small",
            "regnet_y_400mf",
            "resnet18",
            "shufflenet_v2_x0_5",
            "squeezenet1_1",
            "swin_t",
            "vgg19",
            "vit_b_16",
        )
    ),
    f"{HF_TS}/bert",
    f"{HF_DY}/bert",
    f"{HF_DY}/gpt2",
}
