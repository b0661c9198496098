"""The headless command line: exact exit codes, plain messages, no traceback, no Qt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.resources import examples

ROOT = Path(__file__).resolve().parents[2]
BLOCK_QT = """
import importlib.abc, sys
class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'qtawesome', 'designer'):
            raise ImportError('Qt is not allowed in headless commands: ' + name)
sys.meta_path.insert(0, NoQt())
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def netwright(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the real entry point in a fresh interpreter where importing Qt fails."""
    return subprocess.run(
        [sys.executable, "-c", BLOCK_QT, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def assert_plain(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def test_layers_lists_the_catalogue_as_text_and_json() -> None:
    text = netwright("layers")
    assert text.returncode == 0
    assert "Conv2d" in text.stdout and "TransformerEncoderLayer" in text.stdout
    listing = json.loads(netwright("layers", "--json").stdout)
    names = {entry["type"] for entry in listing}
    assert len(names) >= 35
    conv = next(e for e in listing if e["type"] == "Conv2d")
    assert {"name": "out_channels", "kind": "int", "default": 16}.items() <= conv["parameters"][
        0
    ].items()


def test_examples_lists_every_bundled_project() -> None:
    result = netwright("examples")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(examples()) >= 6
    assert any(line.startswith("digits-cnn ") for line in lines)


@pytest.mark.parametrize("name", [e.name for e in examples()])
def test_every_example_checks_clean(name: str) -> None:
    path = next(e.path for e in examples() if e.name == name)
    before = path.read_bytes()
    result = netwright("check", path)
    assert result.returncode == 0, result.stderr
    assert "parameters" in result.stdout and "FLOPs" in result.stdout
    assert path.read_bytes() == before


def test_check_json_reports_shapes_params_and_flops() -> None:
    path = next(e.path for e in examples() if e.name == "digits-cnn")
    report = json.loads(netwright("check", path, "--json").stdout)
    assert report["ok"] is True
    conv1 = next(n for n in report["nodes"] if n["id"] == "conv1")
    assert conv1["shape"] == [32, 8, 8]
    assert conv1["parameters"] == 32 * 9 + 32
    assert conv1["flops"] == 2 * conv1["macs"] > 0


def test_new_writes_an_empty_project_or_an_example_and_never_overwrites(tmp_path: Path) -> None:
    empty = tmp_path / "mine.netwright.json"
    assert netwright("new", empty).returncode == 0
    assert json.loads(empty.read_text())["graph"]["nodes"] == []
    copy = tmp_path / "cnn.netwright.json"
    assert netwright("new", copy, "--example", "digits-cnn").returncode == 0
    data = json.loads(copy.read_text())
    assert data["name"] == "cnn" and len(data["graph"]["nodes"]) > 5
    assert netwright("check", copy).returncode == 0
    before = copy.read_bytes()
    again = netwright("new", copy)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert copy.read_bytes() == before
    unknown = netwright("new", tmp_path / "x.netwright.json", "--example", "nope")
    assert unknown.returncode == 2 and "digits-cnn" in unknown.stderr


def test_check_of_an_invalid_graph_names_node_and_parameter(tmp_path: Path) -> None:
    data = json.loads(next(e.path for e in examples() if e.name == "digits-cnn").read_text())
    conv = next(n for n in data["graph"]["nodes"] if n["id"] == "conv2")
    conv["params"]["kernel_size"] = 9
    path = tmp_path / "broken.netwright.json"
    path.write_text(json.dumps(data))
    result = netwright("check", path)
    assert result.returncode == 1
    assert_plain(result)
    assert "node 'conv2', parameter 'kernel_size'" in result.stderr
    assert str(path) in result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "netwright-project", "version": 99}', "newer Netwright"),
        ('{"format": "netwright-project", "version": 1, "graph": {"nodes": 3}}', "graph.nodes"),
    ],
)
def test_unreadable_projects_exit_2_with_one_plain_line(
    tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "bad.netwright.json"
    path.write_text(content)
    result = netwright("check", path)
    assert result.returncode == 2
    assert_plain(result)
    assert fragment in result.stderr and str(path) in result.stderr
    assert path.read_text() == content


def test_unknown_layer_type_and_bad_options() -> None:
    assert netwright("check").returncode == 2
    assert netwright("frobnicate").returncode == 2
    assert netwright("check", "/nonexistent/p.json").returncode == 2


def test_an_unknown_layer_type_exits_2_naming_its_node(tmp_path: Path) -> None:
    path = tmp_path / "t.netwright.json"
    path.write_text(
        json.dumps(
            {
                "format": "netwright-project",
                "version": 1,
                "name": "t",
                "graph": {
                    "nodes": [
                        {"id": "input", "type": "Input", "params": {"shape": [3]}},
                        {"id": "magic", "type": "Teleport"},
                        {"id": "output", "type": "Output"},
                    ],
                    "edges": [
                        {
                            "source": {"node": "input", "port": "out"},
                            "target": {"node": "magic", "port": "in"},
                        },
                        {
                            "source": {"node": "magic", "port": "out"},
                            "target": {"node": "output", "port": "in"},
                        },
                    ],
                },
            }
        )
    )
    result = netwright("check", path)
    assert result.returncode == 2
    assert "node 'magic': unknown layer type 'Teleport'" in result.stderr
