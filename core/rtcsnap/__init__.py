"""rtcsnap: Volcengine RTC cloud snapshots, end to end (models, storage providers, client, CLI)."""

from typing import TYPE_CHECKING

from rtcsnap._lazy import lazy_attributes
from rtcsnap.errors import (
    AccessDeniedError,
    AuthenticationError,
    ChecksumMismatchError,
    ConfigurationError,
    FieldError,
    InvalidRequestError,
    LocalPathError,
    OpenAPIError,
    PluginError,
    ProviderClashError,
    Reason,
    RtcSnapError,
    ServerError,
    StorageError,
    TaskAlreadyExistsError,
    TaskNotFoundError,
    ThrottledError,
    TransportError,
    UnknownProviderError,
    ValidationError,
)
from rtcsnap.hookspecs import hookimpl, hookspec
from rtcsnap.providers.contract import (
    Capabilities,
    Checksum,
    ObjectInfo,
    ObjectStream,
    Page,
    Provider,
    Session,
)
from rtcsnap.retry import RetryPolicy
from rtcsnap.target import Credentials, StorageTarget

# Heavier parts load on first use (PEP 562), so a storage-only or plugin import does not pay for
# httpx and the OpenAPI client (and vice versa).
_LAZY = {
    "AsyncSnapshotClient": "rtcsnap.openapi.client",
    "SnapshotClient": "rtcsnap.openapi.client",
    "CallResult": "rtcsnap.openapi.results",
    "SignedRequest": "rtcsnap.openapi.results",
    "StartResult": "rtcsnap.openapi.results",
    "StopResult": "rtcsnap.openapi.results",
    "TaskResult": "rtcsnap.openapi.results",
    "DownloadReport": "rtcsnap.storage",
    "VerifyReport": "rtcsnap.storage",
    "download": "rtcsnap.storage",
    "iter_objects": "rtcsnap.storage",
    "upload": "rtcsnap.storage",
    "verify": "rtcsnap.storage",
    "resolve": "rtcsnap.storage",
    "TaskLog": "rtcsnap.tasklog",
    "ApiVersion": "rtcsnap.models",
    "GetSnapshotTaskRequest": "rtcsnap.models",
    "StartSnapshotRequest": "rtcsnap.models",
    "StopSnapshotRequest": "rtcsnap.models",
    "StorageConfig": "rtcsnap.models",
    "UpdateSnapshotRequest": "rtcsnap.models",
}

if TYPE_CHECKING:
    from rtcsnap.models import (
        ApiVersion,
        GetSnapshotTaskRequest,
        StartSnapshotRequest,
        StopSnapshotRequest,
        StorageConfig,
        UpdateSnapshotRequest,
    )
    from rtcsnap.openapi.client import AsyncSnapshotClient, SnapshotClient
    from rtcsnap.openapi.results import CallResult, SignedRequest, StartResult, StopResult, TaskResult
    from rtcsnap.storage import (
        DownloadReport,
        VerifyReport,
        download,
        iter_objects,
        upload,
    )
    from rtcsnap.storage.resolve import resolve
    from rtcsnap.storage.verify import verify  # the functions, not their same-named submodules
    from rtcsnap.tasklog import TaskLog


__getattr__ = lazy_attributes(__name__, _LAZY)


__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "ApiVersion",
    "AsyncSnapshotClient",
    "AuthenticationError",
    "CallResult",
    "Capabilities",
    "Checksum",
    "ChecksumMismatchError",
    "ConfigurationError",
    "Credentials",
    "DownloadReport",
    "FieldError",
    "GetSnapshotTaskRequest",
    "InvalidRequestError",
    "LocalPathError",
    "ObjectInfo",
    "ObjectStream",
    "OpenAPIError",
    "Page",
    "PluginError",
    "Provider",
    "ProviderClashError",
    "Reason",
    "RetryPolicy",
    "RtcSnapError",
    "ServerError",
    "Session",
    "SignedRequest",
    "SnapshotClient",
    "StartResult",
    "StartSnapshotRequest",
    "StopResult",
    "StopSnapshotRequest",
    "StorageConfig",
    "StorageError",
    "StorageTarget",
    "TaskAlreadyExistsError",
    "TaskLog",
    "TaskNotFoundError",
    "TaskResult",
    "ThrottledError",
    "TransportError",
    "UnknownProviderError",
    "UpdateSnapshotRequest",
    "ValidationError",
    "VerifyReport",
    "download",
    "hookimpl",
    "hookspec",
    "iter_objects",
    "resolve",
    "upload",
    "verify",
]
