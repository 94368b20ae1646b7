"""The timestamp shapes SDKs hand back, parsed once for every provider.

A listing parses one timestamp per object, so the common path is a single C call
(`datetime.fromisoformat` reads ``Z`` and offsets since Python 3.11); anything unreadable is
``None`` — a missing modification time, never a failed listing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def iso_date(value: Any) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp (``2026-12-01T10:00:00Z``, ``…+08:00``); naive ones are UTC."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def http_date(value: Any) -> datetime | None:
    """An RFC 7231 HTTP date (``Tue, 01 Dec 2026 10:00:00 GMT``), as in ``Last-Modified``."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None


def epoch_date(value: Any, per_second: int = 1) -> datetime | None:
    """A count of `per_second` units since the Unix epoch (Kodo's ``putTime`` is in 100 ns)."""
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(int(value) / per_second, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


__all__ = ["epoch_date", "http_date", "iso_date"]
