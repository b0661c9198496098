"""Write the reference tables from the declarations, so they never drift: the layer list
(README and docs/layers.md) from the catalogue, the training settings and the GAN recipe
(docs/project-format.md) from their tables.

    .venv/bin/python docs/make_reference.py          # rewrite them
    .venv/bin/python docs/make_reference.py --check  # exit 1 when any is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.experiments.retention import RETENTION  # noqa: E402
from engine.layers import by_category  # noqa: E402
from engine.recipes import GAN_RECIPE, GAN_SECTIONS  # noqa: E402
from engine.settings import TRAINING, TRAINING_SECTIONS  # noqa: E402
from engine.settings.declared import markdown_table  # noqa: E402
from engine.settings.generation import GENERATION  # noqa: E402


def readme_table() -> str:
    lines = ["| category | layers |", "|---|---|"]
    for category, layers in by_category():
        lines.append(f"| {category} | {', '.join(layer.name for layer in layers)} |")
    return "\n".join(lines)


def reference() -> str:
    parts = [
        "# Layer reference",
        "",
        "Generated from the catalogue by `docs/make_reference.py`; `netwright layers` prints the same.",
        "Shapes are per sample, without the batch axis.",
        "",
    ]
    for category, layers in by_category():
        parts.append(f"## {category}\n")
        for layer in layers:
            parts.append(f"### {layer.name}\n\n{layer.help}\n")
            if layer.params:
                parts.append("| parameter | default | accepts | meaning |\n|---|---|---|---|")
                for p in layer.params:
                    parts.append(
                        f"| `{p.name}` | `{json.dumps(p.default)}` | {p.describe()} | {p.help} |"
                    )
                parts.append("")
            if not layer.exports_onnx:
                parts.append(f"Not exportable to ONNX. {layer.onnx_note}\n")
    return "\n".join(parts).rstrip() + "\n"


def between(text: str, name: str, block: str, where: str) -> str:
    """`text` with what stands between its <!-- name:start --> and <!-- name:end --> replaced."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text:
        raise SystemExit(f"{where} has no {start} marker")
    pattern = re.escape(start) + r".*?" + re.escape(end)
    return re.sub(pattern, lambda _: f"{start}\n{block}\n{end}", text, flags=re.S)


def updated_format(text: str) -> str:
    where = "docs/project-format.md"
    text = between(text, "training", markdown_table(TRAINING, TRAINING_SECTIONS, "training"), where)
    text = between(text, "recipe", markdown_table(GAN_RECIPE, GAN_SECTIONS, "recipe"), where)
    text = between(text, "generation", markdown_table(GENERATION, (), "generation"), where)
    return between(text, "runs", markdown_table(RETENTION, (), "runs"), where)


def main() -> int:
    readme_path, reference_path = ROOT / "README.md", ROOT / "docs" / "layers.md"
    format_path = ROOT / "docs" / "project-format.md"
    readme = readme_path.read_text(encoding="utf-8")
    wanted = {
        readme_path: between(readme, "layers", readme_table(), "README.md"),
        reference_path: reference(),
        format_path: updated_format(format_path.read_text(encoding="utf-8")),
    }
    stale = [
        p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    if "--check" in sys.argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
