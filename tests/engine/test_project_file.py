"""Project files: round trips keep everything, bad files get one clear message, nothing is modified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine.atomic
from engine import project as project_module
from engine.project import ProjectError, load_project, project_from_json, save_project
from engine.resources import examples

EXAMPLE = examples()[0].path


def write(tmp_path: Path, content: str | bytes, name: str = "p.netwright.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def minimal(**changes: object) -> dict:
    data: dict = {
        "format": "netwright-project",
        "version": 1,
        "name": "t",
        "graph": {
            "nodes": [{"id": "input", "type": "Input", "params": {"shape": [4]}}],
            "edges": [],
        },
    }
    data.update(changes)
    return data


def test_round_trip_keeps_unknown_keys_everywhere(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["future_top"] = {"a": 1}
    data["graph"]["layout_hint"] = "grid"
    data["graph"]["nodes"][0]["colour"] = "#ff0000"
    data["training"]["future_setting"] = [1, 2]
    source = write(tmp_path, json.dumps(data))
    project = load_project(source)
    saved = save_project(project, tmp_path / "copy.netwright.json")
    again = json.loads(saved.read_text())
    assert again["future_top"] == {"a": 1}
    assert again["graph"]["layout_hint"] == "grid"
    assert again["graph"]["nodes"][0]["colour"] == "#ff0000"
    assert again["training"]["future_setting"] == [1, 2]
    assert again["graph"]["edges"] == data["graph"]["edges"]


def test_a_newer_version_is_refused_whole(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(minimal(version=7)))
    with pytest.raises(ProjectError, match="newer Netwright"):
        load_project(path)


def test_older_versions_go_through_the_migration_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_module, "VERSION", 2)
    monkeypatch.setitem(
        project_module.MIGRATIONS, 1, lambda d: {**d, "name": d["name"] + " (migrated)"}
    )
    project = project_from_json(minimal())
    assert project.name == "t (migrated)"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "not valid JSON"),
        ('{"format": "netwright-project", "version": 1, "graph": {"nodes": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not a UTF-8"),
        ("[1, 2, 3]", "expected a JSON object"),
        ('{"format": "something-else", "version": 1}', "not a Netwright project"),
        ('{"format": "netwright-project", "version": "1"}', "version"),
        (json.dumps(minimal(graph=[])), '"graph" must be an object'),
        (json.dumps(minimal(graph={"nodes": {}})), '"graph.nodes" must be a list'),
        (json.dumps(minimal(graph={"nodes": [{"type": "Linear"}]})), 'needs an "id"'),
        (json.dumps(minimal(graph={"nodes": [{"id": "a", "type": 5}]})), 'needs a "type"'),
        (
            json.dumps(minimal(graph={"nodes": [{"id": "a", "type": "ReLU", "params": []}]})),
            '"params" must be an object',
        ),
        (
            json.dumps(minimal(graph={"nodes": [{"id": "a", "type": "ReLU", "position": [1]}]})),
            '"position"',
        ),
        (
            json.dumps(
                minimal(graph={"nodes": [{"id": "a", "type": "ReLU", "position": [1e300, 0]}]})
            ),
            '"position"',
        ),
        (
            json.dumps(
                minimal(graph={"nodes": [{"id": "a", "type": "ReLU"}, {"id": "a", "type": "ReLU"}]})
            ),
            "two nodes",
        ),
        (json.dumps(minimal(graph={"nodes": [], "edges": [{"source": "a"}]})), '"source" must be'),
        (json.dumps(minimal(training=[1])), '"training" must be an object'),
        ('{"format": "netwright-project", "version": 1, "name": NaN}', "NaN is not allowed"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_files_get_a_clear_message_and_stay_untouched(
    tmp_path: Path, content: str | bytes, fragment: str
) -> None:
    path = write(tmp_path, content)
    before = path.read_bytes()
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_missing_and_enormous_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "absent.netwright.json")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)
    monkeypatch.setattr(project_module, "MAX_FILE_BYTES", 10)
    with pytest.raises(ProjectError, match="at most"):
        load_project(write(tmp_path, json.dumps(minimal())))


def test_saving_replaces_the_file_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "p.netwright.json"
    project = load_project(EXAMPLE)
    save_project(project, target)
    before = target.read_bytes()

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(engine.atomic.os, "replace", explode)
    project.name = "changed"
    with pytest.raises(OSError):
        save_project(project, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.netwright.json"]  # no temporary left behind


def test_weights_live_beside_the_project(tmp_path: Path) -> None:
    project = load_project(EXAMPLE)
    assert project.weights_path(tmp_path / "mine.netwright.json") == tmp_path / "mine.safetensors"
