"""Two runs side by side: their figures, the settings that differ, and the layers that changed.

Plain HTML in a read-only browser (it scrolls, copies and prints), built from
engine.experiments.compare; the colours of added, changed and removed layers
are the ones their marks on the canvas use.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from app.runs.canvas_marks import change_colour
from designer import theme
from engine.experiments.compare import Comparison, show

if TYPE_CHECKING:
    from engine.experiments.history import RunRecord

FIGURES = (
    ("Best validation loss", "val_loss", "{:.4f}"),
    ("Validation accuracy", "val_accuracy", "{:.2%}"),
    ("Epochs", "epochs", "{:.0f}"),
    ("Parameters", "parameters", "{:,.0f}"),
    ("Time", "seconds", "{:.1f} s"),
)


def comparison_html(before: RunRecord, after: RunRecord, comparison: Comparison) -> str:
    t = theme.current()
    rows = []
    for label, key, pattern in FIGURES:
        a, b = before.figure(key), after.figure(key)
        rows.append(
            f"<tr><td class='k'>{label}</td><td>{_fmt(a, pattern)}</td><td>{_fmt(b, pattern)}</td></tr>"
        )
    settings = [
        f"<tr><td class='k'>{html.escape(d.key)}</td><td>{html.escape(show(d.before))}</td>"
        f"<td><b>{html.escape(show(d.after))}</b></td></tr>"
        for d in comparison.settings + comparison.data
    ]
    layers = []
    for change in comparison.layers:
        colour = change_colour(change.change)
        details = html.escape(", ".join(change.details))
        layers.append(
            f"<tr><td><span style='color:{colour}'>■</span> <b>{html.escape(change.node)}</b>"
            f" <span class='d'>{html.escape(change.type)}</span></td>"
            f"<td style='color:{colour}'>{change.change}</td><td>{details}</td></tr>"
        )
    for wire in comparison.wires_added:
        layers.append(
            f"<tr><td>{html.escape(wire)}</td><td style='color:{t.ok}'>wire added</td><td></td></tr>"
        )
    for wire in comparison.wires_removed:
        layers.append(
            f"<tr><td>{html.escape(wire)}</td><td style='color:{t.error}'>wire removed</td><td></td></tr>"
        )
    same = "<p class='d'>The same settings and the same network.</p>" if comparison.same else ""
    return f"""
<style>
 body {{ color: {t.text}; }}
 h3 {{ margin: 6px 0 4px 0; font-size: 11pt; }}
 td {{ padding: 2px 12px 2px 0; }}
 th {{ text-align: left; padding: 2px 12px 2px 0; color: {t.text_dim}; font-weight: normal; }}
 .k {{ color: {t.text_dim}; }}
 .d {{ color: {t.text_dim}; }}
</style>
<h3>{html.escape(before.name)} → {html.escape(after.name)}</h3>
<table><tr><th></th><th>{html.escape(before.name)}</th><th>{html.escape(after.name)}</th></tr>
{"".join(rows)}</table>
{same}
{"<h3>Settings that differ</h3><table>" + "".join(settings) + "</table>" if settings else ""}
{"<h3>Network</h3><table>" + "".join(layers) + "</table>" if layers else ""}
"""


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)
