"""While editing, each layer's node shows its output's memory for the training batch and the
inspector the full figures; both follow the batch size and the graph."""

from __future__ import annotations

from designer.inspector import Inspector
from engine.costs import size_text


def test_each_node_shows_its_outputs_memory_for_the_projects_batch(editor) -> None:
    batch = editor.document.project.training["batch_size"]
    conv1 = editor.scene.nodes["conv1"]
    assert conv1.memory_text == size_text(32 * 8 * 8 * 4 * batch)
    assert editor.scene.nodes["classifier"].memory_text == size_text(10 * 4 * batch)
    assert f"batch of {batch}" in conv1.toolTip()


def test_a_new_batch_size_changes_the_memory_on_the_nodes(editor) -> None:
    editor.document.set_value("training.batch_size", 8)
    editor.document.analyse_now()
    assert editor.scene.nodes["conv1"].memory_text == size_text(32 * 8 * 8 * 4 * 8)


def test_the_inspector_gives_a_layers_full_figures_and_the_networks_totals(editor, qtbot) -> None:
    inspector = Inspector(editor.document, editor.scene)
    qtbot.addWidget(inspector)
    costs = editor.document.costs
    inspector.show_selection()
    assert inspector.cost_label is not None
    overview = inspector.cost_label.text()
    assert size_text(costs.training_bytes) in overview and "inference" in overview
    editor.scene.select_nodes(["conv2"])
    text = inspector.cost_label.text()
    batch = costs.batch_size
    assert f"batch size {batch}" in text
    assert f"output  {size_text(64 * 4 * 4 * 4 * batch)}" in text
    assert f"kept for backward  {size_text(32 * 4 * 4 * 4 * batch)}" in text  # its input
    assert f"weights  {size_text(18_496 * 4)}" in text
    assert "FLOPs per byte moved" in text


def test_the_problems_list_warns_when_training_would_not_fit_the_device(
    editor, qtbot, monkeypatch
) -> None:
    from designer.problems import ProblemsPanel
    from engine import device_memory

    panel = ProblemsPanel(editor.document)
    qtbot.addWidget(panel)
    free = editor.document.costs.training_bytes * 3
    monkeypatch.setattr(
        device_memory, "free_memory", lambda device: device_memory.DeviceMemory("cpu", free)
    )
    editor.document.set_value("training.batch_size", 64 * 8)
    editor.document.analyse_now()
    panel.refresh(force=True)
    shown = " ".join(panel.diagnostics_shown())
    assert "training with batch size 512 needs about" in shown
    editor.document.set_value("training.batch_size", 64)
    editor.document.analyse_now()
    panel.refresh(force=True)
    assert "needs about" not in " ".join(panel.diagnostics_shown())


def test_the_warning_asks_the_device_the_window_trains_on(editor, monkeypatch) -> None:
    from engine import device_memory

    asked: list[str] = []

    def free(device: str) -> device_memory.DeviceMemory:
        asked.append(device)
        return device_memory.DeviceMemory(device, 10**12)

    monkeypatch.setattr(device_memory, "free_memory", free)
    editor.document.set_training_device("cuda:1")
    editor.document.analyse_now()
    editor.document.problems()
    assert asked[-1] == "cuda:1"
