"""The error vocabulary the S3 family shares: Amazon S3, and the S3-style APIs of OSS, OBS, COS
and TOS all answer `NoSuchBucket`, `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `AccessDenied`…

One table and one rule here, so every such provider maps a (code, HTTP status) pair the same
way and adds only its vendor's own codes (`extra`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rtcsnap.errors import Reason

_BY_REASON: Mapping[Reason, tuple[str | int, ...]] = {
    Reason.BUCKET_MISSING: ("NoSuchBucket",),
    Reason.NOT_FOUND: ("NoSuchKey",),  # not NoSuchResource: COS's SDK says it for every HEAD 404 (bucket too)
    Reason.UNKNOWN_ACCESS_KEY: ("InvalidAccessKeyId", "InvalidToken", "ExpiredToken"),
    Reason.BAD_SECRET: ("SignatureDoesNotMatch",),
    Reason.PERMISSION_DENIED: ("AccessDenied", "AllAccessDisabled", 403),
    Reason.WRONG_REGION: (
        "PermanentRedirect",
        "TemporaryRedirect",
        "IllegalLocationConstraintException",
        301,
        307,  # a redirect to the bucket's region endpoint (S3, OBS)
    ),
    Reason.THROTTLED: ("SlowDown", "Throttling", "ThrottlingException", "TooManyRequests", 429),
    Reason.TRANSIENT: ("InternalError", "ServiceUnavailable", "RequestTimeout", 500, 502, 503, 504),
}
CODES: Mapping[str | int, Reason] = MappingProxyType({c: r for r, cs in _BY_REASON.items() for c in cs})
"""Error code (or, where the code says nothing, the HTTP status) -> reason."""

BUCKET_OPERATIONS = frozenset({"head_bucket", "list"})
"""Operations whose bare 404 means the bucket, not an object, is missing."""


def reason_for(
    code: str | None,
    status: int | None,
    operation: str,
    message: str = "",
    extra: Mapping[str | int, Reason] = MappingProxyType({}),
) -> Reason:
    """The reason for an S3-style error. A code decides when there is one (`extra` first); a HEAD
    error has no body, so a bare 404 means bucket or object by `operation`; a bare 403 stays
    `permission_denied`, and `verify`'s next (coded) probe names the real cause."""
    if code == "AuthorizationHeaderMalformed" and "region" in message.lower():
        return Reason.WRONG_REGION
    if code:
        found = extra.get(code) or CODES.get(code)
        if found is not None:
            return found
    if status == 404 and code in (None, "", "404", "NotFound", "NoSuchResource"):
        return Reason.BUCKET_MISSING if operation in BUCKET_OPERATIONS else Reason.NOT_FOUND
    if status is not None:
        return extra.get(status) or CODES.get(status, Reason.OTHER)
    return Reason.OTHER


__all__ = ["BUCKET_OPERATIONS", "CODES", "reason_for"]
