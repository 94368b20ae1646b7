"""COS SDK failures as `StorageError`s.

The SDK raises `CosServiceError` for every 4xx/5xx and `CosClientError` for everything else —
a connection refused and a locally refused key alike, so the cause (``__context__``, set by the
SDK's ``raise CosClientError(str(e))`` inside its ``except``) decides which. The service
error's fields come in three shapes (``qcloud_cos/cos_client.py`` 494-530): the parsed XML body;
an ``x-cos-error-code`` header, with the *whole body* as the message; or, for a HEAD 404, the
SDK's own ``NoSuchResource``; a HEAD error without the header leaves only the status and the
response headers (the SDK then says "Unknown" for a request id that is right there), so the
fields are read defensively here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import requests
import urllib3.exceptions
from qcloud_cos.cos_exception import CosClientError, CosServiceError
from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.s3family import reason_for

COS_CODES: Mapping[str | int, Reason] = {
    "AccessForbidden": Reason.PERMISSION_DENIED,  # a CORS or referer rule (the 403 page)
    "InvalidObjectState": Reason.OTHER,  # archived: restore it first (a 403, but no key lacks anything)
    "RequestTimeTooSkewed": Reason.OTHER,  # the local clock, not the key
    "UserNetworkTooSlow": Reason.TRANSIENT,
}
"""COS's own codes beyond the S3 family's (`rtcsnap.providers.s3family`)."""
SDK_HEAD_404 = "NoSuchResource"
"""What the SDK reports for any HEAD 404 (cos_client.py:494), bucket or object alike."""
NETWORK_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
_MESSAGE_CHARS = 300


class Redirected(Exception):
    """A 3xx answer. The SDK counts any status below 400 as success (a listing would parse a
    redirect's body as an empty page), so the session's response hook raises this instead."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(
            f"HTTP {status} redirect to {location or 'nowhere'}: not a COS answer for this bucket"
        )
        self.status, self.location = status, location


def refuse_redirects(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A requests response hook: a 3xx is an error (`Redirected`), never a result."""
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        response.close()
        raise Redirected(response.status_code, location)


def service_fields(exc: CosServiceError) -> tuple[str | None, str, str | None]:
    """(code, message, request id) of a service error, whatever shape the SDK left them in."""
    digest = exc.get_digest_msg()
    code = message = rid = None
    if isinstance(digest, Mapping):
        code, message = digest.get("code"), digest.get("message")
        rid = digest.get("requestid") or digest.get("x-cos-request-id")
    text = str(message or exc.get_origin_msg() or "")
    if text.lstrip().startswith("<"):  # the XML body itself (the x-cos-error-code shape)
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            pass
        else:
            code = code or root.findtext("Code")
            rid = rid or root.findtext("RequestId")
            text = root.findtext("Message") or ""
    code = None if code in (None, "", "Unknown") else str(code)
    return code, text[:_MESSAGE_CHARS], None if rid in (None, "", "Unknown") else str(rid)


def translate(exc: BaseException, operation: str, where: str, endpoint: str, region: str) -> StorageError:
    """The `StorageError` for what the SDK raised; `where` is ``cos://bucket/key``."""
    code = request_id = None
    status: int | None = None
    if isinstance(exc, CosServiceError):
        status = exc.get_status_code()
        code, text, request_id = service_fields(exc)
        # the SDK's own code for every HEAD 404: a bare 404, whose meaning the operation decides
        said = None if code == SDK_HEAD_404 else code
        reason = reason_for(said, status, operation, text, COS_CODES)
        if reason == Reason.BUCKET_MISSING:
            text = (
                f"{text or reason.describe} in region {region} (a COS bucket answers only in its own region)"
            )
    elif isinstance(exc, CosClientError) and isinstance(exc.__context__, Redirected):
        reason, text = Reason.WRONG_REGION, f"{exc.__context__} (endpoint {endpoint})"
    elif isinstance(exc, CosClientError) and not isinstance(exc.__context__, NETWORK_ERRORS):
        reason, text = Reason.OTHER, str(exc)  # refused by the SDK itself, e.g. an invalid key
    elif isinstance(exc, (CosClientError, *NETWORK_ERRORS)):
        reason, text = Reason.NETWORK, f"{exc} (endpoint {endpoint})"
    else:
        reason, text = Reason.OTHER, type(exc).__name__
    return StorageError(
        reason,
        f"{where}: {text or reason.describe}",
        provider="cos",
        operation=operation,
        code=code,
        status=status,
        request_id=request_id,
    )


__all__ = ["COS_CODES", "NETWORK_ERRORS", "Redirected", "refuse_redirects", "service_fields", "translate"]
