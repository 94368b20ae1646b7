"""Every oss2 failure as a `StorageError`, in one function.

oss2 raises one family (`oss2.exceptions.OssError`), told apart by ``status``: an HTTP status for a
service answer (`ServerError`: ``code``, ``message``, ``request_id``, ``details``; a HEAD's code
comes from the base64 XML in ``x-oss-err``), ``-2`` for the network (`RequestError`), ``-1`` for a
local validation (`ClientError`), ``-3`` for the SDK's own CRC check (`InconsistentError`). A body
cut mid-download surfaces from requests/urllib3 instead, as `requests.RequestException` or
`OSError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import requests
from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.s3family import reason_for

from rtcsnap_oss.sdk import exceptions as oe

SDK_ERRORS: tuple[type[BaseException], ...] = (oe.OssError, requests.RequestException, OSError)
"""What a `Session.sdk()` block of this provider translates."""

OSS_CODES: Mapping[str | int, Reason] = MappingProxyType(
    {
        "InvalidSecurityToken": Reason.UNKNOWN_ACCESS_KEY,
        "SecurityTokenExpired": Reason.UNKNOWN_ACCESS_KEY,
        "AccessKeyIdAndSecurityTokenNotMatch": Reason.UNKNOWN_ACCESS_KEY,
        "PublicEndpointForbidden": Reason.WRONG_REGION,
        "NonStandardHostForbidden": Reason.WRONG_REGION,
        "InDebt": Reason.PERMISSION_DENIED,
        "InDebtOverdue": Reason.PERMISSION_DENIED,
        "UserDisable": Reason.PERMISSION_DENIED,
        "BucketDisable": Reason.PERMISSION_DENIED,
        "RequestTimeTooSkewed": Reason.OTHER,
    }
)
"""OSS's own codes beyond the S3 family's (Aliyun's HTTP 400/403 error pages)."""
WRONG_ENDPOINT_TEXT = "must be addressed using the specified endpoint"
"""How OSS says "another region's endpoint" (403, code AccessDenied or PermanentRedirect)."""
_HINTS: Mapping[str, str] = MappingProxyType(
    {
        "PublicEndpointForbidden": "this account may not use the public endpoint; bind a custom domain "
        "to the bucket and use it as ?endpoint=…&addressing=cname",
    }
)


def translate(exc: BaseException, operation: str, where: str, endpoint: str) -> StorageError:
    """`exc` (from oss2, requests or a socket) as a StorageError for `operation` on `where`
    (``oss://bucket/key``); a network error names the `endpoint` it tried."""
    code: str | None = None
    status: int | None = None
    request_id: str | None = None
    if isinstance(exc, oe.ServerError) or (isinstance(exc, oe.OssError) and exc.status >= 0):
        code, status, request_id = exc.code or None, exc.status, exc.request_id or None
        text = exc.message or ""
        reason = _reason(code, status, operation, text)
        if reason == Reason.WRONG_REGION:
            right = (exc.details or {}).get("Endpoint")
            text += f" (the bucket's endpoint: {right})" if right else ""
        if code is not None and code in _HINTS:
            text = f"{text}: {_HINTS[code]}"
    elif isinstance(exc, oe.InconsistentError):
        reason, text = Reason.CHECKSUM_MISMATCH, "the SDK's CRC64 check failed"
    elif isinstance(exc, oe.RequestError | requests.RequestException | OSError):
        cause = getattr(exc, "exception", exc)
        reason, text = Reason.NETWORK, f"{type(cause).__name__}: {cause} (endpoint {endpoint})"
    elif isinstance(exc, oe.ClientError):
        reason, text = Reason.OTHER, str(exc.body)
    else:
        reason, text = Reason.OTHER, type(exc).__name__
    return StorageError(
        reason,
        f"{where}: {text or reason.describe}",
        provider="oss",
        operation=operation,
        code=code,
        status=status,
        request_id=request_id,
    )


def _reason(code: str | None, status: int | None, operation: str, message: str) -> Reason:
    if status == 403 and code in ("AccessDenied", "PermanentRedirect") and WRONG_ENDPOINT_TEXT in message:
        return Reason.WRONG_REGION
    return reason_for(code, status, operation, message, OSS_CODES)


__all__ = ["OSS_CODES", "SDK_ERRORS", "WRONG_ENDPOINT_TEXT", "translate"]
