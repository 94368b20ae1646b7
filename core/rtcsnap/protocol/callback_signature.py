"""RTC's callback envelope and its signature (spec §7.2–§7.4), for the sender and the receiver.

One module for both ends on purpose: the emulator's `CallbackSender` signs with `sign`, the
callback receiver (issue 10) checks with `verify`, and a difference in reading §7.3 (which
strings are sorted, how, the `Noce` spelling) cannot creep in between them. Tests pin it to the
official vector of spec §7.3.

The signature is not an HMAC: the secret is just one more string in the sorted list. That makes
`verify` only as strong as the secret stays secret, so the secret is registered with
`rtcsnap.secrets` wherever it passes through here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import secrets as _secrets
import string
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rtcsnap import secrets

EVENT_SNAPSHOT = "SnapshotRealTimeData"
"""EventType of the one callback per produced image (spec §7.4)."""

SIGNED_FIELDS = ("EventType", "EventData", "EventTime", "EventId", "AppId", "Version", "Nonce")
"""The envelope fields whose values, with the secret, make up the signed string (spec §7.3)."""

NONCE_FIELDS = ("Nonce", "Noce")
"""Current spelling first; older Volcengine docs and BytePlus spell it `Noce` (spec §7.2)."""

NONCE_ALPHABET = string.ascii_letters + string.digits
NONCE_LENGTH = 4

_UINT32 = 2**32 - 1
_UINT64 = 2**64 - 1


def _nonce_of(fields: Mapping[str, Any]) -> Any:
    for name in NONCE_FIELDS:
        if name in fields:
            return fields[name]
    raise ValueError("Nonce: missing (neither Nonce nor the older spelling Noce is present)")


def sign(fields: Mapping[str, str], secret: str) -> str:
    """The §7.3 signature of an envelope: lowercase hex sha256 of the sorted, joined values.

    Only the seven `SIGNED_FIELDS` count (the nonce may be spelled `Noce`); any other key, such
    as `Signature` or `BusinessId`, is ignored. A missing or non-string field is a ValueError.
    """
    secrets.register(secret)
    parts: list[bytes] = []
    for name in SIGNED_FIELDS:
        if name == "Nonce":
            value = _nonce_of(fields)
        elif name in fields:
            value = fields[name]
        else:
            raise ValueError(f"{name}: missing (every one of {', '.join(SIGNED_FIELDS)} is signed)")
        if not isinstance(value, str):
            raise ValueError(f"{name}: must be a string, not {type(value).__name__}")
        parts.append(_utf8(name, value))
    parts.append(_utf8("secret", secret))
    # Sort the UTF-8 bytes, not the Python strings. For ASCII (every documented value) the two
    # orders coincide, and UTF-8 byte order even equals code-point order; sorting bytes states
    # the rule of the reference implementations outright instead of leaning on that: Go's
    # sort.Strings compares bytes. (Java's String.compareTo compares UTF-16 units, which differs
    # from both only when two values first differ at a character above U+FFFF versus one in
    # U+E000–U+FFFF; the spec says byte-wise, so Go's order is the one followed.)
    parts.sort()
    return hashlib.sha256(b"".join(parts)).hexdigest()


def _utf8(name: str, value: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\ud800" escape
        raise ValueError(f"{name}: is not valid Unicode text (it has a lone surrogate)") from None


def verify(fields: Mapping[str, Any], secret: str) -> bool:
    """Whether `fields["Signature"]` is the §7.3 signature of `fields` under `secret`.

    Never raises on what a sender put in the envelope: a missing or non-string field or
    signature is simply False. Hex case does not matter; the comparison is constant time.
    """
    if not isinstance(fields, Mapping) or not isinstance(secret, str):
        return False
    given = fields.get("Signature")
    if not isinstance(given, str) or not given.isascii():
        return False
    try:
        expected = sign(fields, secret)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii"))


def new_nonce(rng: random.Random | None = None) -> str:
    """Four characters of [A-Za-z0-9] (spec §7.2: "4位"; the official example is letters).

    `rng` makes the nonce reproducible in tests; without it the `secrets` module picks.
    """
    if rng is None:
        return "".join(_secrets.choice(NONCE_ALPHABET) for _ in range(NONCE_LENGTH))
    return "".join(rng.choice(NONCE_ALPHABET) for _ in range(NONCE_LENGTH))


def event_time(ts: float) -> str:
    """`ts` (seconds since the epoch) as RFC 3339 UTC with nanoseconds, the form of the §7.2
    example (``2024-01-02T03:04:05.123456789Z``).

    A float near today's epoch carries about 0.2 µs, so the last digits are as exact as the input.
    """
    if not math.isfinite(ts):
        raise ValueError(f"event time: must be a finite number of seconds, not {ts!r}")
    whole = math.floor(ts)
    nanos = round((ts - whole) * 1_000_000_000)  # ts - floor(ts) is exact in binary floating point
    if nanos == 1_000_000_000:
        whole, nanos = whole + 1, 0
    stamp = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def envelope(
    event_type: str,
    event_data: Mapping[str, Any] | str,
    *,
    app_id: str,
    version: str,
    secret: str,
    event_id: str | None = None,
    nonce: str | None = None,
    event_time: str | float | None = None,
    business_id: str | None = None,
) -> dict[str, str]:
    """A signed §7.2 envelope, ready to be POSTed as JSON.

    `event_data` as a mapping becomes the compact JSON string RTC sends (non-ASCII kept as is);
    a string is taken verbatim. Defaults: a fresh uuid4 hex `event_id`, a random `nonce`, and
    the current time; `event_time` may be given formatted or as epoch seconds.
    """
    if isinstance(event_data, str):
        data = event_data
    else:
        data = json.dumps(event_data, separators=(",", ":"), ensure_ascii=False)
    if event_time is None or isinstance(event_time, int | float):
        when = _format_time(time.time() if event_time is None else float(event_time))
    else:
        when = event_time
    fields: dict[str, str] = {
        "EventType": event_type,
        "EventData": data,
        "EventTime": when,
        "EventId": uuid.uuid4().hex if event_id is None else event_id,
        "AppId": app_id,
        "Version": version,
    }
    if business_id is not None:
        fields["BusinessId"] = business_id
    fields["Nonce"] = new_nonce() if nonce is None else nonce
    fields["Signature"] = sign(fields, secret)
    return fields


_format_time = event_time  # `envelope` has a parameter of the same name


@dataclass(frozen=True, kw_only=True)
class ImageRecord:
    """One produced image as a `SnapshotRealTimeData` callback names it (spec §7.4 ImageData).

    Exactly one of `object_key` (TOS / S3-protocol storage) and `veimagex_uri` (veImageX).
    `format` is 0 JPEG, 1 PNG; `stream_type` 0 normal, 1 screen; `timestamp_ms` Unix ms.
    """

    user_id: str
    stream_type: int
    index: int | None = None
    object_key: str | None = None
    veimagex_uri: str | None = None
    format: int
    width: int
    height: int
    size: int
    timestamp_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str):
            raise ValueError("ImageRecord.user_id: must be a string")
        for name, top in (
            ("stream_type", 1),
            ("format", 1),
            ("width", _UINT32),
            ("height", _UINT32),
            ("size", _UINT64),
            ("timestamp_ms", _UINT64),
        ):
            _check_uint(name, getattr(self, name), top)
        if self.index is not None:
            _check_uint("index", self.index, _UINT32)
        if (self.object_key is None) == (self.veimagex_uri is None):
            raise ValueError("ImageRecord: exactly one of object_key and veimagex_uri must be set")
        for name in ("object_key", "veimagex_uri"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"ImageRecord.{name}: must be a string")


def _check_uint(name: str, value: object, top: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
        raise ValueError(f"ImageRecord.{name}: must be an integer in [0, {top}]")


def snapshot_event_data(
    *,
    app_id: str,
    business_id: str | None,
    room_id: str,
    task_id: str,
    bucket: str | None = None,
    veimagex_service_id: str | None = None,
    images: Sequence[ImageRecord],
) -> dict[str, Any]:
    """The `SnapshotRealTimeData` EventData object exactly as spec §7.4 documents it.

    Key order and case follow the doc example, so the JSON string matches it byte for byte.
    `Bucket` goes with `ObjectKey`s, `VeImageXServiceId` with `VeImageXUri`s; BusinessId is
    always present, "" when the task has none (as in the doc example's reading).
    """
    if (bucket is None) == (veimagex_service_id is None):
        raise ValueError("snapshot event: exactly one of bucket and veimagex_service_id must be set")
    data: dict[str, Any] = {
        "AppId": app_id,
        "BusinessId": "" if business_id is None else business_id,
        "RoomId": room_id,
        "TaskId": task_id,
    }
    if bucket is not None:
        data["Bucket"] = bucket
    else:
        data["VeImageXServiceId"] = veimagex_service_id
    items: list[dict[str, Any]] = []
    for i, image in enumerate(images):
        if not isinstance(image, ImageRecord):
            raise ValueError(f"snapshot event: Data[{i}]: must be an ImageRecord")
        if (image.object_key is None) != (bucket is None):
            want = "object_key (with a bucket)" if bucket is not None else "veimagex_uri (with veImageX)"
            raise ValueError(f"snapshot event: Data[{i}]: must carry {want}")
        stream: dict[str, Any] = {"UserId": image.user_id, "StreamType": image.stream_type}
        if image.index is not None:
            stream["Index"] = image.index
        item: dict[str, Any] = {"Stream": stream}
        if image.object_key is not None:
            item["ObjectKey"] = image.object_key
        else:
            item["VeImageXUri"] = image.veimagex_uri
        item.update(
            Format=image.format,
            Width=image.width,
            Height=image.height,
            Size=image.size,
            TimeStamp=image.timestamp_ms,
        )
        items.append(item)
    data["Data"] = items
    return data


__all__ = [
    "EVENT_SNAPSHOT",
    "NONCE_ALPHABET",
    "NONCE_FIELDS",
    "NONCE_LENGTH",
    "SIGNED_FIELDS",
    "ImageRecord",
    "envelope",
    "event_time",
    "new_nonce",
    "sign",
    "snapshot_event_data",
    "verify",
]
