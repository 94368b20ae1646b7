"""Every error code of spec §5.6, with CodeN, HTTP status and the exception family.

Shared by the client (classify an answer) and the emulator (produce one). The HTTP statuses of RTC
business codes and the gateway FlowLimitExceeded CodeN are UNCONFIRMED (spec §9 #9, #10): they are
guessed here, in this one table (docs/assumptions.md A9, A10). So are the two front-door codes the
spec does not list at all, `RequestEntityTooLarge` (413) and `RequestTimeout` (408), which the
emulator answers for oversized and too-slow request bodies (A19).
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcsnap import errors as e


@dataclass(frozen=True)
class ErrorCode:
    code: str
    code_n: int | None
    http_status: int
    family: type[e.OpenAPIError]
    meaning: str
    confirmed: bool = True


def _gw(
    code: str, n: int, status: int, family: type[e.OpenAPIError], meaning: str, confirmed: bool = True
) -> ErrorCode:
    return ErrorCode(code, n, status, family, meaning, confirmed)


def _door(code: str, status: int, family: type[e.OpenAPIError], meaning: str) -> ErrorCode:
    """Front-door rejections (UNCONFIRMED, A19): answered before the gateway looks further, no CodeN."""
    return ErrorCode(code, None, status, family, meaning, confirmed=False)


def _rtc(code: str, meaning: str) -> ErrorCode:
    """Business codes: CodeN absent; status by prefix (UNCONFIRMED)."""
    return ErrorCode(code, None, status_for(code), family_for(code), meaning, confirmed=False)


def family_for(code: str) -> type[e.OpenAPIError]:
    """The exception family of any code, known or new, by its prefix."""
    if code == "InvalidParameter.TaskAlreadyExists":
        return e.TaskAlreadyExistsError
    if code == "InvalidParameter.ErrorActiveTaskNotFound":
        return e.TaskNotFoundError
    if code in GATEWAY:
        return GATEWAY[code].family
    head = code.split(".", 1)[0]
    return {
        "InvalidParameter": e.InvalidRequestError,
        "MissingParameter": e.InvalidRequestError,
        "AccessDenied": e.AccessDeniedError,
        "FlowLimitExceeded": e.ThrottledError,
        "InternalError": e.ServerError,
    }.get(head, e.OpenAPIError)


def status_for(code: str) -> int:
    head = code.split(".", 1)[0]
    return {"AccessDenied": 403, "FlowLimitExceeded": 429, "InternalError": 500}.get(head, 400)


GATEWAY: dict[str, ErrorCode] = {
    c.code: c
    for c in (
        _gw("MissingParameter", 100002, 400, e.InvalidRequestError, "Action or Version missing"),
        _gw("MissingAuthenticationToken", 100003, 401, e.AuthenticationError, "no Authorization"),
        _gw("MissingRequestInfo", 100004, 400, e.AuthenticationError, "request info missing, e.g. X-Date"),
        _gw("MissingSignature", 100005, 401, e.AuthenticationError, "no signature in Authorization"),
        _gw("InvalidTimestamp", 100006, 400, e.AuthenticationError, "X-Date expired or in the future"),
        _gw(
            "ServiceNotFound",
            100007,
            404,
            e.InvalidRequestError,
            "service in the credential scope is not rtc",
        ),
        _gw("InvalidActionOrVersion", 100008, 404, e.InvalidRequestError, "no such Action for that Version"),
        _gw("InvalidAccessKey", 100009, 401, e.AuthenticationError, "unknown access key"),
        _gw("SignatureDoesNotMatch", 100010, 401, e.AuthenticationError, "signature does not match"),
        _gw("LackPolicy", 100012, 403, e.AccessDeniedError, "the key has no policy for rtc"),
        _gw("AccessDenied", 100013, 403, e.AccessDeniedError, "sub-user lacks the IAM permission"),
        _gw("InternalError", 100014, 500, e.ServerError, "gateway internal error"),
        _gw("InternalServiceTimeout", 100016, 504, e.ServerError, "backend timed out"),
        _gw("FlowLimitExceeded", 100018, 429, e.ThrottledError, "gateway flow limit", confirmed=False),
        _door("RequestEntityTooLarge", 413, e.InvalidRequestError, "request body over the size limit"),
        _door("RequestTimeout", 408, e.TransportError, "request body not received in time"),
    )
}

BUSINESS: dict[str, ErrorCode] = {
    c.code: c
    for c in (
        _rtc("InvalidParameter.TaskAlreadyExists", "task already exists"),
        _rtc("InvalidParameter.ErrorActiveTaskNotFound", "task does not exist or already stopped"),
        _rtc("InvalidParameter.IllegalRoomID", "RoomId invalid"),
        _rtc("InvalidParameter.BodyIsEmpty", "empty body"),
        _rtc("InvalidParameter.Unmarshal", "body parse failed"),
        _rtc("InvalidParameter.EmptyAccountId", "AccountId empty"),
        _rtc("InvalidParameter.NotExistAppId", "AppId unknown"),
        _rtc("InvalidParameter.IllegalAppId", "AppId invalid"),
        _rtc("InvalidParameter.AccountIdMismatch", "Check owner failed"),
        _rtc("InvalidParameter", "generic parameter error"),
        _rtc("InvalidParameter.StartTimeAfterEndTime", "start time after end time (other APIs)"),
        _rtc("InvalidParameter.OutofTimeRange", "out of time range (other APIs)"),
        _rtc("InvalidParameter.InvalidRtmpAddress", "invalid RTMP address (other APIs)"),
        _rtc("InvalidParameter.IllegalTo", "illegal To (other APIs)"),
        _rtc("InvalidParameter.IllegalFrom", "illegal From (other APIs)"),
        _rtc("InvalidParameter.SizeOverLimit", "size over limit (other APIs)"),
        _rtc("InvalidParameter.UserCountOverLimit", "user count over limit (other APIs)"),
        _rtc("FlowLimitExceeded.TaskNumberOverLimit", "task count limit"),
        _rtc("FlowLimitExceeded.QPSOverLimit", "QPS exceeded (150 Start/Update/Stop, 60 Get)"),
        _rtc("AccessDenied.RecordNotEnabled", "feature not enabled in the console"),
        _rtc("AccessDenied.ServiceNotEnabled", "service not enabled in the console"),
        _rtc("AccessDenied.NoPermissionForApp", "account has no permission on AppId"),
        _rtc("InternalError.GenerateTokenFailed", "internal: token generation failed"),
    )
}

ALL: dict[str, ErrorCode] = {**GATEWAY, **BUSINESS}

# Codes a retry may fix. TaskNumberOverLimit is a quota, not a rate: retrying soon will not help.
# RequestTimeout: the body was too slow on the way in, a network condition a retry may not meet.
RETRYABLE = frozenset(
    {
        "FlowLimitExceeded",
        "FlowLimitExceeded.QPSOverLimit",
        "InternalError",
        "InternalServiceTimeout",
        "RequestTimeout",
    }
) | {c for c in BUSINESS if c.startswith("InternalError.")}


def lookup(code: str) -> ErrorCode:
    """The table row, or one derived from the prefix for a code the table does not know."""
    return ALL.get(code) or ErrorCode(code, None, status_for(code), family_for(code), "", confirmed=False)


__all__ = ["ALL", "BUSINESS", "GATEWAY", "RETRYABLE", "ErrorCode", "family_for", "lookup", "status_for"]
