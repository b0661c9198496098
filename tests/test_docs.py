"""The reference tables (layers, training settings, the GAN recipe) are generated from their declarations and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layer_lists_match_the_catalogue() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_no_benchmark_hides_a_standard_library_module():
    """Run as a script, a benchmark's folder comes first on sys.path: a benchmarks/profile.py
    once hid the standard library's `profile`, and everything importing cProfile broke."""
    names = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    assert not names & set(sys.stdlib_module_names)
