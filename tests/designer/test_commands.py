"""Every edit is one undo step, and undo/redo bring the graph back exactly."""

from __future__ import annotations

from designer.document import Document
from engine.graph import Edge, PortRef


def snapshot(document: Document) -> dict:
    data = document.graph.to_json()
    return {"nodes": sorted(data["nodes"], key=lambda n: n["id"]), "edges": data["edges"]}


def round_trip(document: Document, edit) -> None:
    """Apply `edit` (one undo step), then check undo and redo restore both states."""
    before = snapshot(document)
    steps = document.undo_stack.count()
    edit()
    assert document.undo_stack.count() == steps + 1, "the edit should be exactly one undo step"
    after = snapshot(document)
    assert after != before
    document.undo()
    assert snapshot(document) == before
    document.redo()
    assert snapshot(document) == after


def wire(a: str, b: str) -> Edge:
    return Edge(PortRef(a, "out"), PortRef(b, "in"))


def test_adding_a_layer_undoes_and_redoes(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.add_node("Linear", (10, 20), {"out_features": 5}))
    assert doc.graph.node("linear").params == {"out_features": 5}


def test_deleting_a_layer_and_undoing_restores_its_wires_in_order(qtbot, project_named):
    doc = Document(project_named("residual-cnn"))
    merge = next(n for n in doc.graph if n.type == "Add")
    wires_in = [e for e in doc.graph.edges if e.target.node == merge.id]
    upstream = wires_in[0].source.node
    order_before = list(doc.graph.edges)
    round_trip(doc, lambda: doc.remove_nodes([upstream]))
    doc.undo()
    assert list(doc.graph.edges) == order_before


def test_deleting_several_layers_is_one_step(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.remove_nodes(["conv1", "bn1", "relu1"]))
    doc.undo()
    assert wire("conv1", "bn1") in doc.graph.edges
    assert wire("input", "conv1") in doc.graph.edges


def test_deleting_a_selection_of_layers_and_wires(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.remove(["dropout"], [wire("conv1", "bn1")]))


def test_connect_and_disconnect_round_trip(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.remove_wire(wire("bn1", "relu1")))
    round_trip(doc, lambda: doc.add_wire(PortRef("bn1", "out"), PortRef("relu1", "in")))


def test_reconnecting_a_wire_end_is_one_step(qtbot, project_named):
    doc = Document(project_named())
    old = wire("relu1", "pool1")
    round_trip(doc, lambda: doc.add_wire(PortRef("bn1", "out"), PortRef("pool1", "in"), old))
    assert old not in doc.graph.edges


def test_typing_into_one_parameter_merges_into_one_step(qtbot, project_named):
    doc = Document(project_named())
    before = snapshot(doc)
    for value in (1, 12, 128):
        doc.set_param("conv1", "out_channels", value, merge=True)
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Set conv1.out_channels to 128"
    doc.undo()
    assert snapshot(doc) == before
    doc.redo()
    assert doc.graph.node("conv1").params["out_channels"] == 128


def test_a_new_edit_after_leaving_the_field_is_a_new_step(qtbot, project_named):
    doc = Document(project_named())
    doc.set_param("conv1", "out_channels", 8, merge=True)
    doc.end_merge()
    doc.set_param("conv1", "out_channels", 16, merge=True)
    assert doc.undo_stack.count() == 2
    round_trip(doc, lambda: doc.set_param("dropout", "p", 0.1))


def test_moving_many_layers_is_one_step(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.move_nodes({"conv1": (5, 5), "bn1": (300, 40), "relu1": (0, 90)}))
    assert doc.undo_stack.undoText() == "Move 3 layers"


def test_renaming_round_trips_and_keeps_wires(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.rename("conv1", "stem"))
    assert wire("input", "stem") in doc.graph.edges
    assert doc.rename("stem", "bn1") == "a layer named 'bn1' already exists"
    assert "not a usable name" in doc.rename("stem", "9lives")


def test_auto_layout_round_trips(qtbot, project_named):
    doc = Document(project_named())
    doc.move_nodes({"conv1": (999, 999)})
    round_trip(doc, doc.auto_layout)
    assert doc.undo_stack.undoText() == "Auto-layout"


def test_pasting_copies_with_fresh_names_round_trips(qtbot, project_named):
    doc = Document(project_named())
    nodes = [doc.graph.node("conv1"), doc.graph.node("bn1")]
    new_ids: list[str] = []
    round_trip(doc, lambda: new_ids.extend(doc.paste(nodes, [wire("conv1", "bn1")], (0, 200))))
    assert new_ids == ["conv1_2", "bn1_2"]
    assert wire("conv1_2", "bn1_2") in doc.graph.edges


def test_inserting_a_layer_into_a_wire_is_one_step(qtbot, project_named):
    doc = Document(project_named())
    round_trip(doc, lambda: doc.insert_into_wire("Dropout", wire("flatten", "dropout"), (0, 0)))
    assert wire("flatten", "dropout_2") in doc.graph.edges
    assert wire("dropout_2", "dropout") in doc.graph.edges


def test_edits_are_analysed_once_per_burst(qtbot, project_named):
    doc = Document(project_named())
    seen = []
    doc.analysed.connect(seen.append)
    doc.set_param("conv1", "out_channels", 8)
    doc.set_param("conv2", "out_channels", 8)
    doc.add_node("ReLU")
    assert seen == []
    qtbot.waitUntil(lambda: len(seen) == 1)
    assert doc.analysis.nodes["conv2"].shape == (8, 4, 4)


def test_a_locked_graph_refuses_every_edit(qtbot, project_named):
    doc = Document(project_named())
    doc.set_param("conv1", "out_channels", 8)
    messages = []
    doc.message.connect(messages.append)
    doc.set_read_only(True)
    before = snapshot(doc)
    doc.add_node("ReLU")
    doc.remove_nodes(["conv1"])
    doc.set_param("conv1", "out_channels", 4)
    doc.undo()
    assert snapshot(doc) == before
    assert "locked while training" in messages[0]
    doc.set_read_only(False)
    doc.undo()
    assert doc.graph.node("conv1").params["out_channels"] == 32
