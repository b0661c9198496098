"""Package names that load their module on first use, so importing a package stays cheap.

The window imports `engine.training`, `engine.gan` and `engine.export` before
it first paints; their modules load torch, which takes seconds. A package
lists where each of its names lives and hands its `__getattr__` to
`lazy_names`; `from engine.training import Trainer` still works, and loads
torch only then.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package` that imports `where[name]` on first use."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module '{package}' has no attribute {name!r}")

    return __getattr__
