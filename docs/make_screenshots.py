"""Render the README's screenshots with the real application, off-screen.

    make screenshots        (QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py)

Uses the contract's `netwright gui PROJECT --screenshot OUT.png [--train-seconds S]`,
so the pictures show exactly what a user sees and stay current.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = {
    "designer.png": ["resources/examples/digits-cnn.netwright.json"],
    "training.png": ["resources/examples/digits-cnn.netwright.json", "--train-seconds", "2.5"],
    # 90 s: digits are recognisable by then even on a busy 2-core machine
    "gan.png": ["resources/examples/gan-digits.netwright.json", "--train-seconds", "90"],
}


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    for name, args in SHOTS.items():
        target = out / name
        command = [sys.executable, "-m", "app", "gui", *args, "--screenshot", str(target)]
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0 or not target.is_file():
            print(f"failed: {' '.join(command)}\n{result.stderr}", file=sys.stderr)
            return 1
        print(f"wrote {target.relative_to(ROOT)}")
    runs = [sys.executable, str(ROOT / "docs" / "make_runs_screenshot.py"), str(out / "runs.png")]
    if subprocess.run(runs, cwd=ROOT, env=env, timeout=900).returncode != 0:
        return 1
    for script in ("make_import_screenshots.py", "make_block_library_screenshot.py"):
        command = [sys.executable, str(ROOT / "docs" / script)]
        if subprocess.run(command, cwd=ROOT, env=env, timeout=900).returncode != 0:
            return 1
    writing = [sys.executable, str(ROOT / "docs" / "make_writing_screenshot.py")]
    if subprocess.run(writing, cwd=ROOT, env=env, timeout=900).returncode != 0:
        return 1
    blocks = [sys.executable, str(ROOT / "docs" / "make_blocks_screenshots.py")]
    if subprocess.run(blocks, cwd=ROOT, env=env, timeout=300).returncode != 0:
        return 1
    inside = [sys.executable, str(ROOT / "docs" / "make_inside_screenshots.py")]
    result = subprocess.run(inside, cwd=ROOT, env=env, text=True, timeout=900)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
