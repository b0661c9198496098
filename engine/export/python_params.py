"""Turning the literal numbers of a block class's source into its constructor's parameters.

The Python export writes a block class's source once per use, with plain numbers
(`nn.Conv2d(64, 128, 3, stride=2)`). Uses of one definition whose sources differ only in
numbers become one class: each number that differs between uses is named by the block
parameter (or the block's input channels) whose value it is at every use, and each number
that a layer parameter's reference put there is named by that parameter. Working on tokens
keeps this independent of how each layer spells its constructor.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Mapping, Sequence
from typing import Any

Number = tuple[int, int, int, int]  # start row, start column, end row, end column


def numbers(code: str) -> list[tuple[Number, str]]:
    """The number literals of `code`, in order, with where each stands."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.NUMBER:
            found.append(((*token.start, *token.end), token.string))
    return found


def skeleton(code: str) -> tuple[tuple[int, str], ...]:
    """`code`'s tokens with every number blanked: uses that differ only in numbers match."""
    return tuple(
        (t.type, "#" if t.type == tokenize.NUMBER else t.string)
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type not in (tokenize.NL, tokenize.COMMENT)
    )


def tied(code: str, probed: str) -> list[int]:
    """Which numbers of `code` changed in `probed` (the same code made with one parameter
    changed); none when the change altered more than numbers."""
    if skeleton(code) != skeleton(probed):
        return []
    pairs = zip(numbers(code), numbers(probed))
    return [i for i, ((_, a), (_, b)) in enumerate(pairs) if a != b]


def probe(value: Any) -> Any:
    """Another value of the same kind, to see where a parameter lands in generated code."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value + 7919


def substitute(code: str, names: Mapping[int, str]) -> str:
    """`code` with number `i` replaced by the name `names[i]`."""
    lines = code.split("\n")
    spots = numbers(code)
    for index in sorted(names, reverse=True):
        (row, col, end_row, end_col), _ = spots[index]
        if row != end_row:
            continue
        line = lines[row - 1]
        lines[row - 1] = line[:col] + names[index] + line[end_col:]
    return "\n".join(lines)


def literal(token: str) -> Any:
    return ast.literal_eval(token)


def name_differences(
    codes: Sequence[str], candidates: Sequence[tuple[str, Sequence[Any]]]
) -> dict[int, str] | None:
    """For uses' sources alike but for numbers: a name for each number that differs, from
    `candidates` (name, value at each use), the first whose values match at every use; None
    when some differing number has no such name (those uses need classes of their own)."""
    found = [numbers(code) for code in codes]
    names: dict[int, str] = {}
    for index, spots in enumerate(zip(*found)):
        values = [literal(token) for _, token in spots]
        if all(v == values[0] and type(v) is type(values[0]) for v in values):
            continue
        match = next((n for n, vs in candidates if _same(vs, values)), None)
        if match is None:
            return None
        names[index] = match
    return names


def _same(expected: Sequence[Any], values: Sequence[Any]) -> bool:
    return all(
        not isinstance(a, bool) and isinstance(a, (int, float)) and a == b
        for a, b in zip(expected, values)
    )
