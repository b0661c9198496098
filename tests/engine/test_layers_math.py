"""The layers of issue 14's phase 2, as a user drawing a network sees them: broadcasting
arithmetic, learned and fixed tensors, slicing and reductions, new activations. Each
computes what torch (or numpy) computes, and a shape that cannot work is named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.analysis import analyse
from engine.compiler import compile_graph, example_inputs
from engine.graph import Graph, PortRef
from engine.weights import load_weights, save_weights


def chain(shape: list[int], *layers: tuple[str, dict]) -> Graph:
    """Input -> layers in a row -> Output."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": shape})
    previous = "input"
    for index, (kind, params) in enumerate(layers):
        node = f"n{index}"
        graph.add_node(kind, node, params)
        graph.connect(PortRef(previous, "out"), PortRef(node, "in"))
        previous = node
    graph.add_node("Output", "output")
    graph.connect(PortRef(previous, "out"), PortRef("output", "in"))
    return graph


def run(graph: Graph, *xs: torch.Tensor) -> np.ndarray:
    analysis = analyse(graph)
    assert analysis.ok, [str(d) for d in analysis.errors]
    with torch.no_grad():
        return compile_graph(graph, analysis=analysis).eval()(*xs).numpy()


def squeeze_excite(gate: list[int], features: list[int]) -> Graph:
    """A map and a gate computed from it (pooled, reshaped) multiplied together."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": features})
    graph.add_node("AdaptiveAvgPool2d", "pool", {"output_size": 1})
    graph.add_node("Reshape", "gate", {"shape": gate})
    graph.add_node("Multiply", "scale")
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef("pool", "in"))
    graph.connect(PortRef("pool", "out"), PortRef("gate", "in"))
    graph.connect(PortRef("gate", "out"), PortRef("scale", "in"))
    graph.connect(PortRef("input", "out"), PortRef("scale", "in"))
    graph.connect(PortRef("scale", "out"), PortRef("output", "in"))
    return graph


# ------------------------------------------------------------------ broadcasting
def test_a_squeeze_and_excitation_gate_scales_every_position_of_the_map() -> None:
    graph = squeeze_excite([4, 1, 1], [4, 5, 5])
    assert analyse(graph).nodes["scale"].shape == (4, 5, 5)
    x = torch.randn(2, 4, 5, 5)
    expected = x * x.mean(dim=(2, 3), keepdim=True)
    np.testing.assert_allclose(run(graph, x), expected.numpy(), rtol=1e-5)


def test_shapes_that_do_not_broadcast_name_the_axis_and_its_sizes() -> None:
    graph = squeeze_excite([2, 2, 1], [4, 5, 5])
    (problem,) = analyse(graph).for_node("scale")
    assert "Multiply cannot broadcast 2x2x1 and 4x5x5" in problem.message
    assert "axis 0 has sizes 2 and 4" in problem.message
    assert problem.hint is not None and "lined up from the last" in problem.hint


def two_ports(kind: str, a: list[int], b: list[int]) -> Graph:
    graph = Graph()
    graph.add_node("Input", "a", {"shape": a})
    graph.add_node("Input", "b", {"shape": b})
    graph.add_node(kind, "op")
    graph.add_node("Output", "output")
    graph.connect(PortRef("a", "out"), PortRef("op", "a"))
    graph.connect(PortRef("b", "out"), PortRef("op", "b"))
    graph.connect(PortRef("op", "out"), PortRef("output", "in"))
    return graph


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("Subtract", np.subtract), ("Divide", np.divide), ("Power", np.power)],
)
def test_ordered_arithmetic_reads_a_then_b(kind: str, expected: object) -> None:
    a, b = torch.rand(3, 2, 4) + 0.5, torch.rand(3, 4) + 0.5
    got = run(two_ports(kind, [2, 4], [4]), a, b)
    np.testing.assert_allclose(got, expected(a.numpy(), b.numpy()[:, None, :]), rtol=1e-5)  # type: ignore[operator]


def test_matmul_multiplies_each_samples_matrices() -> None:
    a, b = torch.randn(2, 3, 5, 4), torch.randn(2, 4, 6)
    graph = two_ports("MatMul", [3, 5, 4], [4, 6])
    assert analyse(graph).nodes["op"].shape == (3, 5, 6)
    np.testing.assert_allclose(run(graph, a, b), (a @ b[:, None]).numpy(), rtol=1e-4, atol=1e-5)


def test_matmul_of_mismatched_matrices_says_which_sizes_must_agree() -> None:
    (problem,) = analyse(two_ports("MatMul", [5, 4], [3, 6])).for_node("op")
    assert "last axis of 'a' (4) must equal the next to last of 'b' (3)" in problem.message
    (problem,) = analyse(two_ports("MatMul", [5], [5, 6])).for_node("op")
    assert "input 'a' is 5 per sample" in problem.message


# ------------------------------------------------------------------ picking and reducing
@pytest.mark.parametrize(
    ("layer", "params", "reference"),
    [
        ("Slice", {"axis": 1, "start": 1, "end": -1, "step": 2}, lambda x: x[:, :, 1:-1:2]),
        ("Slice", {"axis": 0, "start": -2}, lambda x: x[:, -2:]),
        ("Select", {"axis": -1, "index": 3}, lambda x: x[:, :, :, 3]),
        ("Reduce", {"mode": "mean", "axes": [1, 2]}, lambda x: x.mean(axis=(2, 3))),
        (
            "Reduce",
            {"mode": "sum", "axes": [0], "keep_axes": True},
            lambda x: x.sum(1, keepdims=True),
        ),
        ("Reduce", {"mode": "max", "axes": [-1]}, lambda x: x.max(axis=3)),
        ("Reduce", {"mode": "min", "axes": [0, 2]}, lambda x: x.min(axis=(1, 3))),
        ("Tile", {"repeats": [2, 1, 3]}, lambda x: np.tile(x, (1, 2, 1, 3))),
        ("Unsqueeze", {"axes": [0, -1]}, lambda x: x[:, None, :, :, :, None]),
    ],
)
def test_picking_and_reducing_compute_what_numpy_does(
    layer: str, params: dict, reference: object
) -> None:
    graph = chain([3, 5, 6], (layer, params))
    x = example_inputs(graph, batch=2)[0]
    expected = reference(x.numpy())  # type: ignore[operator]
    assert analyse(graph).nodes["n0"].shape == expected.shape[1:]
    np.testing.assert_allclose(run(graph, x), expected, rtol=1e-5)


def test_squeeze_and_expand_reshape_without_changing_values() -> None:
    graph = chain(
        [3, 1, 4], ("Squeeze", {}), ("Unsqueeze", {"axes": [0]}), ("Expand", {"shape": [2, 3, -1]})
    )
    x = torch.randn(2, 3, 1, 4)
    assert analyse(graph).nodes["n2"].shape == (2, 3, 4)
    np.testing.assert_allclose(
        run(graph, x), np.broadcast_to(x.numpy()[:, None, :, 0], (2, 2, 3, 4))
    )


@pytest.mark.parametrize(
    ("layer", "params", "param", "words"),
    [
        ("Slice", {"axis": 0, "start": 3, "end": 2}, "start", "keeps nothing"),
        (
            "Select",
            {"axis": 1, "index": 5},
            "index",
            "index 5 does not exist on axis 1, which has 5",
        ),
        ("Squeeze", {"axes": [0]}, "axes", "only axes of size 1 can be squeezed"),
        ("Expand", {"shape": [3, 2, 6]}, "shape", "axis 1 has 5 entries, which cannot be expanded"),
        ("Reduce", {"axes": [0, 1, 2]}, "keep_axes", "would leave no axis at all"),
        ("Slice", {"axis": 3}, "axis", "axis 3 does not exist in a 3-axis sample"),
    ],
)
def test_a_cut_that_cannot_work_names_its_parameter(
    layer: str, params: dict, param: str, words: str
) -> None:
    (problem,) = analyse(chain([3, 5, 6], (layer, params))).for_node("n0")
    assert problem.param == param and words in problem.message


# ------------------------------------------------------------------ tensors with no input
def class_token_graph(**parameter: object) -> Graph:
    """A ViT's first steps: tokens with a learned class token in front, positions added."""
    graph = Graph()
    graph.add_node("Input", "tokens", {"shape": [4, 8]})
    graph.add_node("Parameter", "cls", {"shape": [1, 8], **parameter})
    graph.add_node("Concat", "join", {"axis": 0})
    graph.add_node("Parameter", "positions", {"shape": [5, 8]})
    graph.add_node("Add", "placed")
    graph.add_node("Output", "output")
    graph.connect(PortRef("cls", "out"), PortRef("join", "in"))
    graph.connect(PortRef("tokens", "out"), PortRef("join", "in"))
    graph.connect(PortRef("join", "out"), PortRef("placed", "in"))
    graph.connect(PortRef("positions", "out"), PortRef("placed", "in"))
    graph.connect(PortRef("placed", "out"), PortRef("output", "in"))
    return graph


def test_a_class_token_goes_before_every_sample_and_learns() -> None:
    graph = class_token_graph()
    analysis = analyse(graph)
    assert analysis.nodes["join"].shape == (5, 8)
    assert analysis.nodes["cls"].params == 8 and analysis.total_params == 8 + 40
    model = compile_graph(graph)
    x = torch.randn(3, 4, 8)
    out = model(x)
    token = model.cls.value[0, 0] + model.positions.value[0, 0]
    assert all(torch.allclose(out[i, 0], token) for i in range(3)), "the same token for each"
    out.sum().backward()
    assert model.cls.value.grad is not None and model.cls.value.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("init", "scale", "check"),
    [
        ("zeros", 0.02, lambda v: torch.all(v == 0)),
        ("ones", 0.02, lambda v: torch.all(v == 1)),
        ("constant", 1e-6, lambda v: torch.allclose(v, torch.full_like(v, 1e-6))),
        ("normal", 0.02, lambda v: 0.01 < float(v.std()) < 0.03),
        ("uniform", 0.5, lambda v: float(v.abs().max()) <= 0.5 and float(v.std()) > 0.2),
    ],
)
def test_a_parameter_starts_as_its_init_says(init: str, scale: float, check: object) -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [1, 64]})
    graph.add_node("Parameter", "learned", {"shape": [1, 64], "init": init, "scale": scale})
    graph.add_node("Add", "join")  # the Output must depend on the Input
    graph.add_node("Output", "output")
    graph.connect(PortRef("learned", "out"), PortRef("join", "in"))
    graph.connect(PortRef("input", "out"), PortRef("join", "in"))
    graph.connect(PortRef("join", "out"), PortRef("output", "in"))
    assert check(compile_graph(graph).learned.value.detach())  # type: ignore[operator]


def constant_graph(value: float) -> Graph:
    """1 - x, the 1 drawn as a Constant."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [3]})
    graph.add_node("Constant", "one", {"shape": [1], "value": value})
    graph.add_node("Subtract", "flip")
    graph.add_node("Output", "output")
    graph.connect(PortRef("one", "out"), PortRef("flip", "a"))
    graph.connect(PortRef("input", "out"), PortRef("flip", "b"))
    graph.connect(PortRef("flip", "out"), PortRef("output", "in"))
    return graph


def test_a_constant_is_kept_with_the_weights_and_never_trained(tmp_path) -> None:
    graph = constant_graph(1.0)
    model = compile_graph(graph)
    x = torch.randn(2, 3)
    np.testing.assert_allclose(model(x).detach().numpy(), (1 - x).numpy())
    assert not list(model.parameters()) and analyse(graph).total_params == 0
    with torch.no_grad():
        model.one.value.fill_(5.0)  # an import puts the file's numbers here
    save_weights(model, tmp_path / "w.safetensors")
    again = compile_graph(constant_graph(1.0))
    load_weights(again, tmp_path / "w.safetensors")
    np.testing.assert_allclose(again(x).detach().numpy(), (5 - x).numpy())


def test_an_output_that_reads_no_input_is_an_error() -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [3]})
    graph.add_node("Parameter", "guess", {"shape": [3]})
    graph.add_node("Output", "output")
    graph.connect(PortRef("guess", "out"), PortRef("output", "in"))
    problems = [str(d) for d in analyse(graph).errors]
    assert any("does not depend on any Input" in p for p in problems), problems


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize(
    ("layer", "params", "reference"),
    [
        ("HardSigmoid", {}, torch.nn.functional.hardsigmoid),
        ("HardSigmoid", {"alpha": 0.2, "beta": 0.5}, lambda x: torch.clamp(0.2 * x + 0.5, 0, 1)),
        ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}, lambda x: torch.clamp(x, -0.5, 2.0)),
        (
            "GELU",
            {"approximate": "tanh"},
            lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
        ),
        ("Mish", {}, torch.nn.functional.mish),
        ("Softsign", {}, torch.nn.functional.softsign),
        ("Erf", {}, torch.erf),
        ("Neg", {}, torch.neg),
        ("Abs", {}, torch.abs),
        ("Exp", {}, torch.exp),
    ],
)
def test_activations_and_functions_compute_what_torch_does(
    layer: str, params: dict, reference: object
) -> None:
    x = torch.linspace(-5, 5, 40).reshape(2, 20)
    np.testing.assert_allclose(
        run(chain([20], (layer, params)), x), reference(x).numpy(), rtol=1e-6, atol=1e-7
    )  # type: ignore[operator]


def test_hardtanh_needs_its_lower_bound_below_its_upper() -> None:
    (problem,) = analyse(chain([4], ("Hardtanh", {"min_val": 1.0, "max_val": 1.0}))).for_node("n0")
    assert problem.param == "min_val" and "must be below max_val" in problem.message
