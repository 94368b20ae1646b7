"""OBS failures as `StorageError`s: what the SDK *returns* (it never raises on an HTTP error) and
what it lets escape (raw socket errors, ``http.client`` errors, and bare `Exception`s of its own).

A HEAD error has no body, so the SDK's ``errorCode`` is None there; real OBS also sends the code
in an ``x-obs-error-code`` header, which the SDK keeps (renamed ``error-code``) in
``resp.header`` — read from there, a HEAD says ``SignatureDoesNotMatch`` instead of a bare 403.
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.s3family import reason_for

OBS_CODES: Mapping[str | int, Reason] = MappingProxyType(
    {
        "AccessForbidden": Reason.PERMISSION_DENIED,
        "AccountProblem": Reason.PERMISSION_DENIED,
        "FrozenUserId": Reason.PERMISSION_DENIED,
        "DeregisterUserId": Reason.PERMISSION_DENIED,
        "InArrearOrInsufficientBalance": Reason.PERMISSION_DENIED,
        "InvalidLocationConstraint": Reason.WRONG_REGION,
        "RequestTimeTooSkewed": Reason.OTHER,
        "BadDigest": Reason.CHECKSUM_MISMATCH,
        "XAmzContentSHA256Mismatch": Reason.CHECKSUM_MISMATCH,
        307: Reason.WRONG_REGION,
    }
)
"""OBS's own codes (its server-side error table) beyond the S3 family's (`rtcsnap.providers.s3family`);
a 307 is OBS's TemporaryRedirect to the bucket's own endpoint, which the SDK is told not to follow."""
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)
"""What escapes the SDK when no answer came: refused/reset/timed-out sockets, DNS, TLS, a cut body."""
_CUT = "premature end of content-length"
_CRC = "consistency check failed"


def header_value(headers: Any, name: str) -> str | None:
    """`name` in the SDK's renamed response headers (a list of pairs), if there."""
    for k, v in headers or ():
        if str(k).lower() == name:
            return str(v)
    return None


def returned_failure(resp: Any, operation: str, where: str) -> StorageError | None:
    """The `StorageError` a returned SDK response reports (status ≥ 300), or None for a success."""
    status = getattr(resp, "status", None)
    if not isinstance(status, int) or status < 300:
        return None
    headers = getattr(resp, "header", None)
    code = getattr(resp, "errorCode", None) or header_value(headers, "error-code") or None
    message = getattr(resp, "errorMessage", None) or header_value(headers, "error-message") or ""
    reason = reason_for(code, status, operation, message, OBS_CODES)
    detail = f"{code or f'HTTP {status}'}" + (f": {message}" if message else "")
    return StorageError(
        reason,
        f"{where}: {detail}",
        provider="obs",
        operation=operation,
        code=code,
        status=status,
        request_id=getattr(resp, "requestId", None) or header_value(headers, "request-id"),
    )


def raised_failure(exc: BaseException, operation: str, where: str, endpoint: str) -> StorageError:
    """The `StorageError` for an exception that escaped the SDK."""
    text = str(exc) or type(exc).__name__
    lower = text.lower()
    if isinstance(exc, NETWORK_ERRORS):
        reason, text = Reason.NETWORK, f"{type(exc).__name__}: {text} (endpoint {endpoint})"
    elif _CUT in lower:  # the SDK's own end-of-body length check (a bare Exception)
        reason = Reason.TRANSIENT
    elif _CRC in lower:  # the SDK's CRC64 check, should one ever be enabled
        reason = Reason.CHECKSUM_MISMATCH
    else:
        reason, text = Reason.OTHER, f"{type(exc).__name__}: {text}"
    return StorageError(reason, f"{where}: {text}", provider="obs", operation=operation)


__all__ = ["NETWORK_ERRORS", "OBS_CODES", "header_value", "raised_failure", "returned_failure"]
