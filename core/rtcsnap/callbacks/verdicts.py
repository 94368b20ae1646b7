"""A verdict: what one analysis plugin concluded about one image, as the index stores and returns it.

Why core has this at all: moderation today, thumbnails or face detection tomorrow each judge images
on arrival (`rtcsnap_snapshot_received`), and their answers must be queryable the same way
(``rtcsnap snapshots list --flagged --label L``) without core knowing any of them. So core fixes
the envelope — who said it (`source`), how the analysis went (`status`), whether the image needs a
human (`flagged`), which rules fired, which labels apply, why in one line a human reads
(`reason`: what the rule saw, e.g. the OCR text that matched) — and keeps the plugin's own document
(`details`) as opaque JSON. This module only checks and encodes that envelope (no SQL, no
SQLAlchemy: `SnapshotIndex.record_verdict` stores it, `SnapshotIndex.verdicts` reads it back).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rtcsnap import secrets
from rtcsnap.errors import ValidationError

VERDICT_STATUSES = ("ok", "partial", "error")
"""`ok`: the analysis ran; `partial`: some of it failed (the rest was judged); `error`: nothing ran."""
MAX_NAME = 255
"""Longest source, rule name or label (the columns are VARCHAR(255))."""
MAX_ERROR = 1000
MAX_REASON = 1000
VERDICT_KEYS = ("source", "status", "flagged", "fired", "labels", "reason", "details", "error")
"""The keys of a verdict as `rtcsnap snapshots list --json` prints it (docs/json-output.md)."""


@dataclass(frozen=True)
class VerdictInput:
    """A verdict checked and encoded for its row: `fired` and `details` as JSON text, `labels`
    deduplicated and sorted, `error` and `reason` one redacted line each."""

    source: str
    status: str
    flagged: bool
    fired: str
    details: str
    labels: tuple[str, ...]
    error: str | None
    reason: str | None = None


def _name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_NAME:
        raise ValidationError(f"must be a non-empty string of at most {MAX_NAME} characters", path=path)
    return value


def _names(values: Iterable[str], path: str) -> list[str]:
    if isinstance(values, str | bytes):  # a str is iterable: "abc" would become three names
        raise ValidationError("must be a list of strings, not one string", path=path)
    return [_name(v, f"{path}[{n}]") for n, v in enumerate(values)]


def _line(value: object, path: str, limit: int) -> str | None:
    """`value` as one redacted line of at most `limit` characters (None, or blank: None)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("must be a string or None", path=path)
    return secrets.redact(" ".join(value.split()))[:limit] or None


def _details(details: Mapping[str, Any] | str) -> str:
    """`details` as JSON text of an object; a str must already be one (e.g. pydantic's
    ``model_dump_json()``), and is stored as given."""
    if isinstance(details, str):
        try:
            parsed = json.loads(details)
        except ValueError:
            raise ValidationError("must be a JSON object (text), or a mapping", path="details") from None
        if not isinstance(parsed, dict):
            raise ValidationError("must be a JSON object (text), or a mapping", path="details")
        return details
    if not isinstance(details, Mapping):
        raise ValidationError("must be a mapping, or the JSON text of an object", path="details")
    try:
        return json.dumps(dict(details), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"not JSON-serialisable ({exc})", path="details") from None


def verdict_input(
    source: str,
    *,
    status: str,
    flagged: bool,
    fired: Sequence[str],
    labels: Iterable[str],
    details: Mapping[str, Any] | str,
    error: str | None,
    reason: str | None = None,
) -> VerdictInput:
    """Check a plugin's verdict (every problem a `ValidationError` naming the argument). `error`
    and `reason` become one redacted line each (at most `MAX_ERROR` / `MAX_REASON` characters)."""
    if status not in VERDICT_STATUSES:
        raise ValidationError(f"must be one of {', '.join(VERDICT_STATUSES)}", path="status")
    if not isinstance(flagged, bool):
        raise ValidationError("must be a bool", path="flagged")
    return VerdictInput(
        source=_name(source, "source"),
        status=status,
        flagged=flagged,
        fired=json.dumps(_names(fired, "fired"), ensure_ascii=False),
        details=_details(details),
        labels=tuple(sorted(set(_names(labels, "labels")))),
        error=_line(error, "error", MAX_ERROR),
        reason=_line(reason, "reason", MAX_REASON),
    )


def verdict_output(row: Mapping[str, Any], labels: Sequence[str]) -> dict[str, Any]:
    """A stored verdict row (and its labels) as the dict the index returns: snapshot_id, the
    `VERDICT_KEYS` (`fired` a list, `details` an object, `labels` sorted) and created_at."""
    return {
        "snapshot_id": int(row["snapshot_id"]),
        "source": row["source"],
        "status": row["status"],
        "flagged": bool(row["flagged"]),
        "fired": json.loads(row["fired"]),
        "labels": sorted(labels),
        "reason": row.get("reason"),
        "details": json.loads(row["details"]),
        "error": row["error"],
        "created_at": row["created_at"],
    }


__all__ = [
    "MAX_NAME",
    "MAX_REASON",
    "VERDICT_KEYS",
    "VERDICT_STATUSES",
    "VerdictInput",
    "verdict_input",
    "verdict_output",
]
