"""One small network per catalogue layer, shared by the export and import tests.

Every layer type needs an entry here: a new layer is then automatically
exported, verified and round-tripped through ONNX by the other test files.
"""

from __future__ import annotations

from typing import Any

from engine.graph import Graph, PortRef
from engine.layers import CATALOGUE
from engine.project import Project

# layer type -> (input shape per sample, parameters)
LAYER_CASES: dict[str, tuple[list[int], dict[str, Any]]] = {
    "Linear": ([6], {"out_features": 5}),
    "Flatten": ([2, 3, 4], {}),
    "Reshape": ([12], {"shape": [3, -1]}),
    "Permute": ([3, 4], {"order": [1, 0]}),
    "Dropout": ([6], {}),
    "Dropout2d": ([2, 4, 4], {}),
    "Identity": ([6], {}),
    "Embedding": ([5], {"num_embeddings": 10, "embedding_dim": 4}),
    "Conv1d": ([3, 10], {"out_channels": 4, "padding": 1}),
    "Conv2d": ([4, 8, 8], {"out_channels": 4, "stride": 2, "groups": 2, "dilation": [1, 2]}),
    "Conv3d": ([2, 5, 6, 6], {"out_channels": 3, "stride": [1, 2, 2], "padding": 1}),
    "ConvTranspose2d": ([3, 4, 4], {"out_channels": 2, "kernel_size": 3, "padding": 1}),
    "MaxPool1d": ([3, 10], {"kernel_size": 3, "dilation": 2}),
    "AvgPool1d": ([3, 10], {"kernel_size": 3, "stride": 2, "padding": 1}),
    "MaxPool2d": ([3, 9, 9], {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    "AvgPool2d": ([3, 8, 8], {"kernel_size": 3, "padding": 1, "count_include_pad": False}),
    "MaxPool3d": (
        [2, 5, 6, 6],
        {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": [1, 2, 1]},
    ),
    "AvgPool3d": ([2, 5, 6, 6], {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    "AdaptiveAvgPool1d": ([3, 10], {"output_size": 1}),
    "AdaptiveAvgPool2d": ([3, 8, 8], {"output_size": 1}),
    "AdaptiveAvgPool3d": ([3, 4, 4, 4], {"output_size": 1}),
    "Upsample": ([3, 4, 4], {}),
    "ZeroPad2d": ([3, 4, 4], {"padding": [1, 2, 0, 1]}),
    "Pad": ([2, 5, 6], {"padding": [1, 2, 0, 3], "mode": "reflect"}),
    "BatchNorm1d": ([6], {}),
    "BatchNorm2d": ([3, 4, 4], {}),
    "BatchNorm3d": ([3, 3, 4, 4], {}),
    "InstanceNorm": ([3, 4, 5], {"affine": True}),
    "LayerNorm": ([5, 6], {}),
    "GroupNorm": ([4, 3, 3], {"num_groups": 2}),
    "LocalResponseNorm": ([6, 4, 4], {"size": 3}),
    "RNN": ([7, 5], {"hidden_size": 6}),
    "LSTM": ([7, 5], {"hidden_size": 6, "num_layers": 2, "output": "sequence"}),
    "GRU": ([7, 5], {"hidden_size": 6, "bidirectional": True}),
    "MultiheadAttention": ([7, 8], {"num_heads": 2}),
    "TransformerEncoderLayer": ([7, 8], {"num_heads": 2, "dim_feedforward": 16}),
    "PositionalEncoding": ([7, 8], {}),
    "SequencePool": ([7, 8], {"mode": "max"}),
    "Add": ([6], {}),
    "Multiply": ([6], {}),
    "Concat": ([6], {"axis": 0}),
    "PReLU": ([3, 4], {"per_channel": True}),
    "ReLU": ([6], {}),
    "ReLU6": ([6], {}),
    "LeakyReLU": ([6], {"negative_slope": 0.2}),
    "ELU": ([6], {"alpha": 0.5}),
    "SELU": ([6], {}),
    "GELU": ([6], {}),
    "SiLU": ([6], {}),
    "Sigmoid": ([6], {}),
    "Tanh": ([6], {}),
    "Softplus": ([6], {}),
    "Hardswish": ([6], {}),
    "Softmax": ([6], {}),
    "LogSoftmax": ([2, 6], {"axis": 0}),
    "Split": ([6, 4], {"sizes": [2, 4]}),
    "Slice": ([6, 5], {"axis": -1, "start": 1, "end": -1, "step": 2}),
    "Select": ([4, 6], {"axis": 0, "index": -1}),
    "Squeeze": ([3, 1, 4], {"axes": [1]}),
    "Unsqueeze": ([3, 4], {"axes": [0, 2]}),
    "Expand": ([1, 4], {"shape": [2, 3, -1]}),
    "Tile": ([2, 3], {"repeats": [2, 1]}),
    "Reduce": ([3, 4, 5], {"mode": "max", "axes": [0, -1], "keep_axes": True}),
    "Subtract": ([3, 4], {}),
    "Divide": ([3, 4], {}),
    "Power": ([3, 4], {}),
    "Maximum": ([3, 4], {}),
    "Minimum": ([3, 4], {}),
    "MatMul": ([4, 4], {}),
    "Exp": ([6], {}),
    "Log": ([6], {}),
    "Sqrt": ([6], {}),
    "Abs": ([6], {}),
    "Neg": ([6], {}),
    "Reciprocal": ([6], {}),
    "Erf": ([6], {}),
    "Mish": ([6], {}),
    "Softsign": ([6], {}),
    "HardSigmoid": ([6], {"alpha": 0.2, "beta": 0.4}),
    "Hardtanh": ([6], {"min_val": -0.5, "max_val": 0.25}),
    "Parameter": ([3, 4], {"shape": [1, 4], "init": "normal", "scale": 1.0}),
    "Constant": ([3, 4], {"shape": [4], "value": 0.5}),
}
# the values a case's layer reads, where plain random numbers would not do (a logarithm of
# negative numbers is NaN, which no comparison can check): Input -> this layer -> the case
FEEDS = {"Log": "Sigmoid", "Sqrt": "Sigmoid", "Reciprocal": "Softplus", "Power": "Sigmoid"}
# a layer with no input joined with the Input, so the network reads it: the joining layer
JOINED = {"Parameter": "Concat", "Constant": "Add"}
# cases whose ONNX file does not import back yet (the importer does not map them)
NOT_IMPORTED: dict[str, str] = {}
MERGES = ("Add", "Multiply", "Concat")
ENDPOINTS = ("Input", "Output")


def layer_graph(name: str) -> Graph:
    """Input -> the layer -> Output. Merges get a second branch through a Tanh; a layer of
    two ports reads the Input on `a` and a Softplus of it on `b`; a layer with no input is
    joined with the Input."""
    shape, params = LAYER_CASES[name]
    layer = CATALOGUE[name]
    graph = Graph()
    dtype = "int64" if layer.input_kind == "int" else "float32"
    graph.add_node("Input", "input", {"shape": shape, "dtype": dtype})
    source = PortRef("input", "out")
    if name in FEEDS:
        graph.add_node(FEEDS[name], "feed")
        graph.connect(source, PortRef("feed", "in"))
        source = PortRef("feed", "out")
    graph.add_node(name, "layer", params)
    graph.add_node("Output", "output")
    ports = [port.name for port in layer.inputs]
    if ports == ["a", "b"]:
        graph.add_node("Softplus", "branch")
        graph.connect(PortRef("input", "out"), PortRef("branch", "in"))
        graph.connect(source, PortRef("layer", "a"))
        graph.connect(PortRef("branch", "out"), PortRef("layer", "b"))
    elif ports:
        graph.connect(source, PortRef("layer", "in"))
    if name in MERGES:
        graph.add_node("Tanh", "branch")
        graph.connect(PortRef("input", "out"), PortRef("branch", "in"))
        graph.connect(PortRef("branch", "out"), PortRef("layer", "in"))
    first = PortRef(
        "layer", layer.outputs_for(layer.resolved(params))[0].name
    )  # a Split has several
    if name in JOINED:
        graph.add_node(JOINED[name], "join")
        graph.connect(first, PortRef("join", "in"))
        graph.connect(PortRef("input", "out"), PortRef("join", "in"))
        first = PortRef("join", "out")
    graph.connect(first, PortRef("output", "in"))
    return graph


def layer_project(name: str) -> Project:
    return Project(name=f"{name.lower()}-case", graph=layer_graph(name))


def test_every_catalogue_layer_has_an_export_case() -> None:
    missing = sorted(set(CATALOGUE) - set(LAYER_CASES) - set(ENDPOINTS))
    assert not missing, f"add a case for {missing} so export and import cover it"


def test_every_case_is_a_valid_network() -> None:
    from engine.analysis import analyse

    for name in LAYER_CASES:
        analysis = analyse(layer_graph(name))
        assert analysis.ok, (name, [str(d) for d in analysis.errors])
