"""Nothing read from a file can run code: no pickle, no eval/exec, safe torch.load and np.load.

The source of app/, designer/ and engine/ is parsed with `ast`, so words in
strings and docstrings ("never pickle") do not count, and every real import or
call does, however it is spelled (`import pickle as p`, `from numpy import load`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "designer", "engine")
UNSAFE_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "dill",
    "cloudpickle",
    "shelve",
    "marshal",
    "joblib",
}
RUNS_CODE = {"eval", "exec"}


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.what}"


def scan(source: str, where: str = "<source>") -> list[Finding]:
    """Every unsafe import or call in `source`."""
    tree = ast.parse(source, where)
    aliases = _aliases(tree)
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in UNSAFE_MODULES:
                    found.append(Finding(where, node.lineno, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in UNSAFE_MODULES:
                found.append(Finding(where, node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Call):
            problem = _unsafe_call(node, aliases)
            if problem:
                found.append(Finding(where, node.lineno, problem))
    return found


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted origin, for `import numpy as np` and `from torch import load`."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(func: ast.expr, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    head = aliases.get(func.id, func.id)
    return ".".join([head, *reversed(parts)])


def _keyword_is(call: ast.Call, name: str, value: object) -> bool:
    return any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is value
        for k in call.keywords
    )


def _unsafe_call(call: ast.Call, aliases: dict[str, str]) -> str | None:
    if isinstance(call.func, ast.Name) and call.func.id in RUNS_CODE:
        if call.func.id not in aliases:  # the builtin, not a method or an imported name
            return f"calls {call.func.id}()"
    name = _dotted(call.func, aliases)
    if name == "torch.load" and not _keyword_is(call, "weights_only", True):
        return "torch.load without weights_only=True"
    if name == "torch.save":
        return "torch.save pickles; write weights with safetensors"
    if name in ("numpy.load", "np.load") and not _keyword_is(call, "allow_pickle", False):
        return "np.load without allow_pickle=False"
    return None


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_shipped_code_never_unpickles_or_evaluates_what_it_reads():
    files = source_files()
    assert len(files) > 50  # really scanning the packages
    findings = [
        f
        for path in files
        for f in scan(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize(
    "source",
    [
        "import pickle",
        "import pickle as p",
        "from pickle import loads",
        "import dill",
        "eval(text)",
        "exec(open('x').read())",
        "import torch\ntorch.load('w.pt')",
        "import torch\ntorch.load('w.pt', weights_only=False)",
        "from torch import load\nload('w.pt')",
        "import torch\ntorch.save(model, 'w.pt')",
        "import numpy as np\nnp.load('x.npz')",
        "import numpy as np\nnp.load('x.npz', allow_pickle=True)",
        "import numpy\nnumpy.load('x.npy')",
    ],
)
def test_the_scanner_finds_each_unsafe_spelling(source):
    assert scan(source), source


@pytest.mark.parametrize(
    "source",
    [
        '"""We never pickle; eval(x) is not used."""',
        "text = 'import pickle'",
        "import torch\ntorch.load('w.pt', weights_only=True)",
        "import numpy as np\nnp.load('x.npz', allow_pickle=False)",
        "model.eval()",
        "dialog.exec()",
        "from safetensors.torch import load_file\nload_file('w.safetensors')",
    ],
)
def test_the_scanner_ignores_safe_code_and_words_in_strings(source):
    assert scan(source) == []
