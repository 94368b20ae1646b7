"""One exception hierarchy for everything a user of rtcsnap catches.

Modelled on httpx: a single root (`RtcSnapError`), then a family per layer. No exception
here ever formats a secret: callers pass already-redacted values, and `StorageError`
keeps only the provider's code, status and request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class RtcSnapError(Exception):
    """Root of every error rtcsnap raises on purpose."""


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class FieldError:
    """One broken rule: where (dotted wire path, e.g. ``TargetStreams.StreamList[2].Index``) and which rule."""

    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}" if self.path else self.rule


class ValidationError(RtcSnapError, ValueError):
    """Input broke a documented rule; raised before any request leaves the machine."""

    def __init__(self, errors: Sequence[FieldError] | str, *, path: str = "") -> None:
        if isinstance(errors, str):
            errors = [FieldError(path, errors)]
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors) or "invalid input")

    @property
    def paths(self) -> list[str]:
        return [e.path for e in self.errors]


class ConfigurationError(RtcSnapError, ValueError):
    """A storage target URL, credential source or option is unusable as given."""


class LocalPathError(ConfigurationError):
    """A local destination cannot be used (not creatable, not writable); found before any request."""


# --------------------------------------------------------------------------- plugins


class PluginError(RtcSnapError):
    """A provider plugin failed to load or register, or clashes with another one."""


class ProviderClashError(PluginError):
    """Two providers claim the same name, URL scheme or (Type, Vendor)."""


class UnknownProviderError(PluginError, ConfigurationError):
    """No installed provider serves the requested name or URL scheme."""


# --------------------------------------------------------------------------- storage


class Reason(StrEnum):
    """The closed set a provider maps every SDK failure onto; core decides from it alone."""

    BUCKET_MISSING = "bucket_missing"
    UNKNOWN_ACCESS_KEY = "unknown_access_key"
    BAD_SECRET = "bad_secret"
    PERMISSION_DENIED = "permission_denied"
    WRONG_REGION = "wrong_region"
    NOT_FOUND = "not_found"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    NETWORK = "network"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    PATH_COLLISION = "path_collision"
    UNMAPPABLE_KEY = "unmappable_key"
    UNSAFE_PATH = "unsafe_path"
    LOCAL_IO = "local_io"
    TOO_LARGE = "too_large"
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE

    @property
    def describe(self) -> str:
        return _DESCRIPTIONS[self]


_RETRYABLE = frozenset({Reason.THROTTLED, Reason.TRANSIENT, Reason.NETWORK, Reason.CHECKSUM_MISMATCH})

_DESCRIPTIONS = {
    Reason.BUCKET_MISSING: "the bucket does not exist",
    Reason.UNKNOWN_ACCESS_KEY: "the access key is unknown to the storage service",
    Reason.BAD_SECRET: "the secret key is wrong (signature does not match)",
    Reason.PERMISSION_DENIED: "the key lacks permission for this operation",
    Reason.WRONG_REGION: "wrong region or endpoint for this bucket",
    Reason.NOT_FOUND: "the object does not exist",
    Reason.THROTTLED: "the storage service is throttling requests",
    Reason.TRANSIENT: "a transient server error",
    Reason.NETWORK: "the storage endpoint could not be reached",
    Reason.CHECKSUM_MISMATCH: "the downloaded bytes do not match the provider's checksum",
    Reason.PATH_COLLISION: "another key of the listing maps to the same local path",
    Reason.UNMAPPABLE_KEY: "the key cannot be stored as a local file under its own name",
    Reason.UNSAFE_PATH: "the local path goes through a symbolic link; rtcsnap does not follow links",
    Reason.LOCAL_IO: "writing the local file failed",
    Reason.TOO_LARGE: "the object is larger than the caller accepts in memory",
    Reason.OTHER: "an unclassified storage error",
}


class StorageError(RtcSnapError):
    """A storage operation failed; `reason` is what core logic (retry, verify, exit code) reads."""

    def __init__(
        self,
        reason: Reason,
        message: str = "",
        *,
        provider: str = "",
        operation: str = "",
        code: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.reason = Reason(reason)
        self.message = message or self.reason.describe
        self.provider = provider
        self.operation = operation
        self.code = code
        self.status = status
        self.request_id = request_id
        super().__init__(self._format())

    def _format(self) -> str:
        where = " ".join(p for p in (self.provider, self.operation) if p)
        extras = [
            f"{k}={v}"
            for k, v in (
                ("code", self.code),
                ("status", self.status),
                ("request_id", self.request_id),
            )
            if v not in (None, "")
        ]
        head = f"{where}: " if where else ""
        tail = f" ({', '.join(extras)})" if extras else ""
        return f"{head}{self.reason.value}: {self.message}{tail}"

    @property
    def retryable(self) -> bool:
        return self.reason.retryable


class ChecksumMismatchError(StorageError):
    """The bytes received do not hash to what the provider advertised."""

    def __init__(self, key: str, algorithm: str, expected: str, actual: str, *, provider: str = "") -> None:
        super().__init__(
            Reason.CHECKSUM_MISMATCH,
            f"{key}: {algorithm} expected {expected}, got {actual}",
            provider=provider,
            operation="get",
        )
        self.key = key
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


# --------------------------------------------------------------------------- OpenAPI


class OpenAPIError(RtcSnapError):
    """The snapshot OpenAPI answered with `ResponseMetadata.Error` (whatever the HTTP status), or never answered.

    Carries what support needs — RequestId, Action, Version, Code, CodeN, Message, HTTP status —
    and never a credential.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        code_n: int | None = None,
        request_id: str = "",
        action: str = "",
        version: str = "",
        http_status: int | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.code_n = code_n
        self.request_id = request_id
        self.action = action
        self.version = version
        self.http_status = http_status
        super().__init__(self._format())

    def _format(self) -> str:
        call = f"{self.action} {self.version}".strip()
        head = f"{call}: " if call else ""
        code = f"{self.code}" + (f" ({self.code_n})" if self.code_n else "") if self.code else ""
        tail = [
            f"RequestId={self.request_id}" if self.request_id else "",
            f"HTTP {self.http_status}" if self.http_status else "",
        ]
        extra = ", ".join(t for t in tail if t)
        return f"{head}{code + ': ' if code else ''}{self.message}" + (f" [{extra}]" if extra else "")


class InvalidRequestError(OpenAPIError):
    """The request is wrong (parameters, action, version); retrying cannot help."""


class TaskAlreadyExistsError(InvalidRequestError):
    """StartSnapshot for a TaskId that is already running (2022-06-01 answers this as an error)."""


class TaskNotFoundError(InvalidRequestError):
    """Update/Stop/Get of a task that does not exist or has already stopped."""


class AuthenticationError(OpenAPIError):
    """Missing/unknown access key, bad signature, or a clock too far off (X-Date)."""


class AccessDeniedError(OpenAPIError):
    """Authenticated, but not allowed: IAM policy, feature not enabled in the console, foreign AppId."""


class ThrottledError(OpenAPIError):
    """Over the per-account QPS quota (or a gateway flow limit)."""

    retryable = True


class ServerError(OpenAPIError):
    """The service failed (5xx, InternalError*) or sent something that is not a valid response."""

    retryable = True


class TransportError(OpenAPIError):
    """No response: connection refused/reset, timeout, TLS failure."""

    retryable = True
