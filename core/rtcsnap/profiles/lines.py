"""Where a key sits in a TOML text: the line of each table header and ``key =`` line.

tomllib keeps no positions, so a validation error's location (``("targets", "evidence", "url")``)
is mapped back to the text by scanning it once: table headers set the current table, each
assignment (dotted keys and the keys of a one-line inline table included) records its full path.
An array of tables (``[[plugins.moderation.text]]``) records each element under its index as well,
``("plugins", "moderation", "text", "1")`` for the second, so a plugin's error about ``text[1]``
points at that element. A location not found exactly falls back to its longest recorded prefix (a
missing key: the line of its table's header; an element of an inline array: its key's line).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
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


def _in_arrays(path: Loc, arrays: Mapping[Loc, int]) -> Loc:
    """`path` with the current (last) element's index after each array of tables it goes through:
    ``[[a.b]]`` after ``[[a]]`` belongs to a's last element."""
    out: Loc = ()
    for part in path[:-1]:
        out = (*out, part)
        if out in arrays:
            out = (*out, str(arrays[out] - 1))
    return (*out, *path[-1:])


def key_lines(text: str) -> dict[Loc, int]:
    """Path of every table and key -> its first line (1-based)."""
    found: dict[Loc, int] = {}

    def record(path: Loc, line: int) -> None:
        for end in range(1, len(path) + 1):
            found.setdefault(path[:end], line)

    table: Loc = ()
    arrays: dict[Loc, int] = {}  # array of tables (its path, indices resolved) -> elements so far
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is not None:  # inside a multi-line string: no keys here
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        header = _HEADER.match(line)
        if header is not None:
            table = _in_arrays(_split(header[2]), arrays)
            record(table, number)
            if header[1] == "[[":
                count = arrays.get(table, 0)
                arrays[table] = count + 1
                table = (*table, str(count))
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
