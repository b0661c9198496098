"""The block library: block definitions kept as small files outside any project.

Bundled blocks live in ``resources/blocks/``; the user's own in ``<data>/blocks/`` (the
same data folder the runs use, so one library serves every project). A file holds one
definition in the project format (docs/blocks.md), its name, a one-line description, an
input shape it fits (what the palette's tooltip and the tests feed it), and the
definitions it uses itself, so a saved nested block comes back whole. Adding a library
block to a project reuses a definition that is the same, and renames one that clashes.
Read without Qt, so the tests and `netwright` can check every bundled block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.blocks import BLOCK, block_problem, definition_loop
from engine.experiments.location import data_folder
from engine.graph import Graph
from engine.project import ProjectError, graph_from_json
from engine.resources import RESOURCES

FORMAT = "netwright-block"
VERSION = 1
SUFFIX = ".block.json"
BUNDLED = RESOURCES / "blocks"


@dataclass(frozen=True)
class LibraryBlock:
    """One block of the library: its definition and the definitions that one uses."""

    name: str
    description: str
    definition: Graph
    uses: dict[str, Graph] = field(default_factory=dict)
    fits: tuple[int, ...] | None = None  # an input shape it analyses cleanly on
    path: Path | None = None
    bundled: bool = False


def user_folder() -> Path:
    """Where the user's saved blocks live: ``<data folder>/blocks``."""
    return data_folder() / "blocks"


def read_block(path: Path, bundled: bool = False) -> LibraryBlock:
    """The block in the file at `path`; ProjectError naming what is wrong."""
    source = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ProjectError(f"{source}: cannot read this block file ({error})") from error
    return block_from_json(data, source, path, bundled)


def block_from_json(
    data: Any, source: str, path: Path | None = None, bundled: bool = False
) -> LibraryBlock:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectError(f'{source}: not a Netwright block file (no "format": "{FORMAT}")')
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise ProjectError(f"{source}: block file version {data.get('version')} is not known")
    name = data.get("name")
    if not isinstance(name, str) or block_problem(name):
        raise ProjectError(f"{source}: {block_problem(str(name))}")
    uses_data = data.get("blocks", {})
    if not isinstance(uses_data, dict):
        raise ProjectError(f'{source}: "blocks" must be an object of named definitions')
    uses = {}
    for inner, graph_data in uses_data.items():
        if block_problem(inner):
            raise ProjectError(f"{source}: {block_problem(inner)}")
        uses[inner] = graph_from_json(graph_data, f"{source}: block '{inner}'")
    definition = graph_from_json(data.get("graph"), f"{source}: block '{name}'")
    everything = {**uses, name: definition}
    if definition_loop(everything):
        raise ProjectError(f"{source}: its blocks use each other in a loop")
    for graph in everything.values():
        graph.blocks = everything
    fits = data.get("fits")
    shape = tuple(int(d) for d in fits) if isinstance(fits, list) else None
    return LibraryBlock(
        name, str(data.get("description", "")), definition, uses, shape, path, bundled
    )


def block_to_json(block: LibraryBlock) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": block.name}
    data["description"] = block.description
    if block.fits is not None:
        data["fits"] = list(block.fits)
    if block.uses:
        data["blocks"] = {n: g.to_json() for n, g in block.uses.items()}
    data["graph"] = block.definition.to_json()
    return data


def _folder_blocks(folder: Path, bundled: bool) -> tuple[list[LibraryBlock], list[str]]:
    found, problems = [], []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        try:
            found.append(read_block(path, bundled))
        except ProjectError as error:
            problems.append(str(error))
    return found, problems


def bundled_blocks() -> list[LibraryBlock]:
    """The blocks that ship with Netwright, by name."""
    return sorted(_folder_blocks(BUNDLED, True)[0], key=lambda b: b.name.lower())


def user_blocks(folder: Path | None = None) -> tuple[list[LibraryBlock], list[str]]:
    """The user's saved blocks by name, and why any file there could not be read (those are
    shown, never deleted)."""
    found, problems = _folder_blocks(folder or user_folder(), False)
    return sorted(found, key=lambda b: b.name.lower()), problems


def user_path(name: str, folder: Path | None = None) -> Path:
    return (folder or user_folder()) / f"{name}{SUFFIX}"


def needed(name: str, blocks: Mapping[str, Graph]) -> dict[str, Graph]:
    """The definitions block `name` uses, directly or through others (not itself)."""
    found: dict[str, Graph] = {}
    stack = [name]
    while stack:
        for node in blocks[stack.pop()]:
            inner = node.params.get("block")
            if node.type == BLOCK and isinstance(inner, str) and inner in blocks:
                if inner not in found and inner != name:
                    found[inner] = blocks[inner]
                    stack.append(inner)
    return found


def save_block(block: LibraryBlock, folder: Path | None = None, overwrite: bool = False) -> Path:
    """Write `block` to the user's library; FileExistsError when a file of that name is
    there and `overwrite` was not asked for (the caller asks the user first)."""
    path = user_path(block.name, folder)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(block_to_json(block), indent=2) + "\n"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def signature(graph: Graph) -> str:
    """What makes two definitions the same block: layers, parameters, wires (not where the
    layers sit on the canvas)."""
    nodes = [[n.id, n.type, n.params] for n in graph]
    edges = [e.to_json() for e in graph.edges]
    return json.dumps([nodes, edges], sort_keys=True, default=str)


@dataclass(frozen=True)
class Placement:
    """What adding a library block to a project takes: the definitions to add (new name ->
    graph, dependencies first) and the name the new block node uses."""

    add: dict[str, Graph]
    name: str


def place(block: LibraryBlock, blocks: Mapping[str, Graph]) -> Placement:
    """How `block` (and what it uses) joins a project whose definitions are `blocks`: a
    definition the project already has under the same name is reused, a different one of
    that name makes this one ``Name2``."""
    order = _dependencies_first({**block.uses, block.name: block.definition})
    renamed: dict[str, str] = {}
    add: dict[str, Graph] = {}
    for name, graph in order:
        copied = graph.copy()
        for node in copied:
            inner = node.params.get("block")
            if node.type == BLOCK and isinstance(inner, str) and inner in renamed:
                node.params["block"] = renamed[inner]
        key = signature(copied)
        target, n = name, 2
        while True:
            existing = blocks.get(target) or add.get(target)
            if existing is None:
                add[target] = copied
                break
            if signature(existing) == key:
                break
            stem = re.sub(r"\d+$", "", name) or "Block"
            target, n = f"{stem}{n}", n + 1
        renamed[name] = target
    return Placement(add, renamed[block.name])


def _dependencies_first(graphs: dict[str, Graph]) -> list[tuple[str, Graph]]:
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        for node in graphs[name]:
            inner = node.params.get("block")
            if node.type == BLOCK and isinstance(inner, str) and inner in graphs:
                visit(inner)
        done.append(name)

    for name in graphs:
        visit(name)
    return [(name, graphs[name]) for name in done]
