"""A recognised self-attention subgraph -> a checked MultiheadAttention layer.

The subgraph `attention.py` found is run alone in onnxruntime and compared with
the MultiheadAttention layer's own module holding the weights found, at two
batch sizes; the size of its attention scores gives the number of heads. A
subgraph with a mask is compared with the layer plain, then causal; one whose
mask reads the token ids, with the layer blind to each padding id the mask
compares them with. Only a subgraph that computes the same as one of them
becomes a layer; any other is refused with the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    padding = None
    if match.padding is not None:
        padding = tensor(ins[1], "padding mask")
        if padding.shape != (steps,):
            raise Unsupported(f"its key-padding mask reads {padding.shape}, not one value per step")
    state = _state(in_weight, in_bias, match.out, width, has_bias)
    heads, masks = _check(match, steps, width, batches, state, has_bias)
    weights: dict[str, np.ndarray | None] = {f"attention.{k}": v for k, v in state.items()}
    params: dict[str, Any] = {"num_heads": heads, "dropout": 0.0, "bias": has_bias}
    if masks.causal:
        params["causal"] = True
    if padding is not None:
        params["padding_id"] = masks.padding_id
    inputs = [x] if padding is None else [x, padding]
    return [ctx.add_layer("MultiheadAttention", params, inputs, weights)]


@dataclass(frozen=True)
class _Masks:
    """One way the layer can mask: what a subgraph is compared with."""

    causal: bool = False
    padding_id: int | None = None  # None: no key-padding input


def _candidates(match: AttentionMatch) -> list[_Masks]:
    if match.padding is not None:
        ids = [int(i) for i in match.padding_ids if float(i).is_integer() and i >= 0] or [0]
        return [_Masks(causal, i) for causal in (False, True) for i in ids]
    return [_Masks(), _Masks(causal=True)] if match.masked else [_Masks()]


def _state(
    in_weight: np.ndarray,
    in_bias: np.ndarray,
    out: Projection,
    width: int,
    has_bias: bool,
) -> dict[str, np.ndarray]:
    """torch's MultiheadAttention weights, by its names."""
    state = {"in_proj_weight": in_weight, "out_proj.weight": out.weight}
    if has_bias:
        state |= {"in_proj_bias": in_bias, "out_proj.bias": _bias(out, width)}
    return state


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
    state: dict[str, np.ndarray],
    has_bias: bool,
) -> tuple[int, _Masks]:
    """The number of heads and the masks, once the subgraph is known to compute what the
    MultiheadAttention layer computes with them."""
    session = _session(match, steps, width)
    rng = np.random.default_rng(0)
    candidates = _candidates(match)
    worst = dict.fromkeys(candidates, 0.0)  # largest difference, absolute
    fits = dict.fromkeys(candidates, True)
    heads = 0
    for batch in batches:
        x = rng.standard_normal((batch, steps, width)).astype(np.float32)
        ids = _token_ids(rng, batch, steps, match)
        feed = {match.x: x} if ids is None else {match.x: x, str(match.padding): ids}
        try:
            expected, scores = session.run([match.y, match.scores], feed)
        except Exception as error:  # onnxruntime raises its own kinds
            raise Unsupported(f"its attention subgraph does not run alone ({error})") from None
        heads = scores.size // (batch * steps * steps)
        if heads < 1 or heads * batch * steps * steps != scores.size or width % heads:
            raise Unsupported(f"its attention scores {scores.shape} are not one per head and step")
        tolerance = _TOLERANCE * max(1.0, float(np.abs(expected).max()))
        for masks in candidates:
            got = _layer_output(state, width, heads, has_bias, masks, x, ids)
            same_shape = got.shape == expected.shape
            difference = float(np.abs(got - expected).max()) if same_shape else np.inf
            difference = difference if np.isfinite(difference) else np.inf
            worst[masks] = max(worst[masks], difference)
            fits[masks] = fits[masks] and difference <= tolerance
    found = [m for m in candidates if fits[m]]
    if not found:
        what = "a mask that is neither causal nor key padding, " if match.masked else "a mask, "
        raise Unsupported(
            "the attention found here computes something else than MultiheadAttention "
            f"({what}another scale or head layout; largest difference "
            f"{min(worst.values()):.3g})"
        )
    return heads, found[0]


def _token_ids(
    rng: np.random.Generator, batch: int, steps: int, match: AttentionMatch
) -> np.ndarray | None:
    """Token ids with each padding candidate among them, never at the first step (a row
    that is all padding has no defined attention)."""
    if match.padding is None:
        return None
    from onnx import helper

    pool = np.array([*match.padding_ids, 1.0, 2.0, 3.0])
    ids = rng.choice(pool, size=(batch, steps))
    first = next(v for v in (1.0, 2.0, 3.0, 4.0) if v not in match.padding_ids)
    ids[:, 0] = first
    return ids.astype(helper.tensor_dtype_to_np_dtype(match.padding_type))


def _layer_output(
    state: dict[str, np.ndarray],
    width: int,
    heads: int,
    has_bias: bool,
    masks: _Masks,
    x: np.ndarray,
    ids: np.ndarray | None,
) -> np.ndarray:
    """What the MultiheadAttention layer with `masks` computes for `x` (and `ids`)."""
    import torch

    from engine.modules import SelfAttention

    padding_id = 0 if masks.padding_id is None else masks.padding_id
    layer = SelfAttention(width, heads, bias=has_bias, causal=masks.causal, padding_id=padding_id)
    layer.attention.load_state_dict(
        {k: torch.from_numpy(np.array(v, np.float32)) for k, v in state.items()}
    )
    padding = None if ids is None else torch.from_numpy(ids)
    with torch.no_grad():
        return layer.eval()(torch.from_numpy(x), padding).numpy()  # type: ignore[no-any-return]


def _session(match: AttentionMatch, steps: int, width: int) -> Any:
    """The subgraph from `x` to `y` as a model of its own, in onnxruntime."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from engine.onnx_import.memory import too_big

    problem = too_big(sum(array.nbytes for array in match.initializers.values()) * 2)
    if problem is not None:
        raise Unsupported(f"checking its attention alone takes {problem}")
    inputs = [helper.make_tensor_value_info(match.x, TensorProto.FLOAT, ["batch", steps, width])]
    if match.padding is not None:
        inputs.append(
            helper.make_tensor_value_info(match.padding, match.padding_type, ["batch", steps])
        )
    graph = helper.make_graph(
        match.nodes,
        "attention",
        inputs,
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
