"""A setting as a declaration: one line of a table that everything about it is generated from.

A `Setting` says where a value lives in a project section (``optimizer.lr``),
its kind, default, range or choices, and its help. The project-file parser,
the command-line options, the Training panel and the docs all read the same
declaration, so a range or a default is written once. A `Section` is a group
of settings that can itself be switched off (``"early_stopping": null``).

Values are read defensively: a bad one is reported (once, naming its key) and
the default is used, as graph problems are pinned to their node.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SettingKind = Literal["choice", "int", "float", "bool", "device", "text"]
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class _Missing:
    """Absent from the file (unlike null). One object, whatever copies it."""

    def __repr__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


MISSING: Any = _Missing()

# (key, message, hint): one refused value, reported by the reader
Report = Callable[[str, str, "str | None"], None]


@dataclass(frozen=True)
class Setting:
    """One value of a project section, with everything that makes it acceptable."""

    key: str  # where it lives in the section: "epochs", "optimizer.lr"
    kind: SettingKind
    default: Any
    help: str
    label: str = ""  # its row in the Training panel; "" keeps it off the panel
    minimum: float | None = None
    maximum: float | None = None
    choices: Mapping[str, str] = field(default_factory=dict)  # value -> what the panel shows
    option: str | None = None  # its `netwright train` option ("--lr"), when it has one
    metavar: str | None = None
    optional: bool = False  # null (or absent) means "none" rather than the default
    in_new_projects: bool = False  # written into a new project's file
    refusal: str | None = None  # the message for an out-of-range value, when not the usual one

    @property
    def name(self) -> str:
        """The last part of the key, in words: "learning rate" reads better, but keys are short."""
        return self.key.rsplit(".", 1)[-1].replace("_", " ")

    def problem(self, value: Any) -> tuple[str, str | None] | None:
        """(message, hint) when `value` is not acceptable, else None."""
        if value is None and self.optional:
            return None
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return None
            return f"unknown {self.name} {value!r}", "use one of " + ", ".join(self.choices)
        if self.kind == "device":
            if isinstance(value, str) and DEVICE_PATTERN.match(value):
                return None
            return f"unknown device {value!r}", "use auto, cpu, cuda, cuda:N or mps"
        if self.kind == "bool":
            ok = isinstance(value, bool)
            return None if ok else (f"{self.name} must be true or false (got {value!r})", None)
        if self.kind == "text":
            ok = isinstance(value, str)
            return None if ok else (f"{self.name} must be text in quotes (got {value!r})", None)
        return self._number_problem(value)

    def _number_problem(self, value: Any) -> tuple[str, str | None] | None:
        low = self.minimum if self.minimum is not None else -math.inf
        high = self.maximum if self.maximum is not None else math.inf
        whole = self.kind == "int"
        fits = is_number(value) and (not whole or isinstance(value, int)) and low <= value <= high
        if fits:
            return None
        if self.refusal is not None:
            return self.refusal, None
        if whole:
            return (
                f"{self.name} must be a whole number from {low:,.0f} to {high:,.0f} (got {value!r})",
                None,
            )
        return f"{self.name} must be a number from {low:g} to {high:g} (got {value!r})", None

    def read(self, section: Mapping[str, Any], report: Report, prefix: str = "") -> Any:
        """The value in `section` (already this setting's own part of the file), or the default
        after reporting why the given one cannot be used."""
        value = section.get(self.key.rsplit(".", 1)[-1], self.default)
        problem = self.problem(value)
        if problem is None:
            return float(value) if self.kind == "float" and value is not None else value
        report(prefix + self.key, *problem)
        return self.default

    def parse_text(self, text: str) -> Any:
        """A command-line word as this setting's value; argparse shows the error."""
        value: Any = text
        if self.kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        elif self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        problem = self.problem(value)
        if problem is not None:
            message, hint = problem
            raise argparse.ArgumentTypeError(message + (f" ({hint})" if hint else ""))
        return value

    def describe(self) -> str:
        """The accepted values, in a few words (docs and --help)."""
        if self.kind == "choice":
            return ", ".join(self.choices)
        if self.kind == "device":
            return "auto, cpu, cuda, cuda:N or mps"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "text"
        spell = (lambda v: f"{v:,.0f}") if self.kind == "int" else (lambda v: f"{v:g}")
        low = "" if self.minimum is None else spell(self.minimum)
        high = "" if self.maximum is None else spell(self.maximum)
        noun = "whole number" if self.kind == "int" else "number"
        span = f" from {low} to {high}" if low and high else (f" from {low}" if low else "")
        return noun + span + (", or null for none" if self.optional else "")


@dataclass(frozen=True)
class Section:
    """A group of settings under one key (``optimizer``, ``early_stopping``)."""

    key: str  # may be a path: "generator.optimizer"
    example: str  # what the section looks like, for the refusal of a malformed one
    off: str | None = None  # what null means, when the section can be switched off
    named: bool = False  # a bare string is the section's "name" ("schedule": "cosine")
    note: str = ""  # a sentence for the docs


def is_number(value: Any) -> bool:
    """A finite int or float (never a bool, NaN or infinity)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != math.inf
    )


def read_table(
    data: Any,
    settings: Iterable[Setting],
    sections: Iterable[Section],
    report: Report,
    prefix: str = "",
) -> tuple[dict[str, Any], set[str]]:
    """Every setting's value by key, and the sections switched off (null); each unusable value
    is reported as `prefix + key` and its default used."""
    data = data if isinstance(data, dict) else {}
    parts: dict[str, Mapping[str, Any]] = {}
    off: set[str] = set()
    for section in sections:
        value = read_path(data, tuple(section.key.split(".")))
        if value is MISSING:
            parts[section.key] = {}
        elif section.off is not None and (value is None or value is False):
            off.add(section.key)
        elif section.named and isinstance(value, str):
            parts[section.key] = {"name": value}
        elif section.named and value is None:
            parts[section.key] = {}
        elif isinstance(value, dict):
            parts[section.key] = value
        else:
            nothing = ", or null" if section.off is not None else ""
            report(
                prefix + section.key,
                f"{section.key} must be an object such as {section.example}{nothing}",
                None,
            )
            parts[section.key] = {}
    values: dict[str, Any] = {}
    for setting in settings:
        group, _, _ = setting.key.rpartition(".")
        if group in off:
            values[setting.key] = setting.default
            continue
        values[setting.key] = setting.read(
            parts.get(group, data) if group else data, report, prefix
        )
    return values, off


def given(data: Any, key: str, sections: Iterable[Section]) -> Any:
    """What the file gives for `key`, unchecked (a named section's bare string is its name);
    MISSING when absent."""
    group_key, _, name = key.rpartition(".")
    named = next((s for s in sections if s.key == group_key and s.named), None)
    if named is not None:
        value = read_path(data, tuple(group_key.split(".")))
        if isinstance(value, str):
            return value if name == "name" else MISSING
    return read_path(data, tuple(key.split(".")))


def group(values: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The values of one section, by their names inside it (for its dataclass)."""
    start = section + "."
    return {k[len(start) :]: v for k, v in values.items() if k.startswith(start)}


def top_level(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if "." not in k}


def defaults(settings: Iterable[Setting]) -> dict[str, Any]:
    return {s.key: s.default for s in settings}


def nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"optimizer.lr": 0.1}`` -> ``{"optimizer": {"lr": 0.1}}`` (a file's shape)."""
    tree: dict[str, Any] = {}
    for key, value in values.items():
        write_path(tree, tuple(key.split(".")), value)
    return tree


def read_path(data: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` inside nested objects, or MISSING."""
    node = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def write_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set (or with MISSING, remove) the value at `path`, making objects on the way."""
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def markdown_table(settings: Iterable[Setting], sections: Iterable[Section], base: str) -> str:
    """The settings as a Markdown table for the docs (`base`: the file key they live under)."""
    rows = ["| key | values | default | what it does |", "|---|---|---|---|"]
    for setting in settings:
        default = "null" if setting.default is None else _json(setting.default)
        rows.append(
            f"| `{base}.{setting.key}` | {setting.describe()} | `{default}` | {setting.help} |"
        )
    notes = [f"- `{base}.{s.key}`: {s.note}" for s in sections if s.note]
    return "\n".join(rows + (["", *notes] if notes else []))


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
