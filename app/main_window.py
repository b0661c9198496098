"""The main window: the graph editor in the middle, palette, inspector and problems docks.

Kept modular on purpose: each dock is made by a small method, the editor
(`self.editor`, with `self.document` and `self.view`) is the only owner of the
project, and `set_read_only` locks editing while something (training) works on
the graph. Other parts of the app add their toolbars and docks beside these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from app import error_log, export_menu, recovery
from app.gallery import gallery_action
from app.gan.install import install_gan
from app.help import install_help
from app.inside.install import install_inside
from app.profile.install import install_profile
from app.runs.install import install_runs
from app.text.install import install_text
from app.training.install import install_training

if TYPE_CHECKING:
    from app.panels.data_panel import DataPanel
    from app.panels.training_settings import TrainingSettingsPanel
from designer import theme
from designer.clipboard import release_clipboard_on_quit
from designer.editor import Editor
from designer.inspector import Inspector
from designer.network_tabs import NetworkTabs
from designer.palette import Palette
from designer.problems import ProblemsPanel
from engine.atomic import WriteError
from engine.project import SUFFIX, Project, ProjectError, load_project, project_stem, save_project

MAX_RECENT = 8
Keys = str | QKeySequence.StandardKey
FILE_FILTER = f"Netwright projects (*{SUFFIX} *.json);;All files (*)"


class MainWindow(QMainWindow):
    project_saved = Signal(object)  # the Path, after Save or Save As wrote the project
    first_painted = Signal()  # once, just after the window first painted: slow parts start

    def __init__(self, project: Project | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("Netwright", "Netwright")
        self.editor = Editor(project, self)
        self.document = self.editor.document
        self.scene = self.editor.scene
        self.view = self.editor.view
        self.named_actions: dict[str, QAction] = {}  # every command of the window, by id
        self.menus: dict[str, QMenu] = {}  # the menu bar's menus, by id: file, edit, view, help
        # a tab per network (GANs), the breadcrumbs of the block entered under them
        self.network_tabs = NetworkTabs(self.document, self.view, header=self.editor.breadcrumbs)
        self.setCentralWidget(self.network_tabs)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.installEventFilter(self)  # until the first paint: see eventFilter
        self.palette_dock = self._add_palette_dock()
        self.inspector_dock = self._add_inspector_dock()
        self.problems_dock = self._add_problems_dock()
        self._build_status_bar()
        self._build_menus()
        self.document.modified_changed.connect(lambda _m: self.update_title())
        self.document.project_replaced.connect(self.update_title)
        self.document.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.scene.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.document.read_only_changed.connect(self._show_lock)
        self.document.analysed.connect(self._update_counts)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.resize(1440, 900)
        self._restore_state()
        self.update_title()
        self._update_counts()
        self.recovery = recovery.Recovery(self)  # autosave; offered back after a crash
        self.export_import = export_menu.install_export_menus(self)
        error_log.install_log_action(self)
        self.training = install_training(self)  # toolbar, Train menu, dashboard and data docks
        self.gan = install_gan(self)  # a GAN project's live page: losses, D(x), sample grid
        self.writing = install_text(self)  # a language model's page: its writing, Generate
        self.inside = install_inside(self)  # the Inside tab (layer by layer) and Explain
        self.runs = install_runs(self)  # the run history, the search, the learning-rate finder
        self.profiler = install_profile(self)  # Analyze > Profile: measured time per layer

    @property
    def training_settings(self) -> TrainingSettingsPanel:
        return self.training.settings_panel

    @property
    def data_panel(self) -> DataPanel:
        return self.training.data_panel

    # ----------------------------------------------------------------- docks
    def add_dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _add_palette_dock(self) -> QDockWidget:
        self.layer_palette = Palette()
        self.layer_palette.add_requested.connect(self.view.add_layer_at_centre)
        self.layer_palette.block_requested.connect(self.view.add_block_at_centre)
        dock = self.add_dock(
            "Layers", "PaletteDock", self.layer_palette, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        dock.setMinimumWidth(210)
        return dock

    def _add_inspector_dock(self) -> QDockWidget:
        self.inspector = Inspector(self.document, self.scene)
        dock = self.add_dock(
            "Inspector", "InspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        dock.setMinimumWidth(280)
        return dock

    def _add_problems_dock(self) -> QDockWidget:
        self.problems = ProblemsPanel(self.document)
        self.problems.node_chosen.connect(self.reveal_node)
        self.problems.count_changed.connect(self._show_problem_count)
        return self.add_dock(
            "Problems", "ProblemsDock", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea
        )

    def reveal_node(self, node_id: str) -> None:
        """Select a layer and bring it into view (from the Problems list)."""
        item = self.scene.nodes.get(node_id)
        if item is None:
            return
        self.scene.select_nodes([node_id])
        self.view.centerOn(item)

    # ------------------------------------------------------------ status bar
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.lock_label = QLabel("Read-only while training")
        self.lock_label.setObjectName("LockIndicator")
        self.lock_label.hide()
        self.problem_label = QLabel()
        self.count_label = QLabel()
        self.zoom_label = QLabel("100%")
        for widget in (self.lock_label, self.problem_label, self.count_label, self.zoom_label):
            bar.addPermanentWidget(widget)

    def _show_problem_count(self, errors: int, warnings: int) -> None:
        if not errors and not warnings:
            self.problem_label.setText("✔ ready")
        else:
            self.problem_label.setText(f"✖ {errors}   ⚠ {warnings}")

    def _update_counts(self, *_: object) -> None:
        graph, analysis = self.document.graph, self.document.analysis
        text = f"{len(graph)} layers · {analysis.total_params:,} params"
        if self.count_label.text() != text:
            _set_steady_text(self.count_label, text)

    def _show_lock(self, locked: bool) -> None:
        self.lock_label.setVisible(locked)
        for name in (
            *("undo", "redo", "cut", "paste", "duplicate", "delete", "rename", "layout"),
            *("group", "ungroup", "make_unique"),
        ):
            self.named_actions[name].setEnabled(not locked)
        self.layer_palette.setEnabled(not locked)

    def set_read_only(self, locked: bool) -> None:
        """Lock the graph while training runs; an indicator shows it on canvas and status bar."""
        self.editor.set_read_only(locked)

    # ----------------------------------------------------------------- menus
    def _action(
        self,
        name: str,
        text: str,
        slot: Callable[[], object],
        keys: Keys | list[Keys] | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            sequences = keys if isinstance(keys, list) else [keys]
            action.setShortcuts([QKeySequence(k) for k in sequences])
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return self.add_action(name, action)

    def add_action(self, name: str, action: QAction) -> QAction:
        """Register a command under its id (menus and tests find it by id, never by label)."""
        self.named_actions[name] = action
        return action

    def action(self, name: str) -> QAction:
        return self.named_actions[name]

    def add_menu(self, name: str, title: str, before: str | None = None) -> QMenu:
        """A menu of the menu bar under its id, at the end or before menu `before`."""
        menu = QMenu(title, self)
        anchor = self.menus.get(before) if before is not None else None
        if anchor is not None:
            self.menuBar().insertMenu(anchor.menuAction(), menu)
        else:
            self.menuBar().addMenu(menu)
        self.menus[name] = menu
        return menu

    def _build_menus(self) -> None:
        self._file_menu(self.add_menu("file", "&File"))
        self._edit_menu(self.add_menu("edit", "&Edit"))
        self._view_menu(self.add_menu("view", "&View"))
        install_help(self, self.add_menu("help", "&Help"))

    def _file_menu(self, menu: QMenu) -> None:
        a = self._action
        menu.addAction(a("new", "&New", self.new_project, QKeySequence.StandardKey.New))
        menu.addAction(gallery_action(self))
        menu.addAction(a("open", "&Open…", self.open_dialog, QKeySequence.StandardKey.Open))
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        menu.addAction(a("save", "&Save", self.save, QKeySequence.StandardKey.Save))
        menu.addAction(a("save_as", "Save &As…", self.save_as, "Ctrl+Shift+S"))
        menu.addSeparator()
        menu.addAction(a("quit", "&Quit", self.close, "Ctrl+Q"))

    def _edit_menu(self, menu: QMenu) -> None:
        a, e = self._action, self.editor
        stack = self.document.undo_stack
        undo = a("undo", "&Undo", self.document.undo, "Ctrl+Z")
        redo = a("redo", "&Redo", self.document.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        stack.undoTextChanged.connect(lambda t: undo.setText(f"&Undo {t}".strip()))
        stack.redoTextChanged.connect(lambda t: redo.setText(f"&Redo {t}".strip()))
        stack.canUndoChanged.connect(lambda ok: undo.setEnabled(ok and not self.document.read_only))
        stack.canRedoChanged.connect(lambda ok: redo.setEnabled(ok and not self.document.read_only))
        undo.setEnabled(False)
        redo.setEnabled(False)
        for action in (undo, redo):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(a("cut", "Cu&t", e.cut, "Ctrl+X"))
        menu.addAction(a("copy", "&Copy", e.copy, "Ctrl+C"))
        menu.addAction(a("paste", "&Paste", e.paste, "Ctrl+V"))
        menu.addAction(a("duplicate", "&Duplicate", e.duplicate, "Ctrl+D"))
        menu.addAction(
            a(
                "delete",
                "De&lete",
                e.delete_selected,
                [QKeySequence.StandardKey.Delete, "Backspace"],
            )
        )
        menu.addAction(a("select_all", "Select &All", e.select_all, "Ctrl+A"))
        menu.addSeparator()
        menu.addAction(a("rename", "Re&name Layer…", lambda: e.rename_selected(self), "F2"))
        menu.addAction(a("layout", "Auto-La&yout", e.auto_layout, "Ctrl+L"))
        menu.addSeparator()
        menu.addAction(a("group", "Group into &Block", e.group_selected, "Ctrl+G"))
        menu.addAction(a("ungroup", "Ungr&oup Block", e.ungroup_selected, "Ctrl+Shift+G"))
        menu.addAction(a("make_unique", "Make Block Uni&que", e.make_unique_selected))
        menu.addAction(
            a("find_blocks", "&Find Repeated Blocks…", lambda: e.find_repeated_blocks(self))
        )
        align = menu.addMenu("Ali&gn")
        for key, text in (
            ("left", "&Left Edges"),
            ("top", "&Top Edges"),
            ("row", "In a &Row"),
            ("column", "In a &Column"),
        ):
            align.addAction(a(f"align_{key}", text, functools.partial(e.align, key)))

    def _view_menu(self, menu: QMenu) -> None:
        a, v = self._action, self.view
        menu.addAction(a("fit", "Zoom to &Fit", v.zoom_to_fit, "Ctrl+0"))
        menu.addAction(a("zoom_in", "Zoom &In", v.zoom_in, QKeySequence.StandardKey.ZoomIn))
        menu.addAction(a("zoom_out", "Zoom &Out", v.zoom_out, QKeySequence.StandardKey.ZoomOut))
        menu.addSeparator()
        snap = a("snap", "&Snap to Grid", lambda: None)
        snap.setCheckable(True)
        snap.setChecked(self.scene.snap_to_grid)
        snap.toggled.connect(lambda on: setattr(self.scene, "snap_to_grid", on))
        minimap = a("minimap", "Overview &Map", lambda: None)
        minimap.setCheckable(True)
        minimap.setChecked(True)
        minimap.toggled.connect(v.minimap.setVisible)
        menu.addAction(snap)
        menu.addAction(minimap)
        themes = menu.addMenu("&Theme")
        group = QActionGroup(self)
        for name in theme.THEME_NAMES:
            action = a(f"theme_{name}", "&" + name.title(), functools.partial(self.set_theme, name))
            action.setCheckable(True)
            group.addAction(action)
            themes.addAction(action)
        menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock):
            menu.addAction(dock.toggleViewAction())

    def set_theme(self, name: str) -> None:
        theme.apply_theme(name)
        self.named_actions[f"theme_{theme.current().name}"].setChecked(True)
        self.settings.setValue("theme", theme.current().name)
        self.layer_palette.populate()
        self.problems.refresh(force=True)
        self.scene.update()
        self.view.resetCachedContent()
        self.view.viewport().update()
        self.view.minimap.invalidate()

    # ----------------------------------------------------------------- title
    def update_title(self) -> None:
        mark = "*" if self.document.modified else ""
        self.setWindowTitle(f"{self.document.project.name}{mark} — Netwright")

    # ----------------------------------------------------------------- files
    def new_project(self) -> None:
        if self.maybe_save():
            self.document.load(Project(name="untitled"))
            self.view.zoom_to_fit()

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.document.project.path.parent) if self.document.project.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)
        if path:
            self.open_project(Path(path), ask=False)

    def open_project(self, path: Path | str, as_template: bool = False, ask: bool = True) -> bool:
        """Open a project file; `as_template` opens a copy that Save asks a new place for."""
        if ask and not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except ProjectError as error:
            QMessageBox.warning(self, "Cannot open project", str(error))
            return False
        if as_template:
            project.path = None
        else:
            self.remember(Path(path))
        self.document.load(project)
        self.view.zoom_to_fit()
        self.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def save(self) -> bool:
        if self.document.project.path is None:
            return self.save_as()
        return self._write(self.document.project.path)

    def save_as(self) -> bool:
        project = self.document.project
        start = str(project.path) if project.path else f"{project.name}{SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", start, FILE_FILTER)
        if not path:
            return False
        target = Path(path)
        if not target.name.endswith(".json"):
            target = target.with_name(target.name + SUFFIX)
        project.name = project_stem(target)
        return self._write(target)

    def _write(self, path: Path) -> bool:
        try:
            save_project(self.document.project, path)
        except WriteError as error:  # it names the file and the cause; the old file is whole
            QMessageBox.warning(self, "Cannot save project", str(error))
            return False
        except (OSError, ProjectError, ValueError) as error:
            QMessageBox.warning(self, "Cannot save project", f"{path}: {error}")
            return False
        self.document.mark_saved()
        self.remember(path)
        self.update_title()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        self.project_saved.emit(path)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.document.modified:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to '{self.document.project.name}' first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ---------------------------------------------------------- recent files
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def remember(self, path: Path) -> None:
        """Put `path` first in Open Recent."""
        name = str(Path(path).resolve())
        recent = [name] + [p for p in self.recent_files() if p != name]
        self.settings.setValue("recent", recent[:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            self.recent_menu.addAction(path, functools.partial(self.open_project, path))
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The first paint: what can wait (the charts, torch) starts once the window is up."""
        if watched is self and event.type() == QEvent.Type.Paint:
            self.removeEventFilter(self)
            QTimer.singleShot(0, self, self.first_painted.emit)  # dropped if the window goes
        return super().eventFilter(watched, event)

    # ------------------------------------------------------- drop a project
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].toLocalFile().endswith(".json"):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            event.acceptProposedAction()
            self.open_project(urls[0].toLocalFile())

    # ----------------------------------------------------------- lifecycle
    def _restore_state(self) -> None:
        self.resizeDocks([self.problems_dock], [130], Qt.Orientation.Vertical)
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [220, 330], Qt.Orientation.Horizontal
        )
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window_state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self.set_theme(str(self.settings.value("theme", theme.DEFAULT_THEME)))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.recovery.window_closed()
        self.inside.shutdown()  # any explanation still computing ends first
        self.profiler.shutdown()
        event.accept()


def application() -> QApplication:
    """The running QApplication, created with Netwright's names if there is none."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(["netwright"])
    app.setApplicationName("Netwright")
    app.setOrganizationName("Netwright")
    release_clipboard_on_quit(app)
    return app  # type: ignore[return-value]


def _set_steady_text(label: QLabel, text: str) -> None:
    """Set a status-bar label's text without relaying out the window: a label whose size
    hint changes makes QMainWindow lay out and repaint everything (7 ms an edit at 200
    layers), so the label keeps a fixed size that only grows."""
    label.setText(text)
    hint = label.sizeHint()
    if hint.width() > label.maximumWidth() or label.minimumWidth() != label.maximumWidth():
        label.setFixedSize(
            hint.width() + label.fontMetrics().horizontalAdvance("00"), hint.height()
        )
