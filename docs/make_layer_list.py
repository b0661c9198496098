"""Write the layer list (README and docs/layers.md) from the catalogue, so it never drifts.

    .venv/bin/python docs/make_layer_list.py          # rewrite both
    .venv/bin/python docs/make_layer_list.py --check  # exit 1 when either is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.layers import by_category  # noqa: E402

START, END = "<!-- layers:start -->", "<!-- layers:end -->"


def readme_table() -> str:
    lines = ["| category | layers |", "|---|---|"]
    for category, layers in by_category():
        lines.append(f"| {category} | {', '.join(layer.name for layer in layers)} |")
    return "\n".join(lines)


def reference() -> str:
    parts = [
        "# Layer reference",
        "",
        "Generated from the catalogue by `docs/make_layer_list.py`; `netwright layers` prints the same.",
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
                    parts.append(f"| `{p.name}` | `{json.dumps(p.default)}` | {p.describe()} | {p.help} |")
                parts.append("")
            if not layer.exports_onnx:
                parts.append(f"Not exportable to ONNX. {layer.onnx_note}\n")
    return "\n".join(parts).rstrip() + "\n"


def updated_readme(text: str) -> str:
    block = f"{START}\n{readme_table()}\n{END}"
    if START not in text:
        raise SystemExit(f"README.md has no {START} marker")
    return re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)


def main() -> int:
    readme_path, reference_path = ROOT / "README.md", ROOT / "docs" / "layers.md"
    readme = readme_path.read_text(encoding="utf-8")
    wanted = {readme_path: updated_readme(readme), reference_path: reference()}
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
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
