"""One project's run history: a folder of runs, each a folder of three files.

    NAME.runs/
      20260107-142233-a1b2/
        run.json          what the run was and how it went (rewritten atomically each epoch)
        metrics.jsonl     the metrics stream of CONTRACT.md, a line flushed per epoch
        best.safetensors  the best epoch's weights (written atomically when the best improves)

A folder rather than one database file: every file is one a user can read,
copy or delete with ordinary tools; a run writes only inside its own folder,
so any number of processes (a search spread over a cluster, on a shared file
system where SQLite's locks are not to be trusted) record at once with no lock;
weights stay files as everywhere else in Netwright; and a crash can cost at most
the epoch under way: `run.json` is replaced whole, the stream only grows, and a
torn last line of it is skipped when read. docs/runs.md defines the format.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_text

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
WEIGHTS_FILE = "best.safetensors"
FORMAT = "netwright-run"
VERSION = 1
RUNNING, INTERRUPTED, PRUNED, FAILED = "running", "interrupted", "pruned", "failed"


class HistoryError(ValueError):
    """A run that cannot be found or read; the message names it and the folder."""


@dataclass
class RunRecord:
    """One recorded run: its folder and the contents of its run.json."""

    folder: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data.get("id", self.folder.name))

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.id)

    @property
    def started(self) -> str:
        return str(self.data.get("started", ""))

    @property
    def status(self) -> str:
        """How it ended; ``running`` while it trains, ``interrupted`` when the process that
        trained it on this machine has gone without finishing it (a crash or a kill)."""
        status = str(self.data.get("status", RUNNING))
        if status == RUNNING and self.data.get("host") == socket.gethostname():
            if not _alive(self.data.get("pid")):
                return INTERRUPTED
        return status

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    @property
    def note(self) -> str:
        return str(self.data.get("note", ""))

    @property
    def pinned(self) -> bool:
        return bool(self.data.get("pinned", False))

    @property
    def settings(self) -> dict[str, Any]:
        """Every training setting the run used, resolved (nested like the project file)."""
        value = self.data.get("settings")
        return value if isinstance(value, dict) else {}

    @property
    def project_json(self) -> dict[str, Any]:
        """The project as it was trained: graph(s), dataset and training sections."""
        value = self.data.get("project")
        return value if isinstance(value, dict) else {}

    def figure(self, key: str) -> float | None:
        value = self.data.get(key)
        return (
            float(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else None
        )

    @property
    def val_loss(self) -> float | None:
        """The best validation loss of the run."""
        return self.figure("val_loss")

    @property
    def val_accuracy(self) -> float | None:
        """The validation accuracy at the best epoch (classification)."""
        return self.figure("val_accuracy")

    @property
    def weights(self) -> Path | None:
        path = self.folder / WEIGHTS_FILE
        return path if path.is_file() else None

    def metrics(self) -> list[dict[str, Any]]:
        """The run's metrics events, in order; a line torn by a crash is left out."""
        path = self.folder / METRICS_FILE
        events: list[dict[str, Any]] = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return events
        for line in lines:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    events.append(event)
        return events

    def epochs(self) -> list[dict[str, Any]]:
        """One figures dict per complete epoch."""
        return [e for e in self.metrics() if e.get("event") == "epoch"]

    def size(self) -> int:
        """Bytes on disk."""
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())

    def summary(self) -> dict[str, Any]:
        """What `netwright runs --json` prints for the run (everything but the project copy)."""
        data = {k: v for k, v in self.data.items() if k != "project"}
        data["status"] = self.status
        data["folder"] = str(self.folder)
        data["weights"] = str(self.weights) if self.weights else None
        return data


class RunHistory:
    """The runs of one project, in its ``NAME.runs/`` folder (made on the first run)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def runs(self) -> list[RunRecord]:
        """Every readable run, oldest first (a folder without a readable run.json is skipped:
        one being made this instant, or not a run)."""
        if not self.folder.is_dir():
            return []
        found = []
        for child in self.folder.iterdir():
            record = _read(child)
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: (r.data.get("started_at") or 0.0, r.started, r.id))

    def get(self, run_id: str) -> RunRecord:
        record = _read(self.folder / run_id) if _plain(run_id) else None
        if record is None:
            raise HistoryError(f"{self.folder}: no run '{run_id}'")
        return record

    def create(self, data: dict[str, Any]) -> RunRecord:
        """A new run's folder and run.json; the id is its start time and a random suffix, so
        processes starting at the same second never collide."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        while True:
            run_id = f"{stamp}-{secrets.token_hex(2)}"
            try:
                (self.folder / run_id).mkdir()
                break
            except FileExistsError:
                continue
        record = RunRecord(
            self.folder / run_id, {"format": FORMAT, "version": VERSION, "id": run_id}
        )
        record.data.update(data)
        record.data["id"] = run_id
        self.write(record)
        return record

    def write(self, record: RunRecord) -> None:
        """Replace the run's run.json whole (a crash leaves the previous one)."""
        text = json.dumps(_finite(record.data), indent=1, ensure_ascii=False, allow_nan=False)
        atomic_write_text(record.folder / RUN_FILE, text + "\n")

    def update(self, run_id: str, **changes: Any) -> RunRecord:
        """Change a run's note, name or pin (from the Runs panel)."""
        record = self.get(run_id)
        record.data.update(changes)
        self.write(record)
        return record

    def delete(self, run_ids: Iterable[str]) -> list[str]:
        """Remove runs from disk; returns the ids removed."""
        removed = []
        for run_id in run_ids:
            if not _plain(run_id):
                continue
            folder = self.folder / run_id
            if (folder / RUN_FILE).is_file():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(run_id)
        return removed

    def size(self) -> int:
        return sum(r.size() for r in self.runs())

    def prune(self, keep: int, max_bytes: int, spare: Iterable[str] = ()) -> list[str]:
        """Delete the oldest finished, unpinned runs until at most `keep` runs remain and they
        take at most `max_bytes`; `spare` (the run under way) is never deleted."""
        spared = set(spare)
        runs = self.runs()
        sizes = {r.id: r.size() for r in runs}
        total, count = sum(sizes.values()), len(runs)
        doomed = []
        for record in runs:
            if count <= keep and total <= max_bytes:
                break
            if record.id in spared or record.pinned or not record.finished:
                continue
            doomed.append(record.id)
            count -= 1
            total -= sizes[record.id]
        return self.delete(doomed)


def now() -> str:
    """The time a run starts or ends, as ISO 8601 with the local offset (sorts as text)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _read(folder: Path) -> RunRecord | None:
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return RunRecord(folder, data)


def _plain(run_id: str) -> bool:
    """A run id names a folder inside the history, never a path out of it."""
    return bool(run_id) and "/" not in run_id and "\\" not in run_id and run_id not in (".", "..")


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name != "posix":
        return True  # cannot tell cheaply: shown as running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: a diverged run's figures are written as null."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
