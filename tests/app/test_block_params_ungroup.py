"""Ungrouping a use of a definition with parameters puts back its layers with the use's
values, not the definition's references (docs/blocks.md, per-use parameters)."""

from __future__ import annotations

from designer.grouping import ungroup
from engine.analysis import analyse
from engine.project import project_from_json
from tests.engine.test_block_params import document


def test_ungrouping_a_use_puts_back_its_own_values(qtbot) -> None:  # qtbot: a Qt application
    graph = project_from_json(document()).graph
    macro, ids = ungroup(graph, "layer2", last_use=False)
    macro.redo()
    assert "layer2" not in graph
    convs = [graph.node(i) for i in ids if graph.node(i).type == "Conv2d"]
    assert {c.params["out_channels"] for c in convs} == {32}
    assert {c.params["stride"] for c in convs} == {2}
    assert analyse(graph).ok
