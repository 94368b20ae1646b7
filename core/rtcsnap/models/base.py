"""The common base of every wire model: aliases, rtcsnap errors, lenient mode, to_wire.

Why a custom base rather than plain pydantic:
* users catch one exception type (`rtcsnap.errors.ValidationError`) whose paths are wire
  paths (``TargetStreams.StreamList[1].Index``), whatever spelling they passed in, and
  whose rules are our own words: no pydantic or Python exception text ever reaches one;
* lenient mode mirrors the server: unknown keys are dropped and, for API version
  2022-06-01 only ("值不合法时，自动调整为默认值", spec §2.1), invalid optional values
  are reset to their documented default, each with a `RtcSnapLenientWarning`. 2023-11-01
  removed that reset (spec §9 #7), so there lenient mode resets nothing and an invalid
  value is an error as in strict mode. It works by validating, fixing the raw input at
  the reported path and validating again, so every rule lives in one validator only;
* responses parse tolerantly (unknown keys ignored, rules not enforced, masked secrets).

Hostile input is bounded before pydantic sees it, in both modes, so that it fails as a
field-path error instead of a `RecursionError` or a hang: at most `MAX_NESTING_DEPTH`
nested containers (real bodies nest 4 deep), `MAX_VALUES` values in all, and for raw
JSON (`model_validate_json`) `MAX_BODY_BYTES` bytes. Keys that no JSON body can carry
(not a string, a lone surrogate) are errors naming the key; lenient mode drops them.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_pascal

from rtcsnap.errors import FieldError, ValidationError
from rtcsnap.models._paths import Loc, canonical, format_path, locate, parse_path, scan, thaw

SECRET_MASK = "******"
"""What `to_wire(mask_secrets=True)` (and every other dump) writes instead of a secret."""

REVEAL_SECRETS = "rtcsnap_reveal_secrets"
"""Serialization-context key; only `to_wire()` sets it."""

MAX_NESTING_DEPTH = 32
"""Containers nested deeper than this (the body itself is level 1) are rejected."""

MAX_VALUES = 10_000
"""Input holding more values than this in all is rejected; a full StartSnapshot has ~100."""

MAX_BODY_BYTES = 64 * 1024
"""Raw JSON longer than this is rejected before parsing; a full StartSnapshot is ~4 KiB."""

_MAX_INT_DIGITS = 30  # longer JSON integer literals are not parsed (int() is quadratic)

_RESPONSE = "rtcsnap_response"
_MAX_PASSES = 8  # each lenient pass fixes every fixable error; nesting needs a few passes

Fix = Literal["invalid", "drop", "replace"]


class RtcSnapLenientWarning(UserWarning):
    """Lenient mode changed the input (reset to a default, dropped a key, kept a doubtful value)."""


class RuleViolation(ValidationError):
    """Raised inside validators: pydantic records it (it is a ValueError) with its location.

    `path` is relative to the field or model that raised. `fix` tells lenient mode what to
    do: ``invalid`` (reset if the field is `LENIENT_DEFAULT`, else fatal), ``drop`` the key,
    or ``replace`` the raw value by `replacement`.
    """

    def __init__(
        self,
        errors: Sequence[FieldError] | str,
        *,
        path: str = "",
        fix: Fix = "invalid",
        replacement: Any = None,
    ) -> None:
        super().__init__(errors, path=path)
        self.fix: Fix = fix
        self.replacement = replacement


@dataclass(frozen=True)
class _LenientDefault:
    """Field metadata marker: in lenient mode an invalid value becomes the field's default."""


LENIENT_DEFAULT = _LenientDefault()

_LENIENT: ContextVar[bool] = ContextVar("rtcsnap_lenient", default=False)


@contextmanager
def lenient_validation() -> Iterator[None]:
    """Make constructors and `model_validate` inside the block lenient (see module doc).

    A request's `api_version` decides what lenient means: 2023-11-01 resets nothing. A
    nested model built on its own (``ImageConfig(...)``) has no version and follows the
    default one, 2022-06-01.
    """
    token = _LENIENT.set(True)
    try:
        yield
    finally:
        _LENIENT.reset(token)


def is_response(info: ValidationInfo) -> bool:
    """True while parsing a server response: validators then skip request-side rules."""
    return isinstance(info.context, dict) and info.context.get(_RESPONSE) is True


@dataclass(frozen=True)
class _Problem:
    loc: Loc
    rule: str
    fix: Fix
    replacement: Any
    reset_to: Any  # the field default when the field is LENIENT_DEFAULT, else _NO_RESET

    @property
    def path(self) -> str:
        return format_path(self.loc)


_NO_RESET = object()


def shown_int(value: int) -> str:
    """An int as a rule quotes it: digits when short, else its size (str() of a huge int raises)."""
    return str(value) if value.bit_length() <= 64 else f"an integer of {value.bit_length()} bits"


def shown_str(value: str, limit: int = 40) -> str:
    """A (non-secret) string as a rule quotes it: repr-escaped, so lone surrogates stay printable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


_TYPE_RULES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be a boolean",
    "list_type": "must be an array",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_unicode": "must be valid Unicode text",
    "invalid_key": "key must be a string",
    "recursion_loop": "must not contain itself",
    "int_parsing_size": "must be an integer",
    # A plain ValueError/AssertionError from a validator is a bug of ours: its text is Python's.
    "value_error": "is not a valid value",
    "assertion_error": "is not a valid value",
}


def _describe(err: Mapping[str, Any]) -> str:
    """Human rule text for a pydantic built-in error; never echoes a (maybe secret) input."""
    kind = str(err["type"])
    rule = _TYPE_RULES.get(kind)
    if rule is None:
        ctx = err.get("ctx") or {}
        rule = f"must be one of {ctx['expected']}" if "expected" in ctx else str(err["msg"])
    if kind.endswith("_type") or kind.endswith("_parsing"):
        rule += f" (got {type(err.get('input')).__name__})"
    return rule


def _problems(model: type[BaseModel], exc: PydanticValidationError, resets: bool) -> list[_Problem]:
    out: list[_Problem] = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        raised = (err.get("ctx") or {}).get("error")
        if isinstance(raised, ValidationError):
            fix: Fix = raised.fix if isinstance(raised, RuleViolation) else "invalid"
            repl = raised.replacement if isinstance(raised, RuleViolation) else None
            items = [(loc + parse_path(fe.path), fe.rule) for fe in raised.errors]
        else:
            fix, repl = ("drop" if err["type"] == "extra_forbidden" else "invalid"), None
            items = [(loc, _describe(err))]
        for raw_loc, rule in items:
            wire_loc, info = canonical(model, raw_loc)
            marked = resets and info is not None and LENIENT_DEFAULT in info.metadata
            reset_to = info.default if marked and info is not None else _NO_RESET
            out.append(_Problem(wire_loc, rule, fix, repl, reset_to))
    return out


def _plan(model: type[BaseModel], data: Any, p: _Problem) -> Callable[[], str] | None:
    """How lenient mode repairs `p` in raw `data` (returns the action's description), or None."""
    if p.fix == "invalid" and p.reset_to is _NO_RESET:
        return None
    where = locate(model, data, p.loc)
    if where is None:
        return None
    container, key = where

    def apply() -> str:
        if p.fix == "drop":
            container.pop(key, None)
            return "dropped"
        if p.fix == "replace":
            container[key] = p.replacement
            return "kept"
        container[key] = p.reset_to
        shown = p.reset_to.value if isinstance(p.reset_to, Enum) else p.reset_to
        return f"reset to the default {shown!r}"

    return apply


def validate(
    model: type[BaseModel],
    data: Any,
    run: Callable[[Any, dict[str, Any] | None], Any],
    *,
    lenient: bool,
    response: bool,
    resets: bool = True,
) -> Any:
    """Run pydantic via `run(data, context)`, translating errors; in lenient mode, fix and retry.

    `resets` says whether lenient mode may reset invalid optional values to their default
    (the API version's behaviour); dropping unknown keys does not depend on it.
    """
    context = {_RESPONSE: True} if response else None
    work = _bounded(model, data, lenient=lenient, response=response)
    for _ in range(_MAX_PASSES):
        try:
            return run(work, context)
        except PydanticValidationError as exc:
            problems = _problems(model, exc, resets)
        plans = [_plan(model, work, p) for p in problems] if lenient else [None] * len(problems)
        fatal = [p for p, plan in zip(problems, plans, strict=True) if plan is None]
        if fatal:
            raise ValidationError([FieldError(p.path, p.rule) for p in fatal])
        for p, plan in zip(problems, plans, strict=True):
            assert plan is not None
            _warn(p.path, p.rule, plan())
    raise ValidationError("input could not be repaired in lenient mode")


def _bounded(model: type[BaseModel], data: Any, *, lenient: bool, response: bool) -> Any:
    """`data` checked against the limits (see module doc).

    Bad keys are errors in strict mode; lenient mode drops them from a copy with a warning,
    and response parsing (which ignores unknown keys anyway) drops them silently.
    """
    found = scan(data, MAX_NESTING_DEPTH, MAX_VALUES)
    if found.too_many:
        raise ValidationError(f"must not hold more than {MAX_VALUES} values")
    if found.too_deep is not None:
        path = format_path(canonical(model, found.too_deep)[0])
        raise ValidationError([FieldError(path, f"nesting deeper than {MAX_NESTING_DEPTH} levels")])

    def where(loc: tuple[Any, ...]) -> str:
        return format_path((*canonical(model, loc[:-1])[0], loc[-1]))

    if not lenient and not (response and found.bad_keys):
        if found.bad_keys:
            raise ValidationError([FieldError(where(b.loc), b.rule) for b in found.bad_keys])
        return data
    work = thaw(data)
    for bad in scan(work, MAX_NESTING_DEPTH, MAX_VALUES).bad_keys:
        bad.container.pop(bad.key, None)
        if not response:
            _warn(where(bad.loc), bad.rule, "dropped")
    return work


def _warn(path: str, rule: str, action: str) -> None:
    prefix = f"{path}: " if path else ""
    warnings.warn(
        f"{prefix}{rule}; lenient mode: {action}", RtcSnapLenientWarning, stacklevel=_user_stacklevel()
    )


_JSON_TOKEN = re.compile(r'\\.|["\[\]{}]', re.S)  # escape pairs, quotes, brackets: one linear pass


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside string literals nest deeper than `limit` (linear, no backtracking)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string = 0, False
    for m in _JSON_TOKEN.finditer(text):
        token = m[0]
        if token == '"':
            in_string = not in_string
        elif in_string or token[0] == "\\":
            continue
        elif token in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _int_literal(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValidationError(f"must not contain integers of more than {_MAX_INT_DIGITS} digits")
    return int(text)


def decode_json(raw: Any) -> Any:
    """Raw JSON text or UTF-8 bytes as Python data, within `MAX_BODY_BYTES` and `MAX_NESTING_DEPTH`.

    The depth is counted on the text before parsing: `json.loads` itself recurses (and
    raises `RecursionError`) on deep input.
    """
    if isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_BODY_BYTES:
            raise ValidationError(f"must not be larger than {MAX_BODY_BYTES} bytes (got {len(raw)})")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"must be valid JSON in UTF-8 (undecodable byte at offset {exc.start})"
            ) from None
    elif isinstance(raw, str):
        size = len(raw) if len(raw) > MAX_BODY_BYTES else len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            raise ValidationError(f"must not be larger than {MAX_BODY_BYTES} bytes (got {size})")
        text = raw
    else:
        raise ValidationError(f"must be JSON text (got {type(raw).__name__})")
    if json_depth_exceeds(text, MAX_NESTING_DEPTH):
        raise ValidationError(f"nesting deeper than {MAX_NESTING_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_int_literal)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"must be valid JSON (syntax error at line {exc.lineno}, column {exc.colno})"
        ) from None


def _user_stacklevel() -> int:
    """The `stacklevel` of the first frame outside this package: the caller's own line."""
    here = str(Path(__file__).parent)
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(here):
        frame, level = frame.f_back, level + 1
    return level


class WireModel(BaseModel):
    """Base of all wire objects: snake_case in Python, PascalCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="forbid",
        hide_input_in_errors=True,
    )

    response_model: ClassVar[bool] = False
    """True for server responses: tolerant parsing, no request rules."""

    def __init__(self, /, **data: Any) -> None:
        validate(
            type(self),
            data,
            lambda d, ctx: self.__pydantic_validator__.validate_python(d, self_instance=self, context=ctx),
            lenient=_LENIENT.get(),
            response=self.response_model,
            resets=type(self).lenient_resets(data),
        )

    # Like pydantic's own __init__ (and RootModel's): nested models are then built by
    # pydantic-core directly, keeping the validation context, instead of through this method.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, but raising rtcsnap errors; ``context={"lenient": True}`` is lenient."""
        return cls._validate_with(super().model_validate, obj, kwargs)

    @classmethod
    def model_validate_strings(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, but raising rtcsnap errors (and lenient like `model_validate`)."""
        return cls._validate_with(super().model_validate_strings, obj, kwargs)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Raw JSON, bounded by `MAX_BODY_BYTES` and `MAX_NESTING_DEPTH`, then `model_validate`."""
        return cls.model_validate(decode_json(json_data), **kwargs)

    @classmethod
    def _validate_with(cls, parent: Callable[..., Any], obj: Any, kwargs: dict[str, Any]) -> Self:
        ctx = kwargs.pop("context", None)
        extra = dict(ctx) if isinstance(ctx, Mapping) else {}
        lenient = bool(extra.pop("lenient", False)) or _LENIENT.get()

        def run(d: Any, c: dict[str, Any] | None) -> Any:
            return parent(d, context={**extra, **(c or {})}, **kwargs)

        result: Self = validate(
            cls, obj, run, lenient=lenient, response=cls.response_model, resets=cls.lenient_resets(obj)
        )
        return result

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], *, lenient: bool = False) -> Self:
        """Parse a wire dict (PascalCase keys); lenient mode mirrors the server's leniency.

        A model without an API version (a nested one parsed on its own) is lenient the
        2022-06-01 way: invalid optional values are reset to their defaults.
        """
        return cls.model_validate(data, context={"lenient": lenient})

    @classmethod
    def lenient_resets(cls, data: Any) -> bool:
        """Whether lenient mode may reset invalid optional values in `data` (raw input).

        True here; requests answer from the API version `data` names (spec §9 #7).
        """
        return True

    @classmethod
    def coerce_input(cls, value: Any) -> Any:
        """Hook for shorthands (e.g. a list for `Streams`); shared by validation and lenient fixes."""
        return value

    @model_validator(mode="before")
    @classmethod
    def _before(cls, data: Any, info: ValidationInfo) -> Any:
        data = cls.coerce_input(data)
        if is_response(info) and isinstance(data, Mapping):
            known = cls._known_keys()
            data = {k: v for k, v in data.items() if k in known}
        return data

    @classmethod
    def _known_keys(cls) -> set[str]:
        keys: set[str] = set()
        for name, info in cls.model_fields.items():
            keys.update(k for k in (name, info.alias) if k)
            choices = getattr(info.validation_alias, "choices", None) or ()
            keys.update(c for c in choices if isinstance(c, str))
        return keys

    def to_wire(self, *, mask_secrets: bool = False) -> dict[str, Any]:
        """The documented wire dict: set fields only, ints for enums/regions, secrets revealed.

        This is the one place secrets leave the model; `mask_secrets=True` writes
        ``"******"`` instead (for logs and dry runs).
        """
        data: dict[str, Any] = self.model_dump(
            mode="json",
            by_alias=True,
            exclude_unset=True,
            exclude_none=True,
            context={REVEAL_SECRETS: not mask_secrets},
        )
        return data
