"""What a received callback becomes: one `Event` (any type, kept raw) and, for
`SnapshotRealTimeData`, one `SnapshotRecord` per `Data[]` entry (spec §7.2, §7.4).

Parsing is strict about what the receiver needs (the envelope's string fields, a JSON object
for `EventData` of a snapshot event) and lenient about the rest: unknown event types and unknown
fields are stored as received, because the service may add them and the raw event is the
evidence. Every failure is a `BadEnvelope` naming the field and the rule, answered 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rtcsnap.protocol.callback_signature import EVENT_SNAPSHOT, NONCE_FIELDS

ENVELOPE_FIELDS = ("EventType", "EventData", "EventTime", "EventId", "AppId", "Version")
"""Required string fields of every envelope (the nonce is checked separately: two spellings)."""


class BadEnvelope(ValueError):
    """A callback body that cannot be an RTC callback; the message names the field and rule."""


@dataclass(frozen=True)
class Event:
    """One callback as received: the fields the index queries, plus the raw JSON body."""

    event_id: str
    event_type: str
    app_id: str
    event_time: str
    version: str
    business_id: str | None
    event_data: str
    raw: str
    """The body exactly as received (UTF-8 text): the evidence."""


@dataclass(frozen=True)
class SnapshotRecord:
    """One stored image, as a `SnapshotRealTimeData` callback announced it."""

    event_id: str
    app_id: str
    business_id: str | None
    room_id: str
    task_id: str
    user_id: str
    stream_type: int
    stream_index: int | None
    bucket: str | None
    veimagex_service_id: str | None
    object_key: str | None
    veimagex_uri: str | None
    format: int
    width: int
    height: int
    size: int
    timestamp_ms: int


def parse_body(body: bytes) -> dict[str, Any]:
    """The envelope as a dict of its fields (BadEnvelope unless a JSON object of strict UTF-8)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadEnvelope(f"body: not a UTF-8 JSON document ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise BadEnvelope("body: must be a JSON object")
    return data


def parse_event(fields: Mapping[str, Any], raw: str) -> Event:
    """The envelope's fields checked (each a string; EventTime RFC 3339) into an `Event`."""
    for name in ENVELOPE_FIELDS:
        if not isinstance(fields.get(name), str):
            raise BadEnvelope(f"{name}: required, a string")
    if not fields["EventId"]:
        raise BadEnvelope("EventId: must not be empty")
    if not any(isinstance(fields.get(n), str) for n in NONCE_FIELDS):
        raise BadEnvelope("Nonce: required, a string (or the older spelling Noce)")
    business = fields.get("BusinessId")
    if business is not None and not isinstance(business, str):
        raise BadEnvelope("BusinessId: must be a string when present")
    event_time_of(fields["EventTime"])
    return Event(
        event_id=fields["EventId"],
        event_type=fields["EventType"],
        app_id=fields["AppId"],
        event_time=fields["EventTime"],
        version=fields["Version"],
        business_id=business,
        event_data=fields["EventData"],
        raw=raw,
    )


def event_time_of(text: str) -> datetime:
    """EventTime as an aware datetime: RFC 3339 with `Z` or an offset (`+08:00`), fractions of any
    length (the service sends nanoseconds, which Python's parser does not take)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
        value = f"{head}.{(fraction + '000000')[:6]}{zone}" if fraction else f"{head}{zone}"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise BadEnvelope(f"EventTime: {text!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise BadEnvelope(f"EventTime: {text!r} has no time zone (expected Z or an offset)")
    return when


def _int(item: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> int | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadEnvelope(f"{where}.{name}: required, a non-negative integer")
    return value


def _str(item: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise BadEnvelope(f"{where}.{name}: required, a non-empty string")
    return value


def snapshot_records(event: Event) -> list[SnapshotRecord]:
    """The images a `SnapshotRealTimeData` event announces ([] for any other event type)."""
    if event.event_type != EVENT_SNAPSHOT:
        return []
    try:
        data = json.loads(event.event_data)
    except ValueError:
        raise BadEnvelope("EventData: not a JSON document") from None
    if not isinstance(data, dict):
        raise BadEnvelope("EventData: must be a JSON object")
    items = data.get("Data")
    if not isinstance(items, list) or not items:
        raise BadEnvelope("EventData.Data: required, a non-empty array")
    room = _str(data, "RoomId", "EventData")
    task = _str(data, "TaskId", "EventData")
    bucket = _str(data, "Bucket", "EventData", required=False) or None
    service = _str(data, "VeImageXServiceId", "EventData", required=False) or None
    business = data.get("BusinessId") if isinstance(data.get("BusinessId"), str) else event.business_id
    out = []
    for n, item in enumerate(items):
        where = f"EventData.Data[{n}]"
        if not isinstance(item, dict):
            raise BadEnvelope(f"{where}: must be an object")
        stream = item.get("Stream")
        if not isinstance(stream, dict):
            raise BadEnvelope(f"{where}.Stream: required, an object")
        key = _str(item, "ObjectKey", where, required=False) or None
        uri = _str(item, "VeImageXUri", where, required=False) or None
        if key is None and uri is None:
            raise BadEnvelope(f"{where}: needs ObjectKey or VeImageXUri")
        out.append(
            SnapshotRecord(
                event_id=event.event_id,
                app_id=str(data.get("AppId") or event.app_id),
                business_id=business or None,
                room_id=str(room),
                task_id=str(task),
                user_id=str(_str(stream, "UserId", f"{where}.Stream")),
                stream_type=_int(stream, "StreamType", f"{where}.Stream", required=False) or 0,
                stream_index=_int(stream, "Index", f"{where}.Stream", required=False),
                bucket=bucket,
                veimagex_service_id=service,
                object_key=key,
                veimagex_uri=uri,
                format=_int(item, "Format", where, required=False) or 0,
                width=int(_int(item, "Width", where) or 0),
                height=int(_int(item, "Height", where) or 0),
                size=int(_int(item, "Size", where) or 0),
                timestamp_ms=int(_int(item, "TimeStamp", where) or 0),
            )
        )
    return out


__all__ = [
    "ENVELOPE_FIELDS",
    "BadEnvelope",
    "Event",
    "SnapshotRecord",
    "event_time_of",
    "parse_body",
    "parse_event",
    "snapshot_records",
]
