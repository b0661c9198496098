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
    "two or more inputs: a Netwright network has exactly one Input",
    ("the model has 2 inputs",),
    *(
        f"{PO}/test_operator_{n}"
        for n in (
            "add_broadcast",
            "add_size1_broadcast",
            "add_size1_right_broadcast",
            "add_size1_singleton_broadcast",
            "basic",
            "concat2",
            "max",
            "min",
            "mm",
            "pow",
        )
    ),
)
gap(
    "three inputs: a Netwright network has exactly one Input",
    ("the model has 3 inputs",),
    f"{PO}/test_operator_addmm",
    f"{PO}/test_operator_symbolic_override_nested",
)
gap(
    "a 1-D input without a batch axis: Netwright inputs have a batch axis",
    ("has 1 axes; Netwright needs a batch axis",),
    f"{PO}/test_operator_chunk",
    f"{PO}/test_operator_view",
)

# ------------------------------------------------------------------ element-wise math and constants
gap("Exp: no element-wise exp layer", ("Exp: no layer computes it",), f"{PO}/test_operator_exp")
gap("Sqrt: no element-wise sqrt layer", ("Sqrt: no layer computes it",), f"{PO}/test_operator_sqrt")
gap(
    "Neg: no element-wise negation layer (Softmin = Softmax(-x))",
    ("Neg: no layer computes it",),
    f"{PC}/test_Softmin",
)
gap(
    "Abs: no element-wise abs layer (Softsign = x / (1 + |x|), also a Div of two wires)",
    ("Abs: no layer computes it",),
    f"{PC}/test_Softsign",
)
gap(
    "Clip to [-0.5, 0.5]: only ReLU6 [0, 6] and ReLU [0, inf) bounds map (Hardtanh/Clip with "
    "any bounds)",
    ("Clip: clipping to [-0.5, 0.5] has no layer",),
    f"{PO}/test_operator_clip",
)
gap(
    "Add of a constant to the input itself: no layer before it to fold into (broadcasting "
    "arithmetic with a Constant)",
    ("Add: it applies a constant that cannot be folded into the layer before it",),
    f"{PO}/test_operator_addconstant",
    f"{PO}/test_operator_non_float_params",
)
gap(
    "Add of a learnable constant to the input (a Parameter), and Neg",
    (
        "Add: it applies a constant that cannot be folded into the layer before it",
        "Neg: no layer computes it",
    ),
    f"{PO}/test_operator_params",
)
gap(
    "Exp, and Mul of it by a constant: no exp layer, no constant arithmetic without a layer to "
    "fold into",
    ("Exp: no layer computes it", "Mul: it applies a constant that cannot be folded"),
    f"{PC}/test_PoissonNLLLLoss_no_reduce",
)

# ------------------------------------------------------------------ slicing, splitting, reductions
gap(
    "Split into two outputs: no Split/Chunk layer (GLU = Split, Sigmoid, Mul)",
    ("Split: no layer computes it",),
    f"{PC}/test_GLU",
    f"{PC}/test_GLU_dim",
)
gap(
    "Slice of a computed tensor: no Slice layer",
    ("Slice: no layer computes it",),
    f"{PO}/test_operator_index",
)
gap(
    "ReduceMean over one axis of a 3-axis sample: no mean over chosen axes",
    ("ReduceMean: this reduction (axes [2]) has no layer",),
    f"{PO}/test_operator_reduced_mean",
    f"{PO}/test_operator_reduced_mean_keepdim",
)
gap(
    "ReduceSum: no sum reduction layer",
    ("ReduceSum: no layer computes it",),
    f"{PO}/test_operator_reduced_sum",
    f"{PO}/test_operator_reduced_sum_keepdim",
)
gap(
    "Tile: no layer repeats a tensor",
    ("Tile: no layer computes it",),
    f"{PO}/test_operator_repeat",
    f"{PO}/test_operator_repeat_dim_overflow",
)

# ------------------------------------------------------------------ torchvision and transformers
TS, DY = "torchvision-torchscript", "torchvision-dynamo"
HF_TS, HF_DY = "transformers-torchscript", "transformers-dynamo"
gap(
    "HardSigmoid: no layer (MobileNetV3's squeeze-and-excitation gate)",
    ("HardSigmoid: no layer computes it",),
    f"{TS}/mobilenet_v3_small",
    f"{DY}/mobilenet_v3_small",
)
gap(
    "squeeze-and-excitation: Mul of a 32x1x1 gate by a 32x32x32 map; Multiply does not broadcast",
    ("Mul: maps to Multiply, but Multiply needs inputs of the same shape, but gets 32x1x1",),
    f"{TS}/efficientnet_b0",
    f"{DY}/efficientnet_b0",
)
gap(
    "squeeze-and-excitation: Mul of a 48x1x1 gate by a 48x16x16 map; Multiply does not broadcast",
    ("Mul: maps to Multiply, but Multiply needs inputs of the same shape, but gets 48x1x1",),
    f"{TS}/regnet_y_400mf",
    f"{DY}/regnet_y_400mf",
)
gap(
    "ConvNeXt's layer scale: Mul by a learnable 96x1x1 tensor after a Permute, with no layer "
    "to fold it into (needs a Parameter and a broadcasting Multiply)",
    ("Mul: it applies a constant that cannot be folded into the layer before it",),
    f"{TS}/convnext_tiny",
    f"{DY}/convnext_tiny",
)
gap(
    "ShuffleNetV2's channel split, written as two Slices: no Slice layer",
    ("Slice: no layer computes it",),
    f"{TS}/shufflenet_v2_x0_5",
)
gap(
    "ShuffleNetV2's channel split, written as Split: no Split/Chunk layer with several outputs",
    ("Split: no layer computes it",),
    f"{DY}/shufflenet_v2_x0_5",
)
gap(
    "ViT's class token expanded to the batch (Shape, ConstantOfShape, Equal, Where, Expand) "
    "and concatenated before the patches: needs a Parameter layer and batch-sized Expand",
    (
        "Reshape: it computes with the batch size",
        "ConstantOfShape: no layer computes it",
        "Equal: no layer computes it",
        "Where: no layer computes it",
        "Expand: no layer computes it",
    ),
    f"{TS}/vit_b_16",
)
gap(
    "ViT's class token: Concat of a learnable 1x768 tensor before the patches; needs a "
    "Parameter layer",
    ("Concat: its inputs must be computed from the network's input",),
    f"{DY}/vit_b_16",
)
gap(
    "Swin's shifted-window attention: attention with a relative-position bias and a mask, "
    "the mask built from Mod, Range, Equal, Where, ScatterND, Not, Pow and Expand over the "
    "window grid",
    (
        "Softmax: attention that is not self-attention of one input",
        "Mul: it computes with the batch size",
        "Mod: no layer computes it",
        "ConstantOfShape: no layer computes it",
        "Pow: no layer computes it",
        "Expand: no layer computes it",
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
    "BERT's embeddings: token-type ids, a buffer expanded to the batch (Shape, "
    "ConstantOfShape, Equal, Where, Expand); needs a Constant layer and batch-sized Expand",
    (
        "Reshape: it computes with the batch size",
        "ConstantOfShape: no layer computes it",
        "Equal: no layer computes it",
        "Where: no layer computes it",
        "Expand: no layer computes it",
    ),
    f"{HF_TS}/bert",
)
gap(
    "BERT: the position and token-type embeddings added as a constant with no layer to fold "
    "into (needs a Constant layer and a broadcasting Add); its attention, masked with an "
    "IsNaN/Where guard, imports",
    ("Add: it applies a constant that cannot be folded into the layer before it",),
    f"{HF_DY}/bert",
)
gap(
    "GPT-2: the tanh GELU (Pow), and position embeddings added as a constant; its causal "
    "self-attention (fused q/k/v projection Split into three, IsNaN/Where guard) imports",
    (
        "Add: it applies a constant that cannot be folded into the layer before it",
        "Pow: no layer computes it",
    ),
    f"{HF_DY}/gpt2",
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
