"""The runs as a Qt table model: one row per run, sortable by the values (not their text).

Name and note are edited in place (F2 or a double-click) and written to the
run's run.json at once. Each row's status is coloured; a run drawn in the
overlay chart shows its curve's colour beside its name.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPixmap

from designer import theme
from engine.experiments.history import RunHistory, RunRecord

Index = QModelIndex | QPersistentModelIndex
NO_PARENT = QModelIndex()
COLUMNS = ("Name", "Started", "Status", "Val loss", "Val acc", "Params", "Epochs", "Time", "Note")
NAME, STARTED, STATUS, LOSS, ACCURACY, PARAMETERS, EPOCHS, TIME, NOTE = range(len(COLUMNS))
EDITABLE = (NAME, NOTE)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def status_colour(status: str) -> str:
    t = theme.current()
    return {
        "completed": t.ok,
        "early_stopped": t.ok,
        "diverged": t.error,
        "failed": t.error,
        "interrupted": t.warning,
        "stopped": t.warning,
        "running": t.accent,
    }.get(status, t.text_dim)


class RunsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.history: RunHistory | None = None
        self.runs: list[RunRecord] = []
        self.colours: dict[str, str] = {}  # run id -> its curve's colour, while drawn
        self.best_id: str | None = None
        self.problem: str | None = None  # why the last edit could not be written

    def load(self, history: RunHistory | None) -> None:
        self.beginResetModel()
        self.history = history
        self.runs = history.runs() if history is not None else []
        losses = [(r.val_loss, r.id) for r in self.runs if r.val_loss is not None]
        self.best_id = min(losses)[1] if losses else None
        self.endResetModel()

    def follow(self) -> bool:
        """Re-read only the runs still training (cheap, for the live timer); False when runs
        came or went, so the whole list must be read again."""
        history = self.history
        if history is None:
            return True
        folders = sum(1 for _ in history.folder.iterdir()) if history.folder.is_dir() else 0
        if folders != len(self.runs):
            return False
        for row, run in enumerate(self.runs):
            if run.data.get("status") != "running":
                continue
            try:
                self.runs[row] = history.get(run.id)
            except ValueError:
                return False
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return True

    def run(self, row: int) -> RunRecord:
        return self.runs[row]

    def set_colours(self, colours: dict[str, str]) -> None:
        self.colours = dict(colours)
        if self.runs:
            self.dataChanged.emit(self.index(0, NAME), self.index(len(self.runs) - 1, NAME))

    # ----------------------------------------------------------- Qt's side
    def rowCount(self, parent: Index = NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: Index = NO_PARENT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_align(section))
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() in EDITABLE else base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run, column = self.runs[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return _text(run, column) if role == Qt.ItemDataRole.DisplayRole else _edit(run, column)
        if role == SORT_ROLE:
            return _sort_value(run, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_align(column))
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS:
            return QColor(status_colour(run.status))
        if role == Qt.ItemDataRole.FontRole and column == LOSS and run.id == self.best_id:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return _swatch(self.colours.get(run.id))
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(run)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (
            role != Qt.ItemDataRole.EditRole
            or index.column() not in EDITABLE
            or self.history is None
        ):
            return False
        run = self.runs[index.row()]
        key = "note" if index.column() == NOTE else "name"
        text = str(value).strip()
        if key == "name" and not text:
            return False
        try:
            self.runs[index.row()] = self.history.update(run.id, **{key: text})
        except (OSError, ValueError) as error:
            self.problem = f"Cannot change {run.name}: {error}"
            return False
        self.dataChanged.emit(index, index)
        return True


def _text(run: RunRecord, column: int) -> str:
    data = run.data
    if column == NAME:
        return run.name + (" 📌" if run.pinned else "")
    if column == STARTED:
        return run.started[:16].replace("T", " ")
    if column == STATUS:
        return run.status.replace("_", " ")
    if column == LOSS:
        return f"{run.val_loss:.4f}" if run.val_loss is not None else "–"
    if column == ACCURACY:
        return f"{run.val_accuracy:.1%}" if run.val_accuracy is not None else "–"
    if column == PARAMETERS:
        value = data.get("parameters")
        return f"{value:,}" if isinstance(value, int) else "–"
    if column == EPOCHS:
        planned = data.get("planned_epochs")
        done = data.get("epochs", 0)
        return f"{done}/{planned}" if planned and planned != done else str(done)
    if column == TIME:
        return _duration(data.get("seconds"))
    return run.note


def _edit(run: RunRecord, column: int) -> str:
    return run.name if column == NAME else run.note if column == NOTE else _text(run, column)


def _sort_value(run: RunRecord, column: int) -> Any:
    data = run.data
    values = {
        NAME: float(data.get("number") or 0),
        STARTED: float(data.get("started_at") or 0.0),
        STATUS: run.status,
        LOSS: run.val_loss if run.val_loss is not None else float("inf"),
        ACCURACY: run.val_accuracy if run.val_accuracy is not None else -1.0,
        PARAMETERS: data.get("parameters") or 0,
        EPOCHS: data.get("epochs") or 0,
        TIME: data.get("seconds") or 0.0,
        NOTE: run.note.lower(),
    }
    return values[column]


def _align(column: int) -> Qt.AlignmentFlag:
    right = column in (LOSS, ACCURACY, PARAMETERS, EPOCHS, TIME)
    horizontal = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return (
        f"{minutes}:{rest:02d}"
        if minutes < 60
        else f"{minutes // 60}:{minutes % 60:02d}:{rest:02d}"
    )


def _swatch(colour: str | None) -> QIcon | None:
    if colour is None:
        return None
    picture = QPixmap(10, 10)
    picture.fill(QColor(colour))
    return QIcon(picture)


def _tooltip(run: RunRecord) -> str:
    data = run.data
    lines = [f"{run.name} ({run.id})", f"{data.get('source', '')} run on {data.get('device', '?')}"]
    trial = data.get("trial")
    if isinstance(trial, dict):
        params = ", ".join(f"{k}={v}" for k, v in (trial.get("params") or {}).items())
        lines.append(f"trial {trial.get('number')} of study {trial.get('study')}: {params}")
    if data.get("message"):
        lines.append(str(data["message"]))
    lines.append(f"architecture {data.get('fingerprint', '?')}")
    return "\n".join(lines)
