"""`netwright layers` and `netwright examples`: what the program offers."""

from __future__ import annotations

import argparse
import json

from engine.layers import by_category
from engine.resources import examples


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    layers = sub.add_parser("layers", help="list the layer catalogue")
    layers.add_argument("--json", action="store_true", help="machine-readable output")
    layers.set_defaults(run=run_layers)
    listing = sub.add_parser("examples", help="list the bundled example projects")
    listing.set_defaults(run=run_examples)


def run_layers(args: argparse.Namespace) -> int:
    groups = by_category()
    if args.json:
        print(json.dumps([layer.to_json() for _, layers in groups for layer in layers], indent=2))
        return 0
    for category, layers in groups:
        print(f"{category}")
        for layer in layers:
            ins = (
                ", ".join(
                    p.name + ("*" if p.multiple else "") + ("?" if p.optional else "")
                    for p in layer.inputs
                )
                or "-"
            )
            outs = ", ".join(p.name for p in layer.outputs) or "-"
            params = (
                ", ".join(f"{p.name}={json.dumps(p.default)}" for p in layer.params)
                or "no parameters"
            )
            print(f"  {layer.name:<24} in: {ins:<5} out: {outs:<4} {params}")
        print()
    print("* takes any number of wires; ? may be left unwired")
    return 0


def run_examples(args: argparse.Namespace) -> int:
    found = examples()
    width = max((len(e.name) for e in found), default=0)
    for example in found:
        print(f"{example.name:<{width}}  {example.description}")
    return 0
