"""The common base of every wire model: aliases, rtcsnap errors, lenient mode, to_wire.

Why a custom base rather than plain pydantic:
* users catch one exception type (`rtcsnap.errors.ValidationError`) whose paths are wire
  paths (``TargetStreams.StreamList[1].Index``), whatever spelling they passed in;
* lenient mode mirrors the server ("值不合法时，自动调整为默认值", spec §2.1): invalid
  optional values are reset to their documented default, unknown keys dropped, each
  with a `RtcSnapLenientWarning`. It works by validating, fixing the raw input at the
  reported path and validating again, so every rule lives in one validator only;
* responses parse tolerantly (unknown keys ignored, rules not enforced, masked secrets).
"""

from __future__ import annotations

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
from rtcsnap.models._paths import Loc, canonical, format_path, locate, parse_path, thaw

SECRET_MASK = "******"
"""What `to_wire(mask_secrets=True)` (and every other dump) writes instead of a secret."""

REVEAL_SECRETS = "rtcsnap_reveal_secrets"
"""Serialization-context key; only `to_wire()` sets it."""

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
    """Make constructors and `model_validate` inside the block lenient (see module doc)."""
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


def _problems(model: type[BaseModel], exc: PydanticValidationError) -> list[_Problem]:
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
            marked = info is not None and LENIENT_DEFAULT in info.metadata
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
) -> Any:
    """Run pydantic via `run(data, context)`, translating errors; in lenient mode, fix and retry."""
    context = {_RESPONSE: True} if response else None
    work = thaw(data) if lenient else data
    for _ in range(_MAX_PASSES):
        try:
            return run(work, context)
        except PydanticValidationError as exc:
            problems = _problems(model, exc)
        plans = [_plan(model, work, p) for p in problems] if lenient else [None] * len(problems)
        fatal = [p for p, plan in zip(problems, plans, strict=True) if plan is None]
        if fatal:
            raise ValidationError([FieldError(p.path, p.rule) for p in fatal])
        for p, plan in zip(problems, plans, strict=True):
            assert plan is not None
            action = plan()
            warnings.warn(
                f"{p.path}: {p.rule}; lenient mode: {action}",
                RtcSnapLenientWarning,
                stacklevel=_user_stacklevel(),
            )
    raise ValidationError("input could not be repaired in lenient mode")


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
        )

    # Like pydantic's own __init__ (and RootModel's): nested models are then built by
    # pydantic-core directly, keeping the validation context, instead of through this method.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """As pydantic's, but raising rtcsnap errors; ``context={"lenient": True}`` is lenient."""
        ctx = kwargs.pop("context", None)
        extra = dict(ctx) if isinstance(ctx, Mapping) else {}
        lenient = bool(extra.pop("lenient", False)) or _LENIENT.get()
        parent = super().model_validate

        def run(d: Any, c: dict[str, Any] | None) -> Any:
            return parent(d, context={**extra, **(c or {})}, **kwargs)

        result: Self = validate(cls, obj, run, lenient=lenient, response=cls.response_model)
        return result

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], *, lenient: bool = False) -> Self:
        """Parse a wire dict (PascalCase keys); lenient mode mirrors the server's leniency."""
        return cls.model_validate(data, context={"lenient": lenient})

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
