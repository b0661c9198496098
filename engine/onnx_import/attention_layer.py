"""A recognised self-attention subgraph -> a checked MultiheadAttention layer.

The subgraph `attention.py` found is run alone in onnxruntime and compared with
torch's ``MultiheadAttention`` holding the weights found, at two batch sizes;
the size of its attention scores gives the number of heads. Only a subgraph
that computes the same becomes a layer; any other is refused with the difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.onnx_import.attention import FUSED_OP, AttentionMatch, Projection
from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.ops import converter, tensor
from engine.onnx_import.values import Value

_TOLERANCE = 1e-4  # relative to the outputs' size; float32 rounding is ~1e-7


@converter(FUSED_OP)
def self_attention(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    match = ctx.recognised.get(node.output[0])
    if not isinstance(match, AttentionMatch):
        raise Unsupported("no layer computes it")
    x = tensor(ins[0])
    if len(x.shape) != 2:
        raise Unsupported(f"self-attention over a {len(x.shape)}-D sample has no layer")
    steps, width = x.shape
    in_weight = (
        match.q.weight
        if match.shared
        else np.concatenate([match.q.weight, match.k.weight, match.v.weight])
    )
    if in_weight.shape != (3 * width, width) or match.out.weight.shape != (width, width):
        raise Unsupported(
            f"its projections (q/k/v {in_weight.shape}, output {match.out.weight.shape}) do not "
            f"fit {width} features"
        )
    has_bias = any(p.bias is not None for p in (match.q, match.k, match.v, match.out))
    in_bias = (
        _bias(match.q, 3 * width)
        if match.shared
        else np.concatenate([_bias(p, width) for p in (match.q, match.k, match.v)])
    )
    batches = [ctx.fixed_batch] if ctx.fixed_batch else [2, 3]
    heads = _check(match, steps, width, batches, in_weight, in_bias, has_bias)
    weights: dict[str, np.ndarray | None] = {
        "attention.in_proj_weight": in_weight,
        "attention.out_proj.weight": match.out.weight,
    }
    if has_bias:
        weights["attention.in_proj_bias"] = in_bias
        weights["attention.out_proj.bias"] = _bias(match.out, width)
    params = {"num_heads": heads, "dropout": 0.0, "bias": has_bias}
    return [ctx.add_layer("MultiheadAttention", params, [x], weights)]


def _bias(projection: Projection, size: int) -> np.ndarray:
    if projection.bias is None:
        return np.zeros(size, dtype=np.float32)
    if projection.bias.shape != (size,):
        raise Unsupported(f"a projection bias has shape {projection.bias.shape}, not ({size},)")
    return projection.bias


def _check(
    match: AttentionMatch,
    steps: int,
    width: int,
    batches: list[int],
    in_weight: np.ndarray,
    in_bias: np.ndarray,
    has_bias: bool,
) -> int:
    """The number of heads, once the subgraph is known to compute torch's self-attention."""
    import torch

    session = _session(match, steps, width)
    rng = np.random.default_rng(0)
    heads = 0
    for batch in batches:
        x = rng.standard_normal((batch, steps, width)).astype(np.float32)
        try:
            expected, scores = session.run([match.y, match.scores], {match.x: x})
        except Exception as error:  # onnxruntime raises its own kinds
            raise Unsupported(f"its attention subgraph does not run alone ({error})") from None
        heads = scores.size // (batch * steps * steps)
        if heads < 1 or heads * batch * steps * steps != scores.size or width % heads:
            raise Unsupported(f"its attention scores {scores.shape} are not one per head and step")
        layer = torch.nn.MultiheadAttention(width, heads, bias=has_bias, batch_first=True)
        state = {"in_proj_weight": in_weight, "out_proj.weight": match.out.weight}
        if has_bias:
            state |= {"in_proj_bias": in_bias, "out_proj.bias": _bias(match.out, width)}
        layer.load_state_dict(
            {k: torch.from_numpy(np.array(v, np.float32)) for k, v in state.items()}
        )
        with torch.no_grad():
            got = layer.eval()(*(torch.from_numpy(x),) * 3, need_weights=False)[0].numpy()
        difference = float(np.abs(got - expected).max()) if got.shape == expected.shape else np.inf
        if not difference <= _TOLERANCE * max(1.0, float(np.abs(expected).max())):
            raise Unsupported(
                "the attention found here computes something else than MultiheadAttention "
                f"(a mask, another scale or head layout; largest difference {difference:.3g})"
            )
    return heads


def _session(match: AttentionMatch, steps: int, width: int) -> Any:
    """The subgraph from `x` to `y` as a model of its own, in onnxruntime."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from engine.onnx_import.memory import too_big

    problem = too_big(sum(array.nbytes for array in match.initializers.values()) * 2)
    if problem is not None:
        raise Unsupported(f"checking its attention alone takes {problem}")
    graph = helper.make_graph(
        match.nodes,
        "attention",
        [helper.make_tensor_value_info(match.x, TensorProto.FLOAT, ["batch", steps, width])],
        [
            helper.make_tensor_value_info(match.y, TensorProto.FLOAT, None),
            helper.make_tensor_value_info(match.scores, TensorProto.FLOAT, None),
        ],
        initializer=[numpy_helper.from_array(a, name) for name, a in match.initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", match.opset)])
    model.ir_version = match.ir_version
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own kinds
        raise Unsupported(f"its attention subgraph does not run alone ({error})") from None
