"""What an answer (or a failure to get one) means: a `CallResult`, or a typed `OpenAPIError`.

What the official example class gets wrong and this does not (anchors §4.1): an answer carrying
`ResponseMetadata.Error` is a failure whatever its HTTP status, and failures are typed by code
family (`protocol/codes.py`, the table the emulator answers from too). An answer nothing can be
read from (a proxy's HTML 429, a bare 502) is classified by its status alone. A retryable 429/503
carries its `Retry-After` on the exception (`rtcsnap.retry.set_retry_after`) as the minimum wait
before the next attempt.

Pure functions of what came back (status, headers, body, or the transport exception): no I/O and
no client state, so both clients share them and tests can call them directly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from rtcsnap import errors as e
from rtcsnap import secrets
from rtcsnap.openapi.results import CallResult
from rtcsnap.protocol import codes
from rtcsnap.retry import set_retry_after

RETRY_AFTER_STATUSES = frozenset({429, 503})
"""The statuses whose `Retry-After` is honoured (on a retryable error only)."""
_DELTA_SECONDS = re.compile(r"\d{1,10}(?:\.\d{1,6})?")


def family_by_status(status: int) -> type[e.OpenAPIError]:
    """What an answer means when nothing in it can be read (a proxy's HTML 429, a bare 502).

    429 is throttling and 5xx a server failure, both worth a retry; any other 4xx is a refusal
    a retry will not change; a 1xx-3xx without a readable envelope is a broken server.
    """
    if status == 429:
        return e.ThrottledError
    if 400 <= status < 500:
        return e.OpenAPIError
    return e.ServerError


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delta-seconds or an HTTP-date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110: an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_from(meta: Mapping[str, Any], action: str, version: str, status: int) -> e.OpenAPIError:
    """The typed error of a readable envelope: its code's family, else (no code, or one of an
    unknown family) the status's; retryable as the catalogue says for a known code."""
    err = meta.get("Error") or {}
    if not isinstance(err, Mapping):
        err = {}
    code = str(err.get("Code") or "")
    family = codes.family_for(code) if code else e.OpenAPIError
    by_code = family is not e.OpenAPIError
    if not by_code and status >= 400:  # no code, or one of an unknown family: the status decides
        family = family_by_status(status)
    code_n = err.get("CodeN")
    exc = family(
        str(err.get("Message") or f"HTTP {status}"),
        code=code,
        code_n=code_n if isinstance(code_n, int) and code_n else None,
        request_id=str(meta.get("RequestId") or ""),
        action=action,
        version=version,
        http_status=status,
    )
    if code and by_code:
        exc.retryable = code in codes.RETRYABLE
    return exc


def parse_answer(status: int, content: bytes, *, action: str, version: str, attempts: int) -> CallResult:
    """The result of a successful answer; raises the typed `OpenAPIError` of any other."""
    try:
        doc = json.loads(content)
        meta = doc["ResponseMetadata"] if isinstance(doc, dict) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        raise family_by_status(status)(
            f"not an OpenAPI response ({len(content)} bytes)",
            action=action,
            version=version,
            http_status=status,
        )
    if meta.get("Error") or status >= 400:
        raise error_from(meta, action, version, status)
    return CallResult(str(meta.get("RequestId") or ""), action, version, attempts, doc.get("Result"))


def classify_answer(
    status: int, headers: Mapping[str, str], content: bytes, *, action: str, version: str, attempts: int
) -> CallResult:
    """`parse_answer`, plus the `Retry-After` of a retryable 429/503 attached to its error."""
    try:
        return parse_answer(status, content, action=action, version=version, attempts=attempts)
    except e.OpenAPIError as exc:
        if status in RETRY_AFTER_STATUSES and exc.retryable:
            set_retry_after(exc, parse_retry_after(headers.get("retry-after")))
        raise


def transport_error(
    exc: BaseException, *, action: str, version: str, endpoint: str, deadline: str | None
) -> e.TransportError:
    """No answer at all: `deadline` names the attempt's deadline when that is what ran out (its
    message says so), else the httpx failure is described, secrets redacted."""
    if deadline is not None:
        return e.TransportError(
            f"request timed out: no complete response within {deadline}", action=action, version=version
        )
    what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    detail = " ".join(str(exc).split())
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return e.TransportError(
        f"request to {endpoint} {what}: {secrets.redact(reason)}", action=action, version=version
    )


__all__ = [
    "RETRY_AFTER_STATUSES",
    "classify_answer",
    "error_from",
    "family_by_status",
    "parse_answer",
    "parse_retry_after",
    "transport_error",
]
