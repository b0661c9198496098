"""A kill -9 at any moment of a save leaves the previous file whole."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.atomic import atomic_write_text

WRITER = """
import json, sys
from engine.atomic import atomic_write_text
target = sys.argv[1]
big = "x" * 2_000_000
version = 0
print("ready", flush=True)
while True:
    version += 1
    atomic_write_text(target, json.dumps({"version": version, "payload": big}))
"""


def test_killing_a_writer_mid_write_never_leaves_a_broken_file(tmp_path: Path) -> None:
    target = tmp_path / "project.netwright.json"
    atomic_write_text(target, json.dumps({"version": 0, "payload": ""}))
    rng = random.Random(4)
    versions = []
    for _ in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        versions.append(json.loads(target.read_text())["version"])  # always whole JSON
    assert max(versions) > 0  # the writer did replace the file between kills
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != target.name]
    assert all(
        name.endswith(".tmp") for name in leftovers
    )  # only an abandoned temporary, never the target
