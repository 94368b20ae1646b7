"""Wire paths: turn pydantic error locations into ``A.B[1].C`` and find them in raw input.

pydantic reports locations as the keys the caller used (field names or aliases); errors
must name the wire (alias) path, and lenient mode must edit the caller's raw data at that
place. Both need a walk over the model classes, kept here so the base stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Loc = tuple[str | int, ...]

_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def format_path(loc: Loc) -> str:
    """``("TargetStreams", "StreamList", 1, "Index")`` -> ``TargetStreams.StreamList[1].Index``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def parse_path(path: str) -> Loc:
    """Inverse of `format_path`; also takes a relative path such as ``[1].Index``."""
    return tuple(int(m[1]) if m[1] is not None else m[2] for m in _PART.finditer(path))


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
    """A copy of plain containers that lenient fixes may edit without touching the caller's."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


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
