"""Check a built app: the headless commands answer and the window renders off-screen.

Usage: python packaging/check_app.py dist/netwright/netwright
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def run(binary: str, *args: str) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, env=env)
    if result.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}\n{result.stderr}")
    return result.stdout


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else "dist/netwright/netwright"
    print(run(binary, "--version").strip())
    assert "digits-cnn" in run(binary, "examples"), "examples are missing from the bundle"
    assert "Conv2d" in run(binary, "layers")
    with tempfile.TemporaryDirectory() as folder:
        shot = Path(folder) / "window.png"
        run(binary, "gui", "--screenshot", str(shot))
        if not shot.is_file() or shot.stat().st_size < 10_000:
            sys.exit("FAIL: the window did not render")
        print(f"window rendered: {shot.stat().st_size:,} bytes")
    print("OK: the app starts")


if __name__ == "__main__":
    main()
