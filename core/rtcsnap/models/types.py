"""Enums and constrained scalar types shared by the wire models (spec §2–§4).

Each helper raises `RuleViolation` with the documented rule as text, so the error names
the rule, not a pydantic type. Values are echoed in rules only for ints, IDs and coded
values (Format, Region, ...), never for free strings (those may be secrets).

What counts as an integer. Every integer field is an int32 on the wire (Go ``int32``,
spec §2.1, §3), so values outside [-2**31, 2**31 - 1] are rejected even where no
narrower rule exists (Stream.Index, Region codes of unconfirmed tables). Plain integer
fields (MaxIdleTime, Width, Height, Interval, Index) take JSON integers only: no
strings (not even "3"), floats or booleans. Coded fields (Format, StreamType, Type,
Vendor, Region) also take their documented names ("png", "oss-cn-hangzhou") and, as
before, an ASCII decimal string ("3"), a convenience for command lines and URLs that
`to_wire()` always turns into the integer. Digits other than ASCII 0-9 (full-width
"１", Arabic-Indic "٣", superscript "²") are never numbers, and names are ASCII, so
Unicode case folding cannot make one either.

What counts as text. String fields take `str` only (strictly: bytes are not JSON), and
only text UTF-8 can carry (no lone surrogates).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from enum import IntEnum, StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, SecretStr, Strict, ValidationInfo

from rtcsnap.models._paths import is_text
from rtcsnap.models.base import RuleViolation, is_response, shown_int, shown_str


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

    def __str__(self) -> str:
        """The name (``RUNNING``), not the wire integer: what a person printing a task wants to
        read. The wire keeps the integer (`to_wire`, `int(status)`)."""
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec) if not spec or spec[-1] not in "bdoxXn" else format(int(self), spec)


ID_PATTERN = r"[a-zA-Z0-9_@\-\.]{1,128}"
"""The ID rule for AppId/BusinessId/RoomId/TaskId/UserId (spec §4)."""

_ID = re.compile(ID_PATTERN)
_DECIMAL = re.compile(r"[0-9]{1,10}", re.ASCII)  # not \d: that also matches "٣" and "１"

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
"""The range of every integer field of the requests (Go ``int32``)."""

E = TypeVar("E", bound=IntEnum)


def _check_id(value: str, info: ValidationInfo) -> str:
    if not is_response(info) and _ID.fullmatch(value) is None:
        raise RuleViolation(f"must match {ID_PATTERN} (got {shown_str(value)}, {len(value)} chars)")
    return value


def check_non_empty(value: Any, info: ValidationInfo) -> Any:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if is_response(info):
        return value
    if not is_text(text):
        raise RuleViolation("must be valid Unicode text (it contains a lone surrogate)")
    if not text.strip():
        raise RuleViolation("must not be empty")
    return value


def check_int32(value: int, info: ValidationInfo) -> int:
    """The wire type's range; checked before any documented range, which is narrower."""
    if not is_response(info) and not INT32_MIN <= value <= INT32_MAX:
        raise RuleViolation(f"must be an int32, between {INT32_MIN} and {INT32_MAX} (got {shown_int(value)})")
    return value


def between(lo: int, hi: int) -> Callable[[int, ValidationInfo], int]:
    """An after-validator for the documented closed range ``[lo, hi]``."""

    def check(value: int, info: ValidationInfo) -> int:
        if not is_response(info) and not lo <= value <= hi:
            raise RuleViolation(f"must be between {lo} and {hi} (got {shown_int(value)})")
        return value

    return check


def decimal(text: str) -> int | None:
    """The int an ASCII decimal string spells (surrounding ASCII blanks allowed), else None."""
    stripped = text.strip(" \t\r\n")
    return int(stripped) if _DECIMAL.fullmatch(stripped) else None


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
        elif isinstance(value, str) and value.isascii():
            member = names.get(value.strip().lower())
            code = decimal(value) if member is None else None
            if code is not None:
                member = next((m for m in enum if m.value == code), None)
        if is_response(info):
            return value if member is None else member
        if member is None or member not in valid:
            if isinstance(value, bool) or not isinstance(value, int | str):
                got = type(value).__name__
            else:
                got = shown_int(value) if isinstance(value, int) else shown_str(value)
            raise RuleViolation(f"must be {_describe(valid)} (got {got})")
        return member

    return BeforeValidator(convert)


WireInt = Annotated[int, Strict(), AfterValidator(check_int32)]
"""An int as JSON carries it (no strings, floats or booleans), within the wire's int32."""

Id = Annotated[str, Strict(), AfterValidator(_check_id)]
"""A string following the spec §4 ID rule (ASCII only, so always valid text)."""

NonEmptyStr = Annotated[str, Strict(), AfterValidator(check_non_empty)]
"""A required free-form string (AccountId, Bucket, ServiceId): empty is rejected."""

Secret = Annotated[SecretStr, Strict(), AfterValidator(check_non_empty)]
"""A required credential (AccessKey, SecretKey): a string, never echoed, empty rejected."""
