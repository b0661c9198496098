"""What each layer costs in memory and arithmetic, from the analysis alone: no torch, no weights.

Cheap enough to recompute on every edit, so the designer can show it while a user
draws. Every figure is an estimate for float32 (4 bytes a value):

- *output*: the layer's outputs, per sample and for the batch.
- *saved for backward*: what autograd keeps from the layer until the backward pass,
  following what torch's backward formulas save for each kind of layer (`_SAVES`): a
  weighted or normalising layer keeps its input; an activation keeps its input or its
  output (the same size); a max-pool keeps its input and int64 indices; dropout its
  mask; reshaping, adding and average-pooling keep nothing. Recurrent and attention
  layers keep what formulas fitted to torch's own saved tensors say (`_recurrent_bytes`,
  `_attention_bytes`). One tensor saved by two layers (a ReLU's output is also the next
  conv's input) counts once in the totals. Checked against
  `torch.autograd.graph.saved_tensors_hooks` on every bundled example: 0.9-1.1x of what
  torch keeps (tests/engine/test_costs.py).
- *parameters*: the weights; training adds their gradients (1x) and the optimizer's
  state (Adam and AdamW 2x, SGD with momentum 1x, RMSprop 1x or 2x, Adagrad 1x).
- *arithmetic intensity*: FLOPs / bytes moved (inputs and outputs for the batch, weights
  once), at the batch size: low means the layer waits on memory, not arithmetic.

Totals walk the layers in order: inference holds the weights and the activations alive
at once (a value lives until its last reader has run; a reshape is a view, not a copy);
training holds weights, gradients and optimizer state, and keeps every saved tensor
until the backward pass. Gradients of activations during backward, the allocator's
slack and the framework itself come on top.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.analysis import BYTES_PER_VALUE, Analysis, NodeInfo
from engine.graph import Graph
from engine.layers.base import Shape, numel

Value = tuple[str, str]  # (node id, output port): one tensor of the forward pass

# kinds of saving, by layer type (see the module's docstring); unknown types keep their inputs
_VIEWS = frozenset(
    "Flatten Reshape Identity Squeeze Unsqueeze Permute Select Slice Expand Output "
    "BlockOutput".split()
)
_NOTHING = frozenset(
    "Input BlockInput Add Subtract Neg Concat Split Tile Pad ZeroPad2d PositionalEncoding Parameter "
    "Constant AvgPool1d AvgPool2d AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d "
    "AdaptiveAvgPool3d Upsample".split()
)
_OUTPUT = frozenset("ReLU Sigmoid Tanh ELU Softmax LogSoftmax Exp Sqrt Reciprocal".split())
_MASK = frozenset(("Dropout", "Dropout2d"))
_INDICES = frozenset(("MaxPool1d", "MaxPool2d", "MaxPool3d"))
_ENTRIES = frozenset(("Input", "BlockInput"))
_RECURRENT = frozenset(("RNN", "GRU", "LSTM"))
_KEEP_NOTHING = _VIEWS | _NOTHING
_NONE: frozenset[Value] = frozenset()
INDEX_BYTES = 8  # int64 indices (max-pool)
MASK_BYTES = 4  # dropout's mask: float32 on the CPU (a GPU keeps one byte a value: less)


def optimizer_copies(optimizer: Mapping[str, Any] | None) -> int:
    """How many parameter-sized tensors the optimizer keeps (Adam: two moments)."""
    optimizer = optimizer or {}
    name = str(optimizer.get("name", "adam"))
    momentum = optimizer.get("momentum", 0.9)
    moving = isinstance(momentum, (int, float)) and momentum > 0
    if name in ("adam", "adamw"):
        return 2
    if name == "sgd":
        return 1 if moving else 0
    if name == "rmsprop":
        return 2 if moving else 1
    return 1  # adagrad and what comes


class LayerCost(NamedTuple):
    """One layer's figures; `batch_size` is the batch they are given for. A named tuple,
    not a frozen dataclass: one is made per layer on every edit, and a tuple is made 3x
    faster."""

    node: str
    batch_size: int
    output_bytes: int  # per sample
    saved_bytes: int  # per sample: what backward keeps from this layer
    param_bytes: int  # the weights alone
    flops: int  # per sample (2 per multiply-accumulate)
    moved_bytes: int  # for the batch: inputs and outputs, and the weights once
    inner: NetworkCost | None = None  # a block node: the costs of the layers inside it

    @property
    def output_batch_bytes(self) -> int:
        return self.output_bytes * self.batch_size

    @property
    def saved_batch_bytes(self) -> int:
        return self.saved_bytes * self.batch_size

    @property
    def intensity(self) -> float | None:
        """FLOPs per byte moved for the batch; None for a layer that does no arithmetic."""
        if not self.flops or not self.moved_bytes:
            return None
        return self.flops * self.batch_size / self.moved_bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "output_bytes_per_sample": self.output_bytes,
            "output_bytes": self.output_batch_bytes,
            "saved_bytes_per_sample": self.saved_bytes,
            "saved_bytes": self.saved_batch_bytes,
            "parameter_bytes": self.param_bytes,
            "arithmetic_intensity": None if self.intensity is None else round(self.intensity, 3),
        }


@dataclass(frozen=True)
class NetworkCost:
    """Every layer's figures and the totals for training and inference at one batch size."""

    batch_size: int
    layers: dict[str, LayerCost]
    param_bytes: int  # weights
    optimizer_copies: int  # parameter-sized tensors the optimizer keeps
    inference_activation_bytes: int  # for the batch, at the peak
    training_activation_bytes: int  # for the batch, at the peak (saved tensors kept)
    saved_bytes: int = 0  # for the batch: what backward keeps, each tensor once
    saved_input_bytes: int = 0  # of which the Input's (a block's inputs: the outer values)
    saved_output_bytes: int = 0  # of which a block's outputs (the outer values too)

    @property
    def gradient_bytes(self) -> int:
        return self.param_bytes

    @property
    def optimizer_bytes(self) -> int:
        return self.param_bytes * self.optimizer_copies

    @property
    def inference_bytes(self) -> int:
        return self.param_bytes + self.inference_activation_bytes

    @property
    def training_bytes(self) -> int:
        return (
            self.param_bytes
            + self.gradient_bytes
            + self.optimizer_bytes
            + self.training_activation_bytes
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "parameter_bytes": self.param_bytes,
            "gradient_bytes": self.gradient_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "inference_activation_bytes": self.inference_activation_bytes,
            "training_activation_bytes": self.training_activation_bytes,
            "saved_bytes": self.saved_bytes,
            "inference_bytes": self.inference_bytes,
            "training_bytes": self.training_bytes,
        }


def network_cost(
    graph: Graph, analysis: Analysis, batch_size: int, optimizer: Mapping[str, Any] | None = None
) -> NetworkCost:
    """The costs of every analysed layer at `batch_size`, and the network's totals."""
    batch_size = max(1, int(batch_size))
    layers: dict[str, LayerCost] = {}
    saves: dict[str, tuple[Set[Value], int]] = {}
    sizes: dict[Value, int] = {}  # every output's bytes per sample
    nodes, graph_nodes, used_ids = analysis.nodes, graph.nodes, analysis.used
    used: dict[str, tuple[Set[Value], int]] = {}  # of the layers reaching the output
    # one pass with plain locals and tuples: this runs on every edit (about 1 ms at 200 layers)
    for node_id in analysis.order:
        info = nodes.get(node_id)
        if info is None or info.shape is None:
            continue
        out = 0
        for port, shape in info.shapes.items():
            size = sizes[(node_id, port)] = numel(shape) * BYTES_PER_VALUE
            out += size
        ins = 0
        for ref in info.sources:
            ins += sizes.get((ref.node, ref.port), 0)
        node_type = graph_nodes[node_id].type
        inner = _block_cost(graph, info, batch_size, optimizer) if info.inner is not None else None
        kept: Set[Value]
        if inner is not None:  # what the layers inside keep, each tensor once; what they
            # keep of its inputs and outputs are the outer values, counted as those
            kept = (
                {(ref.node, ref.port) for ref in info.sources} if inner.saved_input_bytes else set()
            )
            kept |= _outputs(node_id, info) if inner.saved_output_bytes else set()
            outer = inner.saved_input_bytes + inner.saved_output_bytes
            extra = (inner.saved_bytes - outer) // batch_size
        else:
            kept, extra = _saved(node_type, node_id, info, analysis)
        saves[node_id] = (kept, extra)
        if node_id in used_ids or node_type in _ENTRIES:
            used[node_id] = (kept, extra)
        saved = extra
        for value in kept:
            saved += sizes.get(value, 0)
        param_bytes = info.params * BYTES_PER_VALUE
        layers[node_id] = LayerCost(
            node_id,
            batch_size,
            out,
            saved,
            param_bytes,
            2 * info.macs,
            (ins + out) * batch_size + param_bytes,
            inner,
        )
    inference, training, saved_total, entering, left = _peaks(graph, analysis, used, sizes)
    return NetworkCost(
        batch_size,
        layers,
        analysis.total_params * BYTES_PER_VALUE,
        optimizer_copies(optimizer),
        inference * batch_size,
        training * batch_size,
        saved_total * batch_size,
        entering * batch_size,
        left * batch_size,
    )


def _outputs(node_id: str, info: NodeInfo) -> set[Value]:
    return {(node_id, port) for port in info.shapes}


def _block_cost(
    graph: Graph, info: NodeInfo, batch_size: int, optimizer: Mapping[str, Any] | None
) -> NetworkCost | None:
    """A block node's: its definition's costs, analysed at this node's inputs."""
    if info.inner is None or info.block is None or info.block not in graph.blocks:
        return None
    return network_cost(graph.blocks[info.block], info.inner, batch_size, optimizer)


def _saved(
    node_type: str, node_id: str, info: NodeInfo, analysis: Analysis
) -> tuple[Set[Value], int]:
    """The forward values a layer's backward reads, and extra bytes per sample it keeps."""
    if node_type in _KEEP_NOTHING:
        return _NONE, 0
    inputs = {(ref.node, ref.port) for ref in info.sources}
    out_values = sum(numel(shape) for shape in info.shapes.values())
    params = info.resolved
    if node_type in _OUTPUT:
        return _outputs(node_id, info), 0
    if node_type in _MASK:
        return _NONE, out_values * MASK_BYTES
    if node_type in _INDICES:
        return inputs, out_values * INDEX_BYTES
    if node_type in ("Reduce", "SequencePool"):
        if params.get("mode") in ("mean", "sum"):
            return _NONE, 0
        return _NONE, out_values * INDEX_BYTES  # max and min keep where the extreme was
    if node_type == "LocalResponseNorm":
        return inputs | _outputs(node_id, info), 0
    if node_type in _RECURRENT:
        return inputs, _recurrent_bytes(node_type, params, _in_shape(info, analysis))
    if node_type in ("MultiheadAttention", "TransformerEncoderLayer"):
        return inputs, _attention_bytes(node_type, params, _in_shape(info, analysis))
    return inputs, 0  # weighted layers, normalisation, the other element-wise functions


def _in_shape(info: NodeInfo, analysis: Analysis) -> Shape:
    if not info.sources:
        return ()
    ref = info.sources[0]
    upstream = analysis.nodes.get(ref.node)
    return (upstream.shapes.get(ref.port) or ()) if upstream is not None else ()


def _recurrent_bytes(node_type: str, params: Mapping[str, Any], shape: Shape) -> int:
    """What torch's CPU recurrent layers keep per sample beyond their input, fitted to
    `torch.autograd.graph.saved_tensors_hooks` over steps, widths, layers and directions:
    exact for RNN and GRU; LSTM (oneDNN's workspace) within 0.8-1.1x."""
    if len(shape) != 2:
        return 0
    steps, features = shape
    hidden, layers = int(params.get("hidden_size", 0)), int(params.get("num_layers", 1))
    ways = 2 if params.get("bidirectional") else 1
    per_step = {"RNN": 2, "GRU": 8, "LSTM": 18}[node_type] * hidden * layers * ways
    values = steps * per_step + steps * features * ways
    if node_type != "LSTM":
        values += -steps * hidden * ways + (hidden * layers * ways if node_type == "RNN" else 0)
    return values * BYTES_PER_VALUE


def _attention_bytes(node_type: str, params: Mapping[str, Any], shape: Shape) -> int:
    """What torch keeps per sample beyond the input, fitted to
    `torch.autograd.graph.saved_tensors_hooks` over steps, width, heads, feed-forward width
    and dropout: projections and mixed values by the width, the attention weights (heads x
    steps x steps, with their dropout mask) only when dropout applies to them (without it
    torch's fused attention keeps none), the feed-forward's hidden values by its width."""
    if len(shape) != 2:
        return 0
    steps, width = shape
    heads = int(params.get("num_heads", 1))
    dropout = float(params.get("dropout", 0.0) or 0.0) > 0
    weights = heads * steps * steps
    if node_type == "MultiheadAttention":
        return 28 * steps * width + 12 * weights if dropout else 20 * steps * width + 4 * steps
    hidden = steps * int(params.get("dim_feedforward", 0))
    before = 4 * steps * width if not params.get("norm_first") else 0  # post-norm keeps one more
    if dropout:
        return 44 * steps * width + before + 12 * weights + 12 * hidden + 16 * steps
    return 28 * steps * width + before + 4 * hidden + 20 * steps


def _peaks(
    graph: Graph,
    analysis: Analysis,
    saves: dict[str, tuple[Set[Value], int]],
    size: dict[Value, int],
) -> tuple[int, int, int, int, int]:
    """The most activation bytes per sample alive at once, walking the layers in order: for
    inference, and for training, where what backward reads stays until the end; and what
    backward keeps in all, each tensor once, and how much of that is the network's inputs, and a block's outputs.

    A view (Flatten, Reshape...) shares its input's memory and keeps it alive as long as
    itself."""
    base: dict[Value, Value] = {}
    last_read: dict[Value, int] = {}
    made: dict[Value, int] = {}  # the step that made each value (views excepted)
    made_at: list[int] = []  # bytes made at each step
    order = [n for n in analysis.order if n in saves]
    nodes, graph_nodes = analysis.nodes, graph.nodes
    for step, node_id in enumerate(order):
        info = nodes[node_id]
        for ref in info.sources:
            value = (ref.node, ref.port)
            last_read[base.get(value, value)] = step
        total = 0
        if info.sources and graph_nodes[node_id].type in _VIEWS:
            source = info.sources[0]
            value = (source.node, source.port)
            root = base.get(value, value)
            for port in info.shapes:
                base[(node_id, port)] = root
        else:
            for port in info.shapes:
                value = (node_id, port)
                made[value] = step
                total += size[value]
        made_at.append(total)
    kept = {base.get(v, v) for k, _ in saves.values() for v in k}
    saved = sum(size.get(v, 0) for v in kept) + sum(extra for _, extra in saves.values())
    entering = sum(size.get(v, 0) for v in kept if graph.nodes[v[0]].type in _ENTRIES)
    leaving = {
        base.get((ref.node, ref.port), (ref.node, ref.port))
        for node_id in order
        if graph.nodes[node_id].type == "BlockOutput"
        for ref in analysis.nodes[node_id].sources
    }
    left = sum(size.get(v, 0) for v in kept & leaving)
    freed = [0] * len(order)  # bytes that can go after each step, for inference
    freed_training = [0] * len(order)  # and for training, where saved tensors stay
    for value, step in made.items():
        read = last_read.get(value, step)
        at = read if read > step else step
        freed[at] += size[value]
        if value not in kept:
            freed_training[at] += size[value]
    extras = [saves[node_id][1] for node_id in order]
    peaks = []
    for gone, extra in ((freed, None), (freed_training, extras)):
        alive = kept_extra = peak = 0
        for step, made_bytes in enumerate(made_at):
            alive += made_bytes
            if extra is not None:
                kept_extra += extra[step]
            if alive + kept_extra > peak:
                peak = alive + kept_extra
            alive -= gone[step]
        peaks.append(peak)
    return peaks[0], peaks[1], saved, entering, left


def size_text(size: float) -> str:
    """Bytes the way a person reads them: 512 B, 12 KB, 3.4 MB, 1.2 GB (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024 or unit == "GB":
            if unit == "B":
                return f"{int(size)} B"
            return f"{size:.0f} {unit}" if abs(size) >= 100 else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
