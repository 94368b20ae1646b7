"""Typed wire models of the snapshot OpenAPI (spec §2–§6), pydantic v2.

snake_case in Python, PascalCase on the wire; `from_wire` / `to_wire` convert. Every
documented rule is checked before a request leaves the machine and reported as
`rtcsnap.errors.ValidationError` with wire paths; lenient mode mirrors the server instead
(for API version 2022-06-01 resetting invalid values to defaults; 2023-11-01 resets nothing).
Any input, however hostile, fails as that one exception with a path and a rule: see
`rtcsnap.models.base` for the size and depth limits, `rtcsnap.models.types` for what counts
as an integer and as text.
"""

from rtcsnap.models.base import (
    MAX_BODY_BYTES,
    MAX_NESTING_DEPTH,
    MAX_VALUES,
    SECRET_MASK,
    RtcSnapLenientWarning,
    WireModel,
    lenient_validation,
)
from rtcsnap.models.image import ImageConfig
from rtcsnap.models.requests import (
    GetSnapshotTaskRequest,
    RequestModel,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.models.responses import (
    ErrorInfo,
    GetSnapshotTaskResponse,
    GetSnapshotTaskResult,
    ResponseMetadata,
    SnapshotResponse,
    SnapshotTask,
)
from rtcsnap.models.storage import CustomConfig, StorageConfig, TosConfig, VeImageXConfig
from rtcsnap.models.streams import MAX_STREAMS, Stream, Streams
from rtcsnap.models.types import (
    ID_PATTERN,
    ApiVersion,
    ImageFormat,
    StorageType,
    StreamType,
    TaskStatus,
    Vendor,
)

__all__ = [
    "ID_PATTERN",
    "MAX_BODY_BYTES",
    "MAX_NESTING_DEPTH",
    "MAX_STREAMS",
    "MAX_VALUES",
    "SECRET_MASK",
    "ApiVersion",
    "CustomConfig",
    "ErrorInfo",
    "GetSnapshotTaskRequest",
    "GetSnapshotTaskResponse",
    "GetSnapshotTaskResult",
    "ImageConfig",
    "ImageFormat",
    "RequestModel",
    "ResponseMetadata",
    "RtcSnapLenientWarning",
    "SnapshotResponse",
    "SnapshotTask",
    "StartSnapshotRequest",
    "StopSnapshotRequest",
    "StorageConfig",
    "StorageType",
    "Stream",
    "StreamType",
    "Streams",
    "TaskStatus",
    "TosConfig",
    "UpdateSnapshotRequest",
    "VeImageXConfig",
    "Vendor",
    "WireModel",
    "lenient_validation",
]
