"""Starting data-parallel training from a program (the GUI's "Train on N GPUs") and following it.

`launch_training(project, processes=N, metrics_out=FILE)` starts torchrun as a
subprocess in its own process group (so stopping it never touches the caller,
and the caller's Ctrl+C never reaches it); torchrun starts N ranks of
`python -m engine train PROJECT`, rank 0 of which writes the metrics stream.
`TrainingLaunch.read_events()` returns the events written since the last call,
for a dashboard to call on its timer; `follow()` is the same as a blocking
generator. `stop()` ends all ranks cleanly: SIGINT to torchrun, which forwards
it to every rank, so the ranks agree to stop after the current batch and rank 0
writes its `end` event (status `stopped`) and whole weights; whatever outlasts
the grace period is terminated, then killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ENGINE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the `engine` package
STOP_GRACE_SECONDS = 45.0  # torchrun itself waits 30 s for its ranks before killing them


def gpu_count() -> int:
    """CUDA GPUs on this machine: more than one makes "Train on N GPUs" worth offering."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def torchrun_command(
    project: str | Path,
    processes: int,
    metrics_out: str | Path,
    options: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """The command line that trains `project` on `processes` ranks of this machine."""
    return [
        python,
        "-m",
        "torch.distributed.run",
        "--standalone",  # one machine: a free port for the rendezvous, chosen by torchrun
        "--nproc-per-node",
        str(processes),
        "-m",
        "engine",
        "train",
        str(project),
        "--metrics-out",
        str(metrics_out),
        *options,
    ]


class MetricsTail:
    """Reads a JSON Lines metrics file as it grows: each call returns only the complete lines
    written since the previous call (a line still being written waits for the next call)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._partial = b""

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size < self._offset:  # rewritten by a new run
                    self._offset, self._partial = 0, b""
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:  # not a metrics line; the stream's own lines always parse
                continue
            if isinstance(event, dict):
                events.append(event)
        return events

    def follow(
        self, running: Callable[[], bool], poll_seconds: float = 0.2
    ) -> Iterator[dict[str, Any]]:
        """Every event as it appears, until the `end` event or until `running()` turns false."""
        while True:
            alive = running()
            events = self.read_new()
            yield from events
            if any(e.get("event") == "end" for e in events) or not alive:
                return
            time.sleep(poll_seconds)


class TrainingLaunch:
    """One torchrun run started by `launch_training`."""

    def __init__(self, process: subprocess.Popen[bytes], metrics: Path, log: Path) -> None:
        self.process = process
        self.metrics_path = metrics
        self.log_path = log
        self.tail = MetricsTail(metrics)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def read_events(self) -> list[dict[str, Any]]:
        """The metrics events written since the last call (never blocks)."""
        return self.tail.read_new()

    def follow(self, poll_seconds: float = 0.2) -> Iterator[dict[str, Any]]:
        return self.tail.follow(lambda: self.running, poll_seconds)

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def output(self) -> str:
        """What torchrun and the ranks printed (progress, notes, errors)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> int:
        """End every rank: ask (SIGINT), then terminate, then kill; returns torchrun's exit code.

        torchrun exits non-zero after it has forwarded a signal, even when every rank ended
        cleanly; how the run ended is the metrics stream's `end` event (status `stopped`)."""
        if self.running:
            ranks = _children(self.process.pid)  # in their own sessions: not in torchrun's group
            self._signal(signal.SIGINT)
            try:
                return self.process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                pass
            self._signal(signal.SIGTERM)
            try:
                return self.process.wait(10)
            except subprocess.TimeoutExpired:
                for pid in [*ranks, *_children(self.process.pid)]:
                    _kill(pid, signal.SIGKILL)
                self._signal(signal.SIGKILL)
        return self.process.wait()

    def _signal(self, number: signal.Signals) -> None:
        if os.name == "posix":
            _kill(self.process.pid, number, group=True)
        elif number == signal.SIGINT:
            self.process.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
        else:
            self.process.kill()


def launch_training(
    project: str | Path,
    processes: int,
    metrics_out: str | Path,
    *,
    options: Sequence[str] = (),
    log: str | Path | None = None,
    env: dict[str, str] | None = None,
) -> TrainingLaunch:
    """Start training `project` on `processes` ranks (one per GPU, or gloo ranks on the CPU with
    `options=["--device", "cpu"]`). `options` are further `netwright train` options; the ranks'
    output goes to `log` (default: the metrics file's name + `.log`)."""
    if processes < 1:
        raise ValueError("at least one process is needed")
    metrics = Path(metrics_out)
    metrics.unlink(missing_ok=True)  # so the tail never reads a previous run's events
    log_path = Path(log) if log is not None else metrics.with_name(metrics.name + ".log")
    environment = dict(os.environ if env is None else env)
    environment["PYTHONUNBUFFERED"] = "1"
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ENGINE_ROOT), environment.get("PYTHONPATH", "")) if p
    )
    command = torchrun_command(project, processes, metrics, options)
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            **_own_group(),
        )
    return TrainingLaunch(process, metrics, log_path)


def _own_group() -> dict[str, Any]:
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def _children(pid: int) -> list[int]:
    """The direct children of `pid` (Linux /proc; empty elsewhere)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            found += [int(p) for p in text.split()]
    except OSError:
        return found
    return found


def _kill(pid: int, number: signal.Signals, group: bool = False) -> None:
    try:
        if group:
            os.killpg(pid, number)
        else:
            os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass
