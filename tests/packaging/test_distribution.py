"""`python -m build` makes a wheel and an sdist that carry the resources the app needs."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_and_sdist_include_examples_icons_and_the_entry_point(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("netwright-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "resources/examples/digits-cnn.netwright.json" in names
    assert "resources/icons/netwright.svg" in names
    assert (
        "engine/layers/conv.py" in names
        and "app/cli.py" in names
        and "designer/__init__.py" in names
    )
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "netwright = app.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    sdist = next(tmp_path.glob("netwright-*.tar.gz"))
    members = tarfile.open(sdist).getnames()
    assert any(m.endswith("resources/examples/digits-cnn.netwright.json") for m in members)
    assert any(m.endswith("packaging/netwright.spec") for m in members)
