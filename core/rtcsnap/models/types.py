"""Enums and constrained scalar types shared by the wire models (spec §2–§4).

Each helper raises `RuleViolation` with the documented rule as text, so the error names
the rule, not a pydantic type. Values are echoed in rules only for ints and IDs, never for
free strings (those may be secrets).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from enum import IntEnum, StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, Strict, ValidationInfo

from rtcsnap.models.base import RuleViolation, is_response


class ApiVersion(StrEnum):
    """OpenAPI versions with the snapshot actions; rules differ slightly (MaxIdleTime)."""

    V2022_06_01 = "2022-06-01"
    V2023_11_01 = "2023-11-01"


class ImageFormat(IntEnum):
    """ImageConfig.Format (the doc spells JPEG "JEPG")."""

    JPEG = 0
    PNG = 1


class StreamType(IntEnum):
    """Stream.StreamType: 0 camera/main audio-video stream, 1 screen share."""

    MAIN = 0
    SCREEN = 1


class StorageType(IntEnum):
    """StorageConfig.Type; snapshots accept TOS, CUSTOM and VEIMAGEX only (not VOD)."""

    TOS = 0
    VOD = 1
    CUSTOM = 2
    VEIMAGEX = 3


class Vendor(IntEnum):
    """CustomConfig.Vendor: which third-party S3-compatible storage."""

    S3 = 0
    OSS = 1
    OBS = 2
    COS = 3
    KODO = 4


class TaskStatus(IntEnum):
    """SnapshotTask.Status (GetSnapshotTask)."""

    UNKNOWN_ERROR = 0
    NOT_STARTED = 1
    RUNNING = 2
    STOPPED = 3
    FAILED = 4


ID_PATTERN = r"[a-zA-Z0-9_@\-\.]{1,128}"
"""The ID rule for AppId/BusinessId/RoomId/TaskId/UserId (spec §4)."""

_ID = re.compile(ID_PATTERN)
_SHOW = 40  # characters of a bad ID quoted in the error

E = TypeVar("E", bound=IntEnum)


def _check_id(value: str, info: ValidationInfo) -> str:
    if not is_response(info) and _ID.fullmatch(value) is None:
        shown = value if len(value) <= _SHOW else value[:_SHOW] + "…"
        raise RuleViolation(f"must match {ID_PATTERN} (got {shown!r}, {len(value)} chars)")
    return value


def check_non_empty(value: Any, info: ValidationInfo) -> Any:
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    if not is_response(info) and not str(text).strip():
        raise RuleViolation("must not be empty")
    return value


def between(lo: int, hi: int) -> Callable[[int, ValidationInfo], int]:
    """An after-validator for the documented closed range ``[lo, hi]``."""

    def check(value: int, info: ValidationInfo) -> int:
        if not is_response(info) and not lo <= value <= hi:
            raise RuleViolation(f"must be between {lo} and {hi} (got {value})")
        return value

    return check


def _describe(members: Collection[IntEnum]) -> str:
    parts = [f"{int(m)} ({m.name})" for m in sorted(members)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def enum_of(
    enum: type[E], allowed: Collection[E] | None = None, aliases: Mapping[str, E] | None = None
) -> BeforeValidator:
    """Accept a member, its int value or its (case-insensitive) name; reject others.

    `allowed` narrows the members valid in requests (e.g. no VOD for snapshots).
    """
    names = {m.name.lower(): m for m in enum} | {k.lower(): v for k, v in (aliases or {}).items()}
    valid = list(allowed) if allowed is not None else list(enum)

    def convert(value: Any, info: ValidationInfo) -> Any:
        member: E | None = None
        if isinstance(value, enum):
            member = value
        elif isinstance(value, int) and not isinstance(value, bool):
            member = next((m for m in enum if m.value == value), None)
        elif isinstance(value, str):
            text = value.strip().lower()
            member = names.get(text)
            if member is None and text.isdigit():
                member = next((m for m in enum if m.value == int(text)), None)
        if is_response(info):
            return value if member is None else member
        if member is None or member not in valid:
            got = repr(value) if isinstance(value, int | str) else type(value).__name__
            raise RuleViolation(f"must be {_describe(valid)} (got {got})")
        return member

    return BeforeValidator(convert)


WireInt = Annotated[int, Strict()]
"""An int as JSON carries it: no strings, floats or booleans."""

Id = Annotated[str, Strict(), AfterValidator(_check_id)]
"""A string following the spec §4 ID rule."""

NonEmptyStr = Annotated[str, Strict(), AfterValidator(check_non_empty)]
"""A required free-form string (AccountId, Bucket, ServiceId): empty is rejected."""
