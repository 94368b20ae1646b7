"""Kodo's answers as rtcsnap reasons: the qiniu SDK never raises, it returns ``(ret, info)``.

Kodo says what went wrong with the HTTP status (developer.qiniu.com/kodo/3928 error responses,
fusion/kb/1352 status codes) and a short ``error`` text; some statuses mean several things
(401: a wrong signature, an expired token; 612: a missing file, and on uc an unknown access
key), so the text decides within a status. `reason_for` is that one table.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rtcsnap.errors import Reason

_BY_STATUS: dict[int, Reason] = {
    401: Reason.BAD_SECRET,  # "bad token": the signature does not match (the key pair is wrong)
    403: Reason.PERMISSION_DENIED,
    419: Reason.PERMISSION_DENIED,  # the account is frozen
    406: Reason.CHECKSUM_MISMATCH,  # the upload's CRC32 did not match what arrived
    429: Reason.THROTTLED,
    573: Reason.THROTTLED,  # Kodo's "单个资源访问频率过高"
    612: Reason.NOT_FOUND,
    631: Reason.BUCKET_MISSING,
}
_BY_TEXT: tuple[tuple[str, Reason], ...] = (
    ("accesskey is not found", Reason.UNKNOWN_ACCESS_KEY),  # uc: 612; rtcsnap's local server: 401
    ("incorrect region", Reason.WRONG_REGION),  # 400: an up host of another region than the bucket's
    ("token out of date", Reason.OTHER),  # 401, an expired token: the clock, not the key
    ("expired", Reason.OTHER),
    ("too skewed", Reason.OTHER),  # 403: X-Qiniu-Date more than 15 min off
    ("not specified", Reason.OTHER),  # 401 "token not specified": a malformed request, not the key
    ("no such bucket", Reason.BUCKET_MISSING),
)
BUCKET_OPERATIONS = frozenset({"head_bucket", "list"})
"""Where a bare 404 means the bucket is missing (Kodo: "包括空间资源不存在")."""
_TOKEN = re.compile(r"(token=)[^&\s)'\"]+")


def reason_for(status: int, message: str, operation: str) -> Reason:
    """The reason of a Kodo error answer (status >= 300), decided by its text, then its status."""
    text = message.lower()
    for needle, reason in _BY_TEXT:
        if needle in text:
            return reason
    if status == 404:
        return Reason.BUCKET_MISSING if operation in BUCKET_OPERATIONS else Reason.NOT_FOUND
    found = _BY_STATUS.get(status)
    if found is not None:
        return found
    return (
        Reason.TRANSIENT if 500 <= status < 600 else Reason.OTHER
    )  # 6xx are definite answers (612, 614, 640…)


def error_text(body: str | None) -> str:
    """Kodo's ``{"error": "..."}`` text, else the body's first 200 characters."""
    if not body:
        return ""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return body.strip()[:200]


def without_tokens(text: str) -> str:
    """`text` with download tokens masked: a signed URL in an exception opens the object until it expires."""
    return _TOKEN.sub(r"\1…", text)


__all__ = ["BUCKET_OPERATIONS", "error_text", "reason_for", "without_tokens"]
