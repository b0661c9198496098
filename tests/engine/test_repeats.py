"""Find Repeated Blocks (issue 15, item 4): a graph a user built, with the same residual chain
three times, is proposed as three uses of one definition, nothing changed until applied;
applied, it computes what it computed with the same weights under their new names."""

from __future__ import annotations

from typing import Any

import torch

from engine.analysis import analyse
from engine.cli import run
from engine.compiler import compile_graph, example_input
from engine.graph import Graph, PortRef, copy_blocks
from engine.grouping import Fold, fold, layers_of
from engine.project import Project, save_project
from engine.repeats import apply_repeats, find_repeats, known_blocks_for, stable_order

CONV = {"out_channels": 4, "kernel_size": 3, "padding": 1, "bias": False}


def residual_chain(copies: int = 3, odd_one: bool = False) -> Graph:
    """A stem, `copies` Conv-BN-ReLU-Conv-BN-Add-ReLU blocks (the input added back), a head.
    With `odd_one`, the last block's second conv has a 1x1 kernel: not the same."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [1, 8, 8]})
    graph.add_node("Conv2d", "stem", CONV)
    graph.connect(PortRef("input", "out"), PortRef("stem", "in"))
    last = "stem"
    for k in range(1, copies + 1):
        ids = [f"{t}{k}" for t in ("conva", "bna", "relua", "convb", "bnb", "add", "relub")]
        odd = odd_one and k == copies
        params: list[dict[str, Any]] = [
            CONV,
            {},
            {},
            {**CONV, "kernel_size": 1, "padding": 0} if odd else CONV,
            {},
            {},
            {},
        ]
        types = ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "Add", "ReLU"]
        for node_id, type_name, p in zip(ids, types, params):
            graph.add_node(type_name, node_id, p)
        for a, b in zip([last, *ids], ids):
            graph.connect(PortRef(a, "out"), PortRef(b, "in"))
        graph.connect(PortRef(last, "out"), PortRef(f"add{k}", "in"))  # the skip
        last = ids[-1]
    for node_id, type_name, p in (
        ("pool", "AdaptiveAvgPool2d", {"output_size": 1}),
        ("flatten", "Flatten", {}),
        ("head", "Linear", {"out_features": 10}),
        ("output", "Output", {}),
    ):
        graph.add_node(type_name, node_id, p)
        graph.connect(PortRef(last, "out"), PortRef(node_id, "in"))
        last = node_id
    return graph


def test_the_repeated_chain_is_proposed_exactly_and_nothing_changes_until_applied() -> None:
    graph = residual_chain()
    before = graph.to_json()
    (proposal,) = find_repeats(graph)
    assert proposal.types == (
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "Conv2d",
        "BatchNorm2d",
        "Add",
        "ReLU",
    )
    assert proposal.uses == tuple(
        tuple(f"{t}{k}" for t in ("conva", "bna", "relua", "convb", "bnb", "add", "relub"))
        for k in (1, 2, 3)
    )
    assert proposal.name == "Conv2dBlock"
    assert graph.to_json() == before and graph.blocks == {}


def test_a_block_that_differs_is_left_out_and_a_single_chain_proposes_nothing() -> None:
    (proposal,) = find_repeats(residual_chain(odd_one=True))
    assert [use[0] for use in proposal.uses] == ["conva1", "conva2"]
    assert find_repeats(residual_chain(copies=1)) == []


def test_applying_keeps_the_computation_with_the_weights_renamed() -> None:
    graph = residual_chain()
    torch.manual_seed(0)
    original = compile_graph(graph, 0).eval()
    for module in original.modules():  # batch norm statistics that are not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    applied = apply_repeats(graph, find_repeats(graph))
    folded = applied.graph
    assert [n.type for n in folded] == [
        "Input", "Conv2d", "Block", "Block", "Block", "AdaptiveAvgPool2d", "Flatten", "Linear", "Output"
    ]  # fmt: skip
    assert list(folded.blocks) == ["Conv2dBlock"]
    assert analyse(folded).ok
    assert applied.renamed["convb2"] == "block2.convb1"
    module = compile_graph(folded, 1).eval()
    state = {}
    for key, value in original.state_dict().items():
        node_id, rest = key.split(".", 1)
        state[f"{applied.renamed.get(node_id, node_id)}.{rest}"] = value
    module.load_state_dict(state)  # strict: every weight has its new name, none left over
    x = example_input(graph, batch=3)
    with torch.no_grad():
        assert torch.allclose(module(x), original(x), atol=1e-6)
    assert sorted(p for p, _ in layers_of(folded))[:3] == [
        "block1.add1",
        "block1.bna1",
        "block1.bnb1",
    ]


def test_the_order_is_topological_and_follows_the_node_order_on_ties() -> None:
    graph = residual_chain(copies=1)
    order = stable_order(graph)
    assert order.index("stem") < order.index("conva1") < order.index("add1") < order.index("output")
    assert len(order) == len(graph)


def test_check_find_blocks_prints_the_proposal(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = save_project(
        Project(name="chain", graph=residual_chain()), tmp_path / "c.netwright.json"
    )
    text = path.read_text()
    assert run(["check", str(path), "--find-blocks"]) == 0
    printed = capsys.readouterr().out
    assert (
        "Conv2dBlock: 3 uses of Conv2d > BatchNorm2d > ReLU > Conv2d > BatchNorm2d > Add > ReLU"
        in printed
    )
    assert path.read_text() == text  # a proposal only: check never writes


def test_layers_that_are_a_known_block_are_offered_as_a_use_of_it() -> None:
    """What grouping tries first: a run with a definition's layer types and wire counts, with
    the values its use would set; the network computes the same only as a use of that one."""
    from engine.weights_follow import same_computation

    flat = residual_chain(3)
    folded = apply_repeats(flat, find_repeats(flat)).graph
    (name,) = folded.blocks
    flat.blocks.update(copy_blocks(folded.blocks))
    run = [f"{t}2" for t in ("conva", "bna", "relua", "convb", "bnb", "add", "relub")]
    assert known_blocks_for(flat, run) == [(name, {})]
    assert known_blocks_for(flat, run[:3]) == []  # fewer layers than the block holds
    inner = {member: member[:-1] + "1" for member in run}  # named inside as the first use's
    grouped = fold(flat, [Fold(name, "again", tuple(run), inner)])
    assert same_computation(flat, grouped)
    other = residual_chain(3, odd_one=True)
    assert not same_computation(flat, other)
