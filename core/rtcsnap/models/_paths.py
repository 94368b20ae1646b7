"""Wire paths: turn pydantic error locations into ``A.B[1].C`` and find them in raw input.

pydantic reports locations as the keys the caller used (field names or aliases); errors
must name the wire (alias) path, and lenient mode must edit the caller's raw data at that
place. Both need a walk over the model classes, kept here so the base stays readable.

A key that is not a plain identifier (empty, dotted, a lone surrogate, not a string) is
shown quoted, repr-style, in brackets (``ImageConfig['a.b']``, ``['\\ud800']``): it must be
named, yet must neither pass for a path of its own nor put unencodable text in a message.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Loc = tuple[str | int, ...]

_PART = re.compile(r"""\[(\d+)\]|\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]|([^.\[\]]+)""")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_SHOWN_KEY = 40  # characters of an odd key quoted in a path


def _quoted(key: object) -> str:
    """An odd key as it appears between brackets: repr-escaped (UTF-8-safe) and truncated."""
    if isinstance(key, str):
        shown = key if len(key) <= _SHOWN_KEY else key[:_SHOWN_KEY] + "…"
        return repr(shown)  # escapes lone surrogates and control characters
    text = repr(key)
    return text if len(text) <= _SHOWN_KEY else text[:_SHOWN_KEY] + "…"


def format_path(loc: Sequence[object]) -> str:
    """``("TargetStreams", "StreamList", 1, "Index")`` -> ``TargetStreams.StreamList[1].Index``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and len(part) <= _SHOWN_KEY and _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{_quoted(part)}]"
    return out


def parse_path(path: str) -> Loc:
    """Inverse of `format_path` (for untruncated keys); also takes a relative path such as ``[1].Index``."""
    out: list[str | int] = []
    for m in _PART.finditer(path):
        if m[1] is not None:
            out.append(int(m[1]))
        elif m[2] is not None:
            out.append(str(ast.literal_eval(m[2])))
        else:
            out.append(m[3])
    return tuple(out)


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def find_field(model: type[BaseModel] | None, key: str) -> tuple[str, FieldInfo] | None:
    """The (name, info) of the field of `model` that `key` spells, by alias or by name."""
    if model is None:
        return None
    for name, info in model.model_fields.items():
        choices = getattr(info.validation_alias, "choices", None) or ()
        if key in (name, info.alias, *choices):
            return name, info
    return None


def canonical(model: type[BaseModel], loc: Loc) -> tuple[Loc, FieldInfo | None]:
    """`loc` spelled with wire aliases, and the field it ends on (None if unknown)."""
    out: list[str | int] = []
    current: type[BaseModel] | None = model
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            out.append(part)
            continue
        found = find_field(current, part)
        if found is None:
            out.append(part)
            current, info = None, None
            continue
        name, info = found
        out.append(info.alias or name)
        current = model_in(info.annotation)
    return tuple(out), info


def thaw(value: Any) -> Any:
    """A copy of plain containers that lenient fixes may edit without touching the caller's.

    Recursive: call it on input `scan` has bounded in depth only.
    """
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class BadKey:
    """A mapping key no wire body can carry: not a string, or not encodable as UTF-8."""

    container: Any
    key: Any
    loc: tuple[Any, ...]  # the raw location of the key, the key itself last
    rule: str


@dataclass(frozen=True)
class Scan:
    """What `scan` found: the first container nested too deep, whether the value budget ran
    out (either stops the walk), and every bad key seen."""

    too_deep: tuple[Any, ...] | None
    too_many: bool
    bad_keys: list[BadKey]


def is_text(value: str) -> bool:
    """True unless `value` holds a lone surrogate, which no UTF-8 body can carry."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"key must be a string (got {type(key).__name__})"
    return None if is_text(key) else "key must be valid Unicode text (it contains a lone surrogate)"


def scan(data: Any, max_depth: int, max_values: int) -> Scan:
    """Walk raw input without recursion: nesting beyond `max_depth` containers, more than
    `max_values` values in all, and bad keys.

    The body itself is level 1. Model instances are not entered (they are validated
    already). Depth-first, so cyclic input is found "too deep" after `max_depth` steps; the
    value budget bounds the walk (and later copies) for huge or self-sharing input.
    """
    bad: list[BadKey] = []
    stack: list[tuple[Any, tuple[Any, ...], int]] = [(data, (), 1)]
    seen = 0
    while stack:
        node, loc, depth = stack.pop()
        seen += 1
        if seen > max_values:
            return Scan(None, True, bad)
        if not isinstance(node, Mapping | list | tuple):
            continue
        if depth > max_depth:
            return Scan(loc, False, bad)
        if isinstance(node, Mapping):
            for key, value in node.items():
                rule = _key_problem(key)
                if rule is not None:
                    bad.append(BadKey(node, key, (*loc, key), rule))
                else:
                    stack.append((value, (*loc, key), depth + 1))
        else:
            stack.extend((value, (*loc, i), depth + 1) for i, value in enumerate(node))
    return Scan(None, False, bad)


def _as_dict(model: type[BaseModel] | None, value: Any) -> Any:
    """Make `value` (a model instance or a shorthand) an editable dict, or leave it be."""
    if isinstance(value, BaseModel):
        return {name: getattr(value, name) for name in value.model_fields_set}
    coerce = getattr(model, "coerce_input", None)
    return thaw(coerce(value)) if coerce is not None else value


def locate(model: type[BaseModel], data: Any, loc: Loc) -> tuple[Any, str | int] | None:
    """The (container, key) holding the value at `loc` inside raw `data` (thawed), or None.

    Model instances and shorthands met on the way are replaced in place by equivalent
    dicts, so the caller can edit the value and validate `data` again.
    """
    if not loc:
        return None
    node = data
    current: type[BaseModel] | None = model
    for i, part in enumerate(loc):
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                return None
            key: str | int = part
        else:
            if not isinstance(node, dict):
                return None
            found = find_field(current, part)
            spellings = [part] + ([found[1].alias or part, found[0]] if found else [])
            hit = next((s for s in spellings if s in node), None)
            if hit is None:
                return None
            key = hit
            current = model_in(found[1].annotation) if found else None
        if i == len(loc) - 1:
            return node, key
        nxt = loc[i + 1]
        child = node[key]
        if isinstance(nxt, str) and not isinstance(child, dict):
            child = _as_dict(current, child)
            node[key] = child
        node = child
    return None
