"""The project file: reading it defensively, writing it atomically.

A project is UTF-8 JSON (see CONTRACT.md). Loading checks the format and
version, migrates older versions step by step, and keeps every key it does not
know so a round trip through this version loses nothing. A file that cannot be
read raises `ProjectError` with a message naming the file and what is wrong;
loading never modifies the file.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psygnal import Signal

from engine.atomic import atomic_write_text
from engine.blocks import block_problem, definition_loop
from engine.graph import Edge, Graph, Node, PortRef
from engine.settings import new_project_training
from engine.settings.declared import read_path, write_path

FORMAT = "netwright-project"
VERSION = 2  # 2: block definitions ("blocks"); a project without them is still written as 1
SUFFIX = ".netwright.json"
MAX_FILE_BYTES = 64 * 2**20
MAX_NODES = 50_000

# version -> function turning a document of that version into one of version + 1
# (version 1 -> 2 only added "blocks": a version 1 document reads as it is)
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: lambda data: data}

_KNOWN_KEYS = {
    "format",
    "version",
    "name",
    "graph",
    "networks",
    "recipe",
    "dataset",
    "training",
    "blocks",
}
NETWORK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class ProjectError(ValueError):
    """A project file that cannot be read; the message says where and what to do."""


@dataclass
class Project:
    """A project: one network (`graph`), or several named ones trained by a `recipe` (a GAN).

    In a multi-network project `networks` maps names to graphs in file order and
    `graph` is the first of them (a GAN's generator), so code that handles one
    network keeps working on the network users export.
    """

    name: str
    graph: Graph = field(default_factory=Graph)
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=new_project_training)
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys this version does not know
    path: Path | None = None
    networks: dict[str, Graph] = field(default_factory=dict)  # empty for single-network projects
    recipe: dict[str, Any] | None = None  # how several networks train together
    # block definitions by name (docs/blocks.md); every graph of the project shares this dict
    blocks: dict[str, Graph] = field(default_factory=dict)

    # a value of `training`, `dataset` or `recipe` changed: its path ("training.optimizer.lr")
    # and the new value (MISSING when removed). The graph has its own signals.
    value_changed = Signal(str, object)

    def __post_init__(self) -> None:
        if not self.blocks:  # Project(name, graph=some_graph) keeps that graph's definitions
            self.blocks = self.graph.blocks
        self.link_blocks()

    def link_blocks(self) -> None:
        """Give every network and definition the project's definitions (after replacing
        `graph`, `networks` or `blocks`), so block uses resolve wherever a graph goes."""
        for graph in [self.graph, *self.networks.values(), *self.blocks.values()]:
            graph.blocks = self.blocks

    @property
    def is_multi_network(self) -> bool:
        return bool(self.networks)

    def value(self, path: str) -> Any:
        """The value at `path` ("training.epochs", "dataset.source", "runs.keep"), MISSING when
        absent."""
        section, *rest = path.split(".")
        return read_path(self._section(section, create=False), tuple(rest))

    def set_value(self, path: str, value: Any) -> None:
        """Set (MISSING: remove) the value at `path`, making objects on the way; emits
        `value_changed`. The way editors change settings, so everything that shows them hears."""
        section, *rest = path.split(".")
        if not rest:
            raise ValueError(f"'{path}' names a whole section; give a key inside it")
        write_path(self._section(section), tuple(rest), copy.deepcopy(value))
        self.value_changed.emit(path, value)

    def _section(self, name: str, create: bool = True) -> dict[str, Any]:
        if name == "runs":  # the run history's retention (engine.experiments.retention)
            runs = self.extra.get("runs")
            if not isinstance(runs, dict):
                if not create:
                    return {}
                runs = self.extra["runs"] = {}
            return runs
        if name not in ("training", "dataset", "recipe", "generation"):
            raise ValueError(f"'{name}' is not a settings section of a project")
        if name == "generation":  # a language model's (engine.settings.generation): kept as is
            found = self.extra.get(name)
            if isinstance(found, dict) or not create:
                return found if isinstance(found, dict) else {}
            self.extra[name] = {}
            return self.extra[name]  # type: ignore[no-any-return]
        if name == "recipe" and self.recipe is None:
            if not create:
                return {}
            self.recipe = {}
        section = getattr(self, name)
        assert isinstance(section, dict)
        return section

    def named_graphs(self) -> dict[str, Graph]:
        """Every network by name; a single-network project's one network is called "network"."""
        return dict(self.networks) if self.networks else {"network": self.graph}

    def to_json(self) -> dict[str, Any]:
        # the lowest version that holds it: without blocks, older Netwright still reads the file
        version = VERSION if self.blocks else 1
        data: dict[str, Any] = {"format": FORMAT, "version": version, "name": self.name}
        if self.blocks:
            data["blocks"] = {name: graph.to_json() for name, graph in self.blocks.items()}
        if self.networks:
            data["networks"] = {name: graph.to_json() for name, graph in self.networks.items()}
            data["recipe"] = copy.deepcopy(self.recipe or {})
        else:
            data["graph"] = self.graph.to_json()
        data["dataset"] = copy.deepcopy(self.dataset)
        data["training"] = copy.deepcopy(self.training)
        for key, value in self.extra.items():
            data.setdefault(key, copy.deepcopy(value))
        return data

    def weights_path(self, path: Path | None = None) -> Path | None:
        """Where this project's weights live: ``NAME.safetensors`` beside the project file
        (every network's, for a project of several)."""
        path = path or self.path
        if path is None:
            return None
        return path.with_name(project_stem(path) + ".safetensors")


def project_stem(path: Path) -> str:
    """``digits.netwright.json`` -> ``digits``."""
    name = path.name
    if name.endswith(SUFFIX):
        return name[: -len(SUFFIX)]
    return path.stem


def load_project(path: str | Path) -> Project:
    """Read a project file; raises ProjectError with a plain message for anything unusable."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProjectError(
                f"{path}: the file is {size / 2**20:.0f} MiB; project files are at most "
                f"{MAX_FILE_BYTES // 2**20} MiB (weights live in a separate .safetensors file)"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a folder, not a project file") from None
    except OSError as error:
        raise ProjectError(f"{path}: cannot be read ({error.strerror or error})") from None
    project = project_from_text(raw, str(path))
    project.path = path
    return project


def project_from_text(raw: bytes | str, source: str = "project") -> Project:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        raise ProjectError(f"{source}: not a UTF-8 text file (byte {error.start})") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ProjectError(
            f"{source}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise ProjectError(
            f"{source}: the JSON is nested too deeply to be a project file"
        ) from None
    except ValueError as error:
        raise ProjectError(f"{source}: {error}") from None
    return project_from_json(data, source)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a project file; use a finite number")


def project_from_json(data: Any, source: str = "project") -> Project:
    """Build a project from parsed JSON, checking every structural assumption."""
    if not isinstance(data, dict):
        raise ProjectError(f"{source}: expected a JSON object at the top, found {_kind(data)}")
    if data.get("format") != FORMAT:
        raise ProjectError(
            f'{source}: not a Netwright project ("format" should be "{FORMAT}", '
            f"found {json.dumps(data.get('format'))[:60]})"
        )
    data = migrate(data, source)
    name = data.get("name", "untitled")
    if not isinstance(name, str):
        raise ProjectError(f'{source}: "name" must be text, found {_kind(name)}')
    networks = _networks_from_json(data, source)
    graph = (
        next(iter(networks.values()))
        if networks
        else graph_from_json(data.get("graph", {}), source)
    )
    recipe = _section(data, "recipe", source, {}) if networks else None
    dataset = _section(data, "dataset", source, {})
    training = _section(data, "training", source, new_project_training())
    blocks = _blocks_from_json(data, source)
    extra = {
        k: v for k, v in data.items() if k not in _KNOWN_KEYS or (k == "recipe" and not networks)
    }
    return Project(
        name, graph, dataset, training, extra, networks=networks, recipe=recipe, blocks=blocks
    )


def _blocks_from_json(data: dict[str, Any], source: str) -> dict[str, Graph]:
    """The block definitions, in file order; a loop of definitions using each other is refused
    here, naming them, so nothing downstream ever recurses forever."""
    named = data.get("blocks", {})
    if not isinstance(named, dict):
        raise ProjectError(
            f'{source}: "blocks" must be an object of named block definitions, found {_kind(named)}'
        )
    blocks = {}
    for name, graph_data in named.items():
        problem = block_problem(name)
        if problem:
            raise ProjectError(f"{source}: {problem}")
        blocks[name] = graph_from_json(graph_data, f"{source}: block '{name}'")
    loop = definition_loop(blocks)
    if loop:
        names = " > ".join(loop)
        raise ProjectError(
            f"{source}: the blocks {names} use each other in a loop; a block cannot contain "
            "itself. Replace one of those uses with the layers it stands for."
        )
    return blocks


def _networks_from_json(data: dict[str, Any], source: str) -> dict[str, Graph]:
    """The named graphs of a multi-network project (empty for a single-network one)."""
    if "networks" not in data:
        return {}
    if "graph" in data:
        raise ProjectError(
            f'{source}: a project has either "graph" (one network) or "networks", not both'
        )
    named = data["networks"]
    if not isinstance(named, dict) or not named:
        raise ProjectError(
            f'{source}: "networks" must be an object of named graphs, such as {{"generator": {{...}}}}'
        )
    networks = {}
    for name, graph_data in named.items():
        if not NETWORK_NAME.match(name):
            raise ProjectError(
                f"{source}: '{name[:40]}' is not a usable network name (lower-case letters, digits and _)"
            )
        networks[name] = graph_from_json(graph_data, f"{source}: network '{name}'")
    return networks


def migrate(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Bring an older document up to VERSION; refuse a newer one whole."""
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError(
            f'{source}: "version" must be a whole number, found {json.dumps(version)[:40]}'
        )
    if version > VERSION:
        raise ProjectError(
            f"{source}: this project was saved by a newer Netwright (file version {version}; "
            f"this program reads up to {VERSION}). Update Netwright to open it."
        )
    if version < 1:
        raise ProjectError(f"{source}: version {version} is not a Netwright project version")
    while version < VERSION:
        if version not in MIGRATIONS:
            raise ProjectError(f"{source}: no way to upgrade a version {version} project")
        data = MIGRATIONS[version](copy.deepcopy(data))
        version += 1
        data["version"] = version
    return data


def _section(
    data: dict[str, Any], key: str, source: str, default: dict[str, Any]
) -> dict[str, Any]:
    value = data.get(key, default)
    if not isinstance(value, dict):
        raise ProjectError(f'{source}: "{key}" must be an object, found {_kind(value)}')
    return value


def graph_from_json(data: Any, source: str = "project") -> Graph:
    if not isinstance(data, dict):
        raise ProjectError(f'{source}: "graph" must be an object, found {_kind(data)}')
    nodes_data = data.get("nodes", [])
    edges_data = data.get("edges", [])
    if not isinstance(nodes_data, list):
        raise ProjectError(f'{source}: "graph.nodes" must be a list, found {_kind(nodes_data)}')
    if not isinstance(edges_data, list):
        raise ProjectError(f'{source}: "graph.edges" must be a list, found {_kind(edges_data)}')
    if len(nodes_data) > MAX_NODES:
        raise ProjectError(
            f"{source}: {len(nodes_data)} nodes is more than the {MAX_NODES} Netwright opens"
        )
    nodes: dict[str, Node] = {}
    for index, item in enumerate(nodes_data):
        node = _node_from_json(item, f"{source}: node #{index + 1}")
        if node.id in nodes:
            raise ProjectError(
                f"{source}: two nodes are named '{node.id}'; node names must be unique"
            )
        nodes[node.id] = node
    edges = [_edge_from_json(item, f"{source}: wire #{i + 1}") for i, item in enumerate(edges_data)]
    graph = Graph.from_parts(nodes.values(), edges)
    graph.extra = {k: v for k, v in data.items() if k not in ("nodes", "edges")}
    return graph


def _node_from_json(item: Any, where: str) -> Node:
    if not isinstance(item, dict):
        raise ProjectError(f"{where} must be an object, found {_kind(item)}")
    node_id, type_name = item.get("id"), item.get("type")
    if not isinstance(node_id, str) or not node_id:
        raise ProjectError(f'{where} needs an "id" (text), found {json.dumps(node_id)[:40]}')
    if not isinstance(type_name, str):
        raise ProjectError(
            f"{where} ('{node_id}') needs a \"type\" (text), found {_kind(type_name)}"
        )
    params = item.get("params", {})
    if not isinstance(params, dict):
        raise ProjectError(
            f"{where} ('{node_id}'): \"params\" must be an object, found {_kind(params)}"
        )
    position = item.get("position", [0, 0])
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(
            # abs(v) < 1e9 also refuses NaN and infinity, and compares huge ints without overflow
            isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e9
            for v in position
        )
    ):
        raise ProjectError(f"{where} ('{node_id}'): \"position\" must be two numbers [x, y]")
    extra = {k: v for k, v in item.items() if k not in ("id", "type", "params", "position")}
    return Node(node_id, type_name, dict(params), (float(position[0]), float(position[1])), extra)


def _edge_from_json(item: Any, where: str) -> Edge:
    if not isinstance(item, dict):
        raise ProjectError(f"{where} must be an object, found {_kind(item)}")
    ends = []
    for end in ("source", "target"):
        ref = item.get(end)
        if not isinstance(ref, dict) or not isinstance(ref.get("node"), str):
            raise ProjectError(f'{where}: "{end}" must be {{"node": ..., "port": ...}}')
        port = ref.get("port", "out" if end == "source" else "in")
        if not isinstance(port, str):
            raise ProjectError(f"{where}: the {end} port must be text")
        ends.append(PortRef(ref["node"], port))
    return Edge(ends[0], ends[1])


def save_project(project: Project, path: str | Path | None = None) -> Path:
    """Write the project atomically; the previous file stays whole if anything fails."""
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file name yet; choose where to save it")
    text = json.dumps(project.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write_text(target, text)
    project.path = target
    return target


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        type(None): "null",
    }.get(type(value), "a number")
