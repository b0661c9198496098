"""Self-attention spelled as many ONNX operators -> one MultiheadAttention layer.

torch exports ``nn.MultiheadAttention`` as some 150 operators: the q/k/v
projections of one input, a head split (Reshape/Transpose, with the batch axis
moved), ``softmax(q k^T / sqrt(d)) v``, a head merge and the output projection,
plus the Shape arithmetic that sizes every Reshape. Node names differ between
exporters, so the subgraph is found from its operators and tensors: a Softmax
between two MatMuls of computed tensors, the chains back from q, k and v to one
projected input, the chain forward from ``attention . v`` through the output
projection. Embedding width and biases come from the projection weights, the
number of heads from the size of the attention scores.

A mask added to the scores (or chosen in with Where) is kept with the subgraph:
one computed from constants or sizes only (a causal mask, an all-zero mask), or
one computed from the model's input (token ids: key padding), which becomes the
layer's second input. The NaN guard the dynamo exporter writes after the Softmax
(``Where(IsNaN(p), 0, p)``) is looked through.

What is found is then checked, never assumed (`attention_layer.py`): the
subgraph alone is run in onnxruntime and compared with the MultiheadAttention
layer holding the weights found, plain, causal, or blind to padding. Another
mask, another scale, cross-attention or an unusual packing of q/k/v does not
match or does not compute the same, and is refused by name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

FUSED_OP = "SelfAttention"  # no ONNX operator has this name (opset 23's is "Attention")
_CHAIN_LIMIT = 40  # operators between the input and q, k or v; torch uses about a dozen
_VIEWS = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Flatten"}
_SHAPE_OPS = {"Shape", "Size"}


@dataclass(frozen=True)
class Projection:
    """A MatMul or Gemm with a constant weight, as torch's (out, in) weight and bias."""

    weight: np.ndarray
    bias: np.ndarray | None


@dataclass
class AttentionMatch:
    """A subgraph shaped like batch-first self-attention from `x` to `y`, not yet checked."""

    x: str
    y: str
    nodes: list[Any]  # every operator `y` needs after `x`, constants included, in file order
    initializers: dict[str, np.ndarray]  # the weights those operators read
    scores: str  # the value the Softmax reads: its size gives the number of heads
    q: Projection
    k: Projection
    v: Projection
    shared: bool  # q, k and v come from one packed projection
    out: Projection
    opset: int
    ir_version: int
    masked: bool = False  # a mask is added to (or chosen into) the scores
    padding: str | None = None  # the model input a key-padding mask is computed from
    padding_type: int = 7  # its ONNX element type (int64)
    padding_ids: tuple[float, ...] = (0.0,)  # values the mask compares it with: the padding id


NEAR_MISS = (
    "attention that is not self-attention of one input (a mask that is neither causal nor "
    "key padding, cross-attention, returned attention weights) has no layer"
)


def recognise_attention(
    model: Any, nodes: list[Any], constants: dict[str, np.ndarray], entries: tuple[str, ...]
) -> tuple[list[Any], dict[str, AttentionMatch], list[str]]:
    """Replace each self-attention subgraph by one internal operator. Returns the operators,
    what was found (by output value), and the Softmax operators of attention that was not."""
    from onnx import helper

    graph = _Graph(nodes, constants, entries, {o.name for o in model.graph.output})
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    entry_types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    found: dict[str, AttentionMatch] = {}
    removed: set[int] = set()
    support: dict[int, Any] = {}  # mask computations, removed once nothing else reads them
    placed: dict[int, Any] = {}
    fused_reads: set[str] = set()  # what the fused operators read (a pre-norm's LayerNorm)
    missed: list[str] = []
    for softmax in nodes:
        if softmax.op_type != "Softmax" or id(softmax) in removed:
            continue
        match = graph.match(softmax, opset, model.ir_version, entry_types)
        region = [] if match is None else [n for n in match.nodes if graph.kind(n) is not None]
        own = [] if match is None else graph.depending_on(region, match.x)
        if match is None or any(id(n) in removed for n in own) or not graph.closed(own, match.y):
            if graph.attention_like(softmax):
                missed.append(softmax.name or softmax.op_type)
            continue
        last = graph.producer[match.y]
        prefix = last.name.rsplit("/", 1)[0] + "/" if "/" in last.name else ""
        inputs = [match.x] + ([match.padding] if match.padding else [])
        fused = helper.make_node(FUSED_OP, inputs, [match.y], name=prefix + FUSED_OP)
        removed.update(id(n) for n in own)
        file_nodes = (graph.stand_ins.get(id(n), n) for n in region)
        support.update((id(n), n) for n in file_nodes if id(n) not in removed)
        placed[id(last)] = fused
        fused_reads.update(inputs)
        found[match.y] = match
    removed |= graph.unread(support, removed, fused_reads)
    kept = [placed.get(id(n), n) for n in nodes if id(n) not in removed or id(n) in placed]
    return kept, found, missed


class _Graph:
    """Producers, readers and the kind of every value: data (computed from the input),
    shape (computed from the input's sizes only) or static (absent: weights, constants)."""

    def __init__(
        self,
        nodes: list[Any],
        constants: dict[str, np.ndarray],
        entries: tuple[str, ...],
        outputs: set[str],
    ) -> None:
        self.constants = constants
        self.outputs = outputs
        self.producer = {out: node for node in nodes for out in node.output if out}
        self.order = {id(node): index for index, node in enumerate(nodes)}
        self.readers: dict[str, list[Any]] = defaultdict(list)
        self.entries = entries  # the model's inputs
        self.stand_ins: dict[int, Any] = {}  # a Shape reading `x` -> the file's Shape it replaces
        self.kinds: dict[str, str] = dict.fromkeys(entries, "data")
        for node in nodes:
            for name in node.input:
                if name:
                    self.readers[name].append(node)
            kinds = {self.kinds.get(i) for i in node.input if i}
            kind = (
                ("shape" if kinds - {None} else None)
                if node.op_type in _SHAPE_OPS
                else ("data" if "data" in kinds else "shape" if "shape" in kinds else None)
            )
            if kind is not None:
                self.kinds.update((out, kind) for out in node.output if out)

    def kind(self, node: Any) -> str | None:
        return next((self.kinds[o] for o in node.output if o in self.kinds), None)

    def data_inputs(self, node: Any) -> list[str]:
        return [i for i in node.input if i and self.kinds.get(i) == "data"]

    def static(self, name: str) -> np.ndarray | None:
        """A constant, looking through Identity operators (shared weights)."""
        for _ in range(_CHAIN_LIMIT):
            node = self.producer.get(name)
            if name in self.constants or node is None:
                break
            if node.op_type != "Identity":
                return None
            name = node.input[0]
        return self.constants.get(name)

    # ------------------------------------------------------------------ the pattern
    def match(
        self,
        softmax: Any,
        opset: int,
        ir_version: int,
        entry_types: dict[str, int] | None = None,
    ) -> AttentionMatch | None:
        found = self._scores(softmax)
        probabilities = self._past_nan_guard(softmax.output[0])
        context = self._sole_data_reader(probabilities)
        if found is None or context is None or context.op_type != "MatMul":
            return None
        scores, masks = found
        if context.input[0] != probabilities or self.kinds.get(context.input[1]) != "data":
            return None
        chains = [self._chain_back(v) for v in (*scores.input[:2], context.input[1])]
        projections = [self._first_projection(chain) for chain in chains]
        if any(p is None for p in projections):
            return None
        q, k, v = (p for p in projections if p is not None)
        inputs = [self.data_inputs(p[0])[0] for p in (q, k, v)]
        merged = any(self._before_merge(i) != i for i in inputs)  # Hugging Face's Conv1D
        sources = {self._before_time_major(self._before_merge(i)) for i in inputs}
        if len(sources) != 1:
            return None
        ends = self._forward_to_output(context, merged)
        if ends is None:
            return None
        out, y = ends
        x = sources.pop()
        padding = self._padding_source(masks, x)
        if padding is False:
            return None
        stops = {x} if padding is None else {x, padding}
        nodes = self._ancestors(y, stops, x)
        if nodes is None:
            return None
        shared = q[0] is k[0] is v[0]
        if not shared and len({id(q[0]), id(k[0]), id(v[0])}) != 3:
            return None  # two of q, k, v packed together: not torch's self-attention
        produced = {o for n in nodes for o in n.output}
        read = {i for n in nodes for i in n.input if i and i not in produced and i not in stops}
        initializers = {name: self.constants[name] for name in sorted(read)}
        return AttentionMatch(
            x,
            y,
            nodes,
            initializers,
            softmax.input[0],
            q[1],
            k[1],
            v[1],
            shared,
            out[1],
            opset,
            ir_version,
            masked=bool(masks),
            padding=padding,
            padding_type=(entry_types or {}).get(padding or "", 7),
            padding_ids=self._compared_with(nodes) if padding else (0.0,),
        )

    def _scores(self, softmax: Any) -> tuple[Any, list[str]] | None:
        """The MatMul of two computed tensors feeding the Softmax (through scalings), and
        the masks added to the scores (or chosen in with Where) on the way."""
        value = softmax.input[0]
        masks: list[str] = []
        for _ in range(5):
            node = self.producer.get(value)
            if node is None:
                return None
            data = self.data_inputs(node)
            if node.op_type == "MatMul":
                return (node, masks) if len(data) == 2 else None
            if node.op_type in ("Add", "Where"):
                offered = node.input[:2] if node.op_type == "Add" else node.input[1:3]
                scores = [i for i in offered if self._leads_to_scores(i)]
                if len(scores) != 1:
                    return None
                masks += [i for i in node.input if i and i != scores[0]]
                value = scores[0]
                continue
            if node.op_type not in ("Mul", "Div") or len(data) != 1:
                return None
            if node.op_type == "Div" and node.input[0] != data[0]:
                return None
            value = data[0]
        return None

    def _leads_to_scores(self, value: str, depth: int = 5) -> bool:
        """True when `value` is a MatMul of two computed tensors, maybe scaled and masked."""
        node = self.producer.get(value)
        if node is None or depth == 0 or self.kinds.get(value) != "data":
            return False
        data = self.data_inputs(node)
        if node.op_type == "MatMul":
            return len(data) == 2
        if node.op_type in ("Add", "Where"):
            offered = node.input[:2] if node.op_type == "Add" else node.input[1:3]
            return any(self._leads_to_scores(i, depth - 1) for i in offered)
        if node.op_type not in ("Mul", "Div") or len(data) != 1:
            return False
        return self._leads_to_scores(data[0], depth - 1)

    def _past_nan_guard(self, value: str) -> str:
        """``Where(IsNaN(p), 0, p)`` after a Softmax (the dynamo exporter's guard for rows
        that are all masked) is looked through: the value the next MatMul reads."""
        readers = [r for r in self.readers.get(value, []) if r.op_type not in _SHAPE_OPS]
        guard = next((r for r in readers if r.op_type == "IsNaN"), None)
        where = next((r for r in readers if r.op_type == "Where"), None)
        if len(readers) != 2 or guard is None or where is None:
            return value
        if list(where.input) != [guard.output[0], where.input[1], value]:
            return value
        zero = self.static(where.input[1])
        return where.output[0] if zero is not None and not np.any(zero) else value

    def _padding_source(self, masks: list[str], x: str) -> str | Literal[False] | None:
        """None when every mask is computed from constants and sizes; the model's input
        when a mask is computed from it (key padding from token ids); False otherwise
        (a mask computed from the attention's own input)."""
        pending = [m for m in masks if self.kinds.get(m) == "data"]
        if not pending:
            return None
        seen: set[str] = set()
        while pending:
            value = pending.pop()
            if value in seen:
                continue
            seen.add(value)
            if value == x:
                return False
            if value in self.entries:
                continue
            node = self.producer.get(value)
            if node is None:
                return False
            pending += self.data_inputs(node)
        return next((entry for entry in self.entries if entry in seen), False)

    def _compared_with(self, nodes: list[Any]) -> tuple[float, ...]:
        """The constants an Equal in the mask's computation compares with: the padding id
        candidates (0 when there are none: an attention mask of 1 = token, 0 = padding)."""
        found: list[float] = []
        for node in nodes:
            if node.op_type != "Equal":
                continue
            for name in node.input:
                value = self.static(name)
                if value is not None and value.size == 1:
                    found.append(float(value.reshape(-1)[0]))
        return tuple(dict.fromkeys(found)) or (0.0,)

    def attention_like(self, softmax: Any) -> bool:
        """A Softmax over a MatMul of two computed tensors, maybe masked or scaled on the way."""
        value = softmax.input[0]
        for _ in range(4):
            node = self.producer.get(value)
            data = [] if node is None else self.data_inputs(node)
            if node is None or not data:
                return False
            if node.op_type == "MatMul":
                return len(data) == 2
            value = data[0]
        return False

    def _chain_back(self, value: str) -> list[Any]:
        """Operators with one computed input, from `value` backwards (nearest first)."""
        chain: list[Any] = []
        while value in self.producer and len(chain) < _CHAIN_LIMIT:
            node = self.producer[value]
            data = self.data_inputs(node)
            if len(data) != 1:
                break
            chain.append(node)
            value = data[0]
        return chain

    def _first_projection(self, chain: list[Any]) -> tuple[Any, Projection] | None:
        for index, node in enumerate(chain):
            projection = self._projection(node)
            if projection is not None:
                reader = chain[index - 1] if index else None
                if projection.bias is None and reader is not None:
                    projection = Projection(projection.weight, self._bias_of(reader))
                return node, projection
        return None

    def _projection(self, node: Any) -> Projection | None:
        """torch's (out, in) weight of a MatMul/Gemm by a constant matrix, if `node` is one."""
        if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2:
            return None
        if self.kinds.get(node.input[0]) != "data":
            return None
        weight = self.static(node.input[1])
        if weight is None or weight.ndim != 2:
            return None
        if node.op_type == "MatMul":
            return Projection(weight.T, None)
        attrs = _attributes(node)
        if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0:
            return None
        bias = self.static(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if bias is not None:
            bias = bias * attrs.get("beta", 1.0)
        return Projection(weight if attrs.get("transB", 0) else weight.T, bias)

    def _bias_of(self, node: Any) -> np.ndarray | None:
        if node.op_type != "Add" or len(self.data_inputs(node)) != 1:
            return None
        other = next(i for i in node.input if i not in self.data_inputs(node))
        bias = self.static(other)
        return bias if bias is not None and bias.ndim == 1 else None

    def _before_time_major(self, value: str) -> str:
        """The batch-first tensor a ``Transpose(perm=[1, 0, 2])`` made steps-first, if any."""
        node = self.producer.get(value)
        if node is not None and node.op_type == "Transpose":
            if list(_attributes(node).get("perm", [])) == [1, 0, 2]:
                return node.input[0]
        return value

    def _sole_data_reader(self, value: str) -> Any:
        readers = [r for r in self.readers.get(value, []) if r.op_type not in _SHAPE_OPS]
        return readers[0] if len(readers) == 1 and value not in self.outputs else None

    def _before_merge(self, value: str) -> str:
        """The steps x features tensor a ``Reshape(-1, features)`` merged with the batch, if
        any: Hugging Face's Conv1D projects the merged rows and reshapes them back."""
        node = self.producer.get(value)
        if node is None or node.op_type != "Reshape" or len(node.input) < 2:
            return value
        shape = self.static(node.input[1])
        if shape is None or shape.ndim != 1 or len(shape) != 2 or int(shape[0]) != -1:
            return value
        return node.input[0] if self.kinds.get(node.input[0]) == "data" else value

    def _forward_to_output(self, context: Any, merged: bool = False) -> tuple[Any, str] | None:
        """From ``attention . v`` through the head merge and output projection to the
        batch-first result: the projection's output, or a ``Transpose([1, 0, 2])`` after it
        (or, for `merged` rows, the Reshape back to steps x features)."""
        value = context.output[0]
        for _ in range(_CHAIN_LIMIT):
            node = self._sole_data_reader(value)
            if node is None:
                return None
            projection = self._projection(node)
            value = node.output[0]
            if projection is not None:
                break
            if node.op_type not in _VIEWS:
                return None
        else:
            return None
        found = (node, projection)
        reader = self._sole_data_reader(value)
        if projection.bias is None and reader is not None and self._bias_of(reader) is not None:
            found = (node, Projection(projection.weight, self._bias_of(reader)))
            value = reader.output[0]
        y = value
        for _ in range(3):
            reader = self._sole_data_reader(value)
            if reader is None or reader.op_type not in _VIEWS:
                break
            value = reader.output[0]
            perm = list(_attributes(reader).get("perm", []))
            if (reader.op_type == "Transpose" and perm == [1, 0, 2]) or (
                merged and reader.op_type == "Reshape"  # the merged rows reshaped back
            ):
                y = value
                break
        return found, y

    def _ancestors(self, y: str, stops: set[str], x: str) -> list[Any] | None:
        """Every operator `y` depends on, stopping at `stops`; None if it reads another input.
        The size of a tensor from before `x` is taken from `x` instead (a pre-norm layer's
        mask reads the sizes of the LayerNorm's input, which has the shape of its output);
        the check against the layer shows whether that holds."""
        from onnx import helper

        seen: dict[int, Any] = {}
        pending = [y]
        while pending:
            value = pending.pop()
            if value in stops or not value:
                continue
            node = self.producer.get(value)
            if node is None:
                if value in self.constants:
                    continue
                return None  # the model's input reached another way, or another input
            if id(node) in seen:
                continue
            if node.op_type in _SHAPE_OPS and self._before(node.input[0], x):
                sized = helper.make_node(node.op_type, [x], list(node.output), name=node.name)
                sized.attribute.extend(node.attribute)
                self.stand_ins[id(sized)] = node
                seen[id(node)] = sized
                continue
            seen[id(node)] = node
            pending.extend(node.input)
        return sorted(seen.values(), key=lambda n: self.order[id(self.stand_ins.get(id(n), n))])

    def _before(self, value: str, x: str) -> bool:
        """True when `x` is computed from `value`."""
        if value == x or self.kinds.get(value) != "data":
            return False
        seen, pending = {x}, [x]
        while pending:
            node = self.producer.get(pending.pop())
            for name in [] if node is None else self.data_inputs(node):
                if name == value:
                    return True
                if name not in seen:
                    seen.add(name)
                    pending.append(name)
        return False

    def depending_on(self, region: list[Any], x: str) -> list[Any]:
        """The operators of `region` that read `x`, directly or through others (sizes too):
        the attention's own; the rest compute its mask and may be shared."""
        reached = {x}
        own = []
        for node in region:  # in file order, so producers come first
            if id(node) in self.stand_ins:  # sizes from before x: a mask's, maybe shared
                continue
            if any(i in reached for i in node.input):
                own.append(node)
                reached.update(o for o in node.output if o)
        return own

    def unread(self, candidates: dict[int, Any], removed: set[int], kept: set[str]) -> set[int]:
        """Of `candidates` (mask computations), those nothing left reads any more; values in
        `kept` are still read (by the fused operators)."""
        gone = set(removed)
        changed = True
        while changed:
            changed = False
            for key, node in candidates.items():
                if key in gone:
                    continue
                outputs = [o for o in node.output if o]
                if any(o in self.outputs or o in kept for o in outputs):
                    continue
                if all(id(r) in gone for o in outputs for r in self.readers[o]):
                    gone.add(key)
                    changed = True
        return gone - removed

    def closed(self, region: list[Any], y: str) -> bool:
        """True when nothing outside the subgraph reads a value computed inside it but `y`."""
        inside = {id(n) for n in region}
        for node in region:
            for out in node.output:
                if out == y or not out:
                    continue
                if out in self.outputs or any(id(r) not in inside for r in self.readers[out]):
                    return False
        return True


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}
