"""Fuzzing: random mutations of real project files never make loading or checking crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import analyse
from engine.project import ProjectError, project_from_json, project_from_text
from engine.resources import examples
from engine.settings import settings_problems

SOURCES = [json.loads(e.path.read_text()) for e in examples()]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutate(document: Any, location: tuple[Any, ...], replacement: Any, delete: bool) -> Any:
    if not location:
        return replacement
    parent = document
    for step in location[:-1]:
        parent = parent[step]
    if delete:
        del parent[location[-1]]
    else:
        parent[location[-1]] = replacement
    return document


def load_and_check(document: Any) -> None:
    try:
        project = project_from_json(document)
    except ProjectError:
        return
    analysis = analyse(project.graph)
    settings_problems(project, analysis)
    json.dumps(project.to_json())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    source=st.sampled_from(range(len(SOURCES))),
    value=JSON_VALUES,
    delete=st.booleans(),
)
def test_mutated_projects_load_or_are_refused_cleanly(
    data: st.DataObject, source: int, value: Any, delete: bool
) -> None:
    document = json.loads(json.dumps(SOURCES[source]))
    location = data.draw(st.sampled_from(paths(document)))
    load_and_check(mutate(document, location, value, delete and bool(location)))


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(0, 4000), noise=st.binary(max_size=30))
def test_truncated_and_corrupted_text_is_refused_cleanly(cut: int, noise: bytes) -> None:
    text = json.dumps(SOURCES[3]).encode()
    for raw in (text[:cut], text[:cut] + noise):
        try:
            project = project_from_text(raw)
        except ProjectError:
            continue
        analyse(project.graph)
