"""The graph document: every edit changes the model and says so through one signal."""

from __future__ import annotations

import pytest

from engine.graph import Graph, GraphError, PortRef


def chain() -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [4]})
    graph.add_node("Linear", "fc", {"out_features": 3})
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef("fc", "in"))
    graph.connect(PortRef("fc", "out"), PortRef("output", "in"))
    return graph


def test_each_edit_emits_its_signal_and_changed() -> None:
    graph = Graph()
    seen: list[str] = []
    graph.node_added.connect(lambda n: seen.append(f"added {n.id}"))
    graph.edge_added.connect(lambda e: seen.append(f"wired {e.source.node}->{e.target.node}"))
    graph.param_changed.connect(lambda n, k, v: seen.append(f"set {n}.{k}={v}"))
    graph.node_moved.connect(lambda n, p: seen.append(f"moved {n} {p}"))
    graph.node_renamed.connect(lambda a, b: seen.append(f"renamed {a}->{b}"))
    graph.edge_removed.connect(lambda e: seen.append("unwired"))
    graph.node_removed.connect(lambda n: seen.append(f"removed {n.id}"))
    changes: list[int] = []
    graph.changed.connect(lambda: changes.append(1))

    graph.add_node("Input", "input", {"shape": [4]})
    graph.add_node("Linear", "fc")
    graph.connect(PortRef("input", "out"), PortRef("fc", "in"))
    graph.set_param("fc", "out_features", 8)
    graph.move_node("fc", (10, 20))
    graph.rename_node("fc", "hidden")
    graph.remove_node("hidden")

    assert seen == [
        "added input",
        "added fc",
        "wired input->fc",
        "set fc.out_features=8",
        "moved fc (10.0, 20.0)",
        "renamed fc->hidden",
        "unwired",
        "removed hidden",
    ]
    assert len(changes) == 6  # moving does not change what the network computes


def test_removing_a_node_returns_its_wires_for_undo() -> None:
    graph = chain()
    node, edges = graph.remove_node("fc")
    assert node.type == "Linear"
    assert len(edges) == 2
    assert graph.edges == []


def test_renaming_moves_the_wires_with_the_node() -> None:
    graph = chain()
    graph.rename_node("fc", "classifier")
    assert "fc" not in graph
    assert {e.target.node for e in graph.edges} == {"classifier", "output"}


@pytest.mark.parametrize("bad", ["1abc", "has space", "forward", "class", "", "x" * 65])
def test_unusable_names_are_refused(bad: str) -> None:
    graph = chain()
    with pytest.raises(GraphError):
        graph.rename_node("fc", bad)
    assert "fc" in graph


def test_duplicate_ids_and_wires_are_refused() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="already exists"):
        graph.add_node("ReLU", "fc")
    with pytest.raises(GraphError, match="already connected"):
        graph.connect(PortRef("input", "out"), PortRef("fc", "in"))


def test_unique_ids_count_up() -> None:
    graph = chain()
    assert graph.unique_id("Linear") == "linear"
    graph.add_node("Linear")
    assert graph.unique_id("Linear") == "linear_2"
    assert graph.unique_id("Forward") == "forward_layer"


def test_cycle_detection_sees_long_loops() -> None:
    graph = chain()
    assert graph.would_create_cycle("output", "input")
    assert graph.would_create_cycle("fc", "fc")
    assert not graph.would_create_cycle("input", "output")


def test_a_copy_is_independent_of_the_original() -> None:
    graph = chain()
    snapshot = graph.copy()
    graph.set_param("fc", "out_features", 99)
    graph.remove_node("output")
    assert snapshot.nodes["fc"].params["out_features"] == 3
    assert "output" in snapshot
