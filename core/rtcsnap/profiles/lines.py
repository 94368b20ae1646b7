"""Where a key sits in a TOML text: the line of each table header and ``key =`` line.

tomllib keeps no positions, so a validation error's location (``("targets", "evidence", "url")``)
is mapped back to the text by scanning it once: table headers set the current table, each
assignment (dotted keys and the keys of a one-line inline table included) records its full path.
A location not found exactly falls back to its longest recorded prefix (a missing key: the line
of its table's header).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")

Loc = tuple[str, ...]


def _split(dotted: str) -> Loc:
    parts = []
    for seg in re.findall(_KEY, dotted):
        if seg[0] in "\"'":
            try:
                seg = tomllib.loads(f"k = {seg}")["k"]
            except tomllib.TOMLDecodeError:
                seg = seg[1:-1]
        parts.append(seg)
    return tuple(parts)


def key_lines(text: str) -> dict[Loc, int]:
    """Path of every table and key -> its first line (1-based)."""
    found: dict[Loc, int] = {}

    def record(path: Loc, line: int) -> None:
        for end in range(1, len(path) + 1):
            found.setdefault(path[:end], line)

    table: Loc = ()
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is not None:  # inside a multi-line string: no keys here
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        header = _HEADER.match(line)
        if header is not None:
            table = _split(header[1])
            record(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign is None:
            continue
        path = table + _split(assign[1])
        record(path, number)
        rest = line[assign.end() :]
        for inner in _INLINE.finditer(rest):
            record(path + _split(inner[1]), number)
        for quote in ('"""', "'''"):
            if rest.count(quote) % 2 == 1:
                open_quote = quote
    return found


def line_of(lines: Mapping[Loc, int], loc: Sequence[object]) -> int | None:
    """The line of `loc`, or of its longest prefix that has one; None if nothing matches."""
    path = tuple(str(p) for p in loc)
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


__all__ = ["key_lines", "line_of"]
