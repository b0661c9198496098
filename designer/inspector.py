"""The inspector: the selected layer's name, help, shape, problems and parameters.

The parameter form is generated from the layer's declaration. Each edit is an
undo command through the document; typing or scrolling in one field merges
into a single step until the field loses focus.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from designer import theme
from designer.block_params_section import BlockParamRow, BlockParamsSection
from designer.document import Document
from designer.form_parts import form_box, set_text, text_label
from designer.layer_help import param_note, param_tooltip, ports_text
from designer.node_item import NodeItem, count_text, format_value
from designer.param_editors import ParamEditor, restyle
from designer.qt_helpers import clear_layout
from designer.scene import GraphScene, time_text
from engine.analysis import Analysis
from engine.blocks import (
    BLOCK,
    declared,
    default_for,
    definition_of,
    fitting_params,
    layer_for,
    param_name_problem,
    reference,
    suggested_param_name,
)
from engine.costs import LayerCost, NetworkCost, size_text
from engine.layers import LayerType
from engine.layers._shape import fmt
from engine.layers.base import Param


class Inspector(QScrollArea):
    def __init__(
        self, document: Document, scene: GraphScene, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Inspector")
        self.document = document
        self.scene = scene
        self.item: NodeItem | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.per_use_buttons: dict[str, QToolButton] = {}
        self.link_labels: dict[str, QLabel] = {}
        self.block_section: BlockParamsSection | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._page = QWidget()
        self._page.setObjectName("InspectorPage")
        self.setWidget(self._page)
        self._layout = QVBoxLayout(self._page)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(8)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        scene.selectionChanged.connect(self.show_selection)
        document.analysed.connect(self._refresh)
        scene.measured_changed.connect(lambda: self._refresh(self.document.analysis))
        document.read_only_changed.connect(lambda _locked: self.show_selection())
        self.show_selection()

    # ------------------------------------------------------------ selection
    def show_selection(self) -> None:
        if not isValid(self.scene) or not isValid(self):
            return  # the window is closing
        items = [i for i in self.scene.selectedItems() if isinstance(i, NodeItem)]
        self.item = items[0] if len(items) == 1 else None
        self._clear()
        if self.item is not None and self.item.node_id in self.document.graph:
            self._build_node(self.item)
        else:
            self._build_overview(len(items))

    def _clear(self) -> None:
        self.editors = {}
        self.per_use_buttons = {}
        self.link_labels = {}
        self.block_section = None
        self.name_edit: QLineEdit | None = None
        self.status_label: QLabel | None = None
        self.problems_label: QLabel | None = None
        self.cost_label: QLabel | None = None
        self.problem_note: QLabel | None = None
        clear_layout(self._layout)

    def _build_overview(self, count: int) -> None:
        analysis = self.document.analysis
        heading = text_label(
            f"{count} layers selected" if count > 1 else "No layer selected", "InspectorTitle"
        )
        self._layout.addWidget(heading)
        self.status_label = text_label(self._overview_text(), "InspectorDim")
        self._layout.addWidget(self.status_label)
        if analysis.ok and analysis.nodes:
            self.cost_label = text_label(network_cost_text(self.document.costs), "InspectorDim")
            self.cost_label.setObjectName("InspectorCost")
            self._layout.addWidget(self.cost_label)
        self._layout.addWidget(
            text_label(
                "Select a layer to edit its parameters. Drag layers in from the palette, "
                "or press Tab on the canvas to add one by name.",
                "InspectorDim",
            )
        )
        block = self.document.block_shown
        if count == 0 and block is not None:
            self.block_section = BlockParamsSection(self.document, block, self._refused)
            self._layout.addWidget(self.block_section)
            self.problem_note = self.block_section.problem_note

    @property
    def block_rows(self) -> dict[str, BlockParamRow]:
        """The Block parameters rows shown (inside a block, nothing selected), by name."""
        return self.block_section.rows if self.block_section is not None else {}

    def _overview_text(self) -> str:
        graph, analysis = self.document.graph, self.document.analysis
        return "\n".join(
            [
                f"{len(graph)} layers, {len(graph.edges)} wires",
                f"{analysis.total_params:,} trainable parameters",
                f"{2 * analysis.total_macs:,} FLOPs per sample",
            ]
        )

    def _refresh_overview_text(self) -> None:
        if self.status_label is not None:
            set_text(self.status_label, self._overview_text())
        if self.cost_label is not None and self.document.analysis.ok:
            set_text(self.cost_label, network_cost_text(self.document.costs))

    def _build_node(self, item: NodeItem) -> None:
        node = self.document.graph.node(item.node_id)
        layer = layer_for(node, self.document.graph.blocks)
        header = QHBoxLayout()
        icon = QLabel()
        colour = theme.category_colour(item.category)
        icon.setPixmap(theme.layer_icon(item.icon_name, colour.name()).pixmap(22, 22))
        header.addWidget(icon)
        self.name_edit = QLineEdit(node.id)
        self.name_edit.setObjectName("InspectorName")
        self.name_edit.setToolTip("The layer's name (F2 on the canvas renames too)")
        self.name_edit.editingFinished.connect(self._rename)
        self.name_edit.setReadOnly(self.document.read_only)
        header.addWidget(self.name_edit, 1)
        box = QWidget()
        box.setLayout(header)
        header.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(box)
        self._layout.addWidget(text_label(f"{node.type} · {item.category}", "InspectorDim"))
        if layer is not None:
            self._layout.addWidget(text_label(layer.help, "InspectorHelp"))
            self._layout.addWidget(text_label(ports_text(layer), "InspectorDim"))
        self.status_label = text_label("", "InspectorShape")
        self.problems_label = text_label("", "InspectorProblems")
        self.cost_label = text_label("", "InspectorCost")
        self._layout.addWidget(self.status_label)
        self._layout.addWidget(self.cost_label)
        self._layout.addWidget(self.problems_label)
        if layer is None or not layer.params:
            self._layout.addWidget(text_label("This layer has no parameters.", "InspectorDim"))
        else:
            self._build_form(node.params, layer)
        self._refresh(self.document.analysis)

    def _build_form(self, given: dict[str, object], layer: LayerType) -> None:
        box, form = form_box(top=4)
        node = self.document.graph.node(self.item.node_id) if self.item else None
        for param in layer.params:
            if node is not None and node.type == BLOCK and param.name == "block":
                param = _block_choice(param, self.document.project.blocks)
            editor = ParamEditor(param, self._shown_value(param, given))
            editor.setEnabled(not self.document.read_only)
            editor.edited.connect(
                lambda value, merge, name=param.name: self._edit(name, value, merge)
            )
            editor.refused.connect(self._refused)
            editor.finished.connect(self.document.end_merge)
            self.editors[param.name] = editor
            label = QLabel(param.name)
            label.setToolTip(param_tooltip(param))
            field_box = QWidget()
            column = QVBoxLayout(field_box)
            column.setContentsMargins(0, 0, 0, 4)
            column.setSpacing(2)
            field_row = QHBoxLayout()
            field_row.setSpacing(4)
            field_row.addWidget(editor, 1)
            button = self._per_use_button(param) if node is not None else None
            if button is not None:
                field_row.addWidget(button)
                self.per_use_buttons[param.name] = button
            column.addLayout(field_row)
            link = text_label("", "InspectorLinked")
            link.hide()
            self.link_labels[param.name] = link
            column.addWidget(link)
            column.addWidget(text_label(param_note(param), "InspectorParamHelp"))
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 5, 0, 0)
            form.addRow(label, field_box)
        self.problem_note = text_label("", "InspectorRefusal")
        self.problem_note.hide()
        self._layout.addWidget(box)
        self._layout.addWidget(self.problem_note)

    # ------------------------------------------------------ per-use values
    def _shown_value(self, param: Param, given: dict[str, object]) -> object:
        """What a field shows: the value, or for a parameter a block parameter sets, the value
        in use (the use entered through's, else the block's default)."""
        value = given.get(param.name, param.default)
        if reference(value) is not None and self.item is not None:
            value = self._value_in_use(self.item.node_id, param.name)
        return value

    def _value_in_use(self, node_id: str, name: str) -> Any:
        node = self.document.graph.node(node_id)
        linked = reference(node.params.get(name))
        if linked is None:
            layer = layer_for(node, self.document.graph.blocks)
            param = layer.param(name) if layer is not None else None
            return node.params.get(name, param.default if param is not None else None)
        info = self.document.analysis.nodes.get(node_id)
        value = info.resolved.get(name) if info is not None else None
        if value is None or reference(value) is not None:
            value = declared(self.document.graph).get(linked)
        return value

    def _per_use_button(self, param: Param) -> QToolButton | None:
        """The small button beside a field: inside a block, make the parameter per use (or
        fixed again); on a block node, go back to the block's default."""
        assert self.item is not None
        node = self.document.graph.node(self.item.node_id)
        inside = self.document.block_shown is not None and param.kind in LINKABLE
        own = node.type == BLOCK and param.name != "block"
        if (param.name == "block" and node.type == BLOCK) or not (inside or own):
            return None
        button = QToolButton()
        button.setObjectName("InspectorPerUse")
        button.setAutoRaise(True)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setEnabled(not self.document.read_only)
        menu = QMenu(button)
        menu.aboutToShow.connect(lambda: self._fill_menu(menu, param.name))
        button.setMenu(menu)
        return button

    def _fill_menu(self, menu: QMenu, name: str) -> None:
        """The per-use menu, made as it opens so it shows the parameters declared now."""
        menu.clear()
        if self.item is None or self.item.node_id not in self.document.graph:
            return
        node = self.document.graph.node(self.item.node_id)
        layer = layer_for(node, self.document.graph.blocks)
        param = layer.param(name) if layer is not None else None
        if param is None:
            return
        linked = reference(node.params.get(name))
        block = self.document.block_shown
        if block is not None and param.kind in LINKABLE:
            set_per_use = menu.addAction("Set per use…")
            set_per_use.triggered.connect(lambda: self.link_new(name))
            value = self._value_in_use(node.id, name)
            if linked is None and default_for(param, value) is None:
                set_per_use.setEnabled(False)
                set_per_use.setToolTip(per_use_refusal(name, value))
                menu.setToolTipsVisible(True)
            definition = self.document.graph
            fitting = fitting_params(definition, param)
            if fitting:
                menu.addSection(f"Use a parameter of block '{block}'")
                defaults = declared(definition)
                for declared_name in fitting:
                    action = menu.addAction(
                        f"{declared_name}   (default {defaults[declared_name]})"
                    )
                    action.setCheckable(True)
                    action.setChecked(declared_name == linked)
                    action.triggered.connect(lambda _on=False, p=declared_name: self.link(name, p))
            menu.addSeparator()
            unlink = menu.addAction("Unlink: use a fixed value")
            unlink.setEnabled(linked is not None)
            unlink.triggered.connect(lambda: self.unlink(name))
        found = definition_of(node, self.document.project.blocks)
        if node.type == BLOCK and found is not None and name in declared(found[1]):
            default = declared(found[1])[name]
            reset = menu.addAction(f"Reset to the block's default ({default})")
            reset.setEnabled(name in node.params)
            reset.triggered.connect(lambda: self._edit(name, None, False))

    def link_new(self, name: str) -> None:
        """Ask for a name and make parameter `name` take a new block parameter of that name,
        its default the value in use now."""
        if self.item is None:
            return
        node_id = self.item.node_id
        layer = layer_for(self.document.graph.node(node_id), self.document.graph.blocks)
        param = layer.param(name) if layer is not None else None
        if param is None:
            return
        value = self._value_in_use(node_id, name)
        default = default_for(param, value)
        if default is None:
            self._refused(per_use_refusal(name, value))
            return
        suggested = suggested_param_name(self.document.graph, name)
        block = self.document.block_shown
        chosen, ok = QInputDialog.getText(
            self,
            f"Set {name} per use",
            f"Each node using block '{block}' will set {node_id}.{name} itself.\n"
            f"Name of the new block parameter (its default: {default}):",
            QLineEdit.EchoMode.Normal,
            suggested,
        )
        chosen = chosen.strip()
        if not ok or not chosen:
            return
        problem = param_name_problem(self.document.graph, chosen)
        if problem is not None:
            if chosen in declared(self.document.graph):
                problem += f": pick '{chosen}' in the menu beside {name} to use it"
            self._refused(problem)
            return
        self.link(name, chosen, default)

    def link(self, name: str, block_param: str, default: Any = None) -> None:
        if self.item is None:
            return
        problem = self.document.link_param(self.item.node_id, name, block_param, default)
        if problem:
            self._refused(problem)

    def unlink(self, name: str) -> None:
        """Give a per-use parameter the value in use now, fixed for every use."""
        if self.item is None:
            return
        value = self._value_in_use(self.item.node_id, name)
        self.document.unlink_param(self.item.node_id, name, value)

    def _refresh_links(self, node_id: str) -> None:
        """Each field's per-use state: linked (which block parameter, the value in use) or
        fixed; on a block node whether it has its own value or the block's default."""
        graph = self.document.graph
        node = graph.node(node_id)
        found = definition_of(node, self.document.project.blocks)
        defaults = declared(found[1]) if node.type == BLOCK and found is not None else {}
        level = self.document.trail[-1] if self.document.trail else None
        t = theme.current()
        for name, label in self.link_labels.items():
            linked = reference(node.params.get(name))
            editor = self.editors[name]
            if linked is not None:
                value = self._value_in_use(node_id, name)
                where = f" in {level.node}" if level is not None and level.node else ""
                default = declared(graph).get(linked)
                text = f"🔗 {linked} (per use) · {value}{where or ' (the default)'}"
                tip = (
                    f"Each node using block '{self.document.block_shown}' sets '{linked}' "
                    f"(default {default}). Type a value here to fix it for every use instead, "
                    "or use the menu beside."
                )
            elif name in defaults:
                own = name in node.params
                text = (
                    f"This node's own value · the block's default is {defaults[name]}"
                    if own
                    else f"The block's default ({defaults[name]})"
                )
                tip = "Set here for this node only; other nodes of the block keep theirs."
            else:
                text, tip = "", f"{editor.param.help}\nAccepts: {editor.param.describe()}"
            set_text(label, text)
            label.setVisible(bool(text))
            for widget in (label, editor.field):
                if bool(widget.property("linked")) != (linked is not None):
                    widget.setProperty("linked", linked is not None)
                    restyle(widget)
            editor.field.setToolTip(tip)
            label.setToolTip(tip if text else "")
            button = self.per_use_buttons.get(name)
            if button is not None:
                colour = t.accent if linked is not None else t.text_dim
                icon = "mdi6.link-variant" if linked is not None else "mdi6.dots-horizontal"
                button.setIcon(theme.layer_icon(icon, colour))
                button.setToolTip(
                    f"Per use: '{linked}'. Click to unlink or pick another parameter"
                    if linked is not None
                    else "Make this parameter per use, or reset it"
                    if self.document.block_shown is not None
                    else "Reset to the block's default"
                )

    # --------------------------------------------------------------- edits
    def _edit(self, name: str, value: object, merge: bool) -> None:
        if self.item is None:
            return
        if self.problem_note is not None:
            self.problem_note.hide()
        self.document.unlink_param(self.item.node_id, name, value, merge)

    def _refused(self, reason: str) -> None:
        if self.problem_note is not None:
            self.problem_note.setText("Not applied: " + reason)
            self.problem_note.show()
        self.document.message.emit("Not applied: " + reason)

    def _rename(self) -> None:
        if self.item is None or self.name_edit is None:
            return
        new_id = self.name_edit.text().strip()
        problem = self.document.rename(self.item.node_id, new_id)
        if problem:
            self._refused(problem)
            self.name_edit.setText(self.item.node_id)

    # ------------------------------------------------------------- refresh
    def _refresh(self, analysis: Analysis) -> None:
        """After each analysis: shape, count and problems, and values changed elsewhere."""
        item = self.item
        if item is None:
            if self.block_section is not None and self.block_section.refresh():
                self._refresh_overview_text()
            elif self.status_label is not None and self._layout.count():
                self.show_selection()
            return
        if item.scene() is None or item.node_id not in self.document.graph:
            self.show_selection()
            return
        node = self.document.graph.node(item.node_id)
        info = analysis.nodes.get(node.id)
        shapes = [fmt(s) for s in info.shapes.values()] if info is not None else []
        shape = ", ".join(shapes) or "unknown"
        if self.status_label is not None:
            count = count_text(info.params) if info is not None else "0 params"
            set_text(
                self.status_label,
                f"{_inputs_text(node.id, self.document)}Output  {shape}   ·   {count}",
            )
        if self.cost_label is not None:
            cost = self.document.costs.layers.get(node.id) if analysis.ok else None
            text = layer_cost_text(cost, self.document.costs) if cost is not None else ""
            measured = self.scene.measured.get(node.id)
            if measured is not None:
                text += ("\n" if text else "") + measured_text(measured)
            set_text(self.cost_label, text)
            self.cost_label.setVisible(bool(text))
        if self.problems_label is not None:
            problems = analysis.for_node(node.id)
            set_text(
                self.problems_label,
                "\n".join(
                    f"{'✖' if d.severity == 'error' else '⚠'} {d.message}"
                    + (f" — {d.hint}" if d.hint else "")
                    for d in problems
                ),
            )
            self.problems_label.setVisible(bool(problems))
        if self.name_edit is not None and not self.name_edit.hasFocus():
            if self.name_edit.text() != node.id:
                self.name_edit.setText(node.id)
        layer = layer_for(node, self.document.graph.blocks)
        if layer is not None and list(self.editors) != [p.name for p in layer.params]:
            self.show_selection()  # another definition chosen: other parameters
            return
        for name, editor in self.editors.items():
            if editor.field.hasFocus():
                continue
            editor.set_value(self._value_in_use(node.id, name))
        self._refresh_links(node.id)


def layer_cost_text(cost: LayerCost, network: NetworkCost) -> str:
    """A layer's full figures: memory per sample and for the batch, weights, intensity."""
    batch = cost.batch_size
    lines = [
        f"Memory at batch size {batch} (float32)",
        f"  output  {size_text(cost.output_batch_bytes)}  ({size_text(cost.output_bytes)} a sample)",
        f"  kept for backward  {size_text(cost.saved_batch_bytes)}  "
        f"({size_text(cost.saved_bytes)} a sample)",
    ]
    if cost.param_bytes:
        training = cost.param_bytes * (2 + network.optimizer_copies)
        lines.append(
            f"  weights  {size_text(cost.param_bytes)}; in training {size_text(training)} "
            f"with gradients and optimizer state"
        )
    if cost.intensity is not None:
        lines.append(
            f"  {cost.flops * batch:,} FLOPs a batch, {cost.intensity:.1f} FLOPs per byte moved"
        )
    return "\n".join(lines)


def network_cost_text(cost: NetworkCost) -> str:
    """The network's totals at the project's batch size."""
    return (
        f"Memory at batch size {cost.batch_size}\n"
        f"  training  {size_text(cost.training_bytes)}  (weights, gradients, optimizer state "
        f"{size_text(cost.training_bytes - cost.training_activation_bytes)}; activations "
        f"{size_text(cost.training_activation_bytes)} at the peak, "
        f"{size_text(cost.saved_bytes)} of them kept for backward)\n"
        f"  inference  {size_text(cost.inference_bytes)}  (weights "
        f"{size_text(cost.param_bytes)}; activations {size_text(cost.inference_activation_bytes)})"
    )


def measured_text(layer: Any) -> str:
    """A layer's measured time (an engine.profiling.LayerTime) from Analyze > Profile."""
    parts = f"forward {time_text(layer.forward_ms)}"
    if layer.backward_ms is not None:
        parts += f", backward {time_text(layer.backward_ms)}"
    return f"Measured per batch: {parts} ({100 * layer.share:.1f}% of the network's time)"


def _inputs_text(node_id: str, document: Document) -> str:
    """The shapes flowing in, so the inspector reads as "In 1x8x8 → Out 32x8x8"."""
    shapes = []
    for edge in document.graph.edges_into(node_id):
        info = document.analysis.nodes.get(edge.source.node)
        shape = info.shapes.get(edge.source.port) if info is not None else None
        shapes.append(fmt(shape) if shape is not None else "?")
    return f"Input  {', '.join(shapes)}   →   " if shapes else ""


LINKABLE = ("int", "float", "bool", "str", "choice", "size")  # a block parameter can set these


def _block_choice(param: Param, blocks: dict[str, Any]) -> Param:
    """A block node's `block` field: a choice of the project's definitions, not free text."""
    names = tuple(blocks) if param.default in blocks else (*blocks, param.default)
    return replace(param, kind="choice", choices=names)


def per_use_refusal(name: str, value: Any) -> str:
    """Why parameter `name` cannot be made per use with `value` in it."""
    return (
        f"Cannot set {name} per use: its value {format_value(value)} is not one number, text "
        "or true/false, which is what a block parameter holds"
    )
