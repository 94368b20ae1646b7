"""Response envelopes (§5.5) and the GetSnapshotTask result (§6.3).

Responses are parsed tolerantly: unknown keys are ignored, request-side rules are not
enforced (the server has the last word), and echoed secrets may be masked or absent.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field

from rtcsnap.models.base import WireModel
from rtcsnap.models.image import ImageConfig
from rtcsnap.models.storage import StorageConfig
from rtcsnap.models.streams import Streams
from rtcsnap.models.types import TaskStatus


class ResponseModel(WireModel):
    """Base of server responses: tolerant parsing."""

    response_model: ClassVar[bool] = True


class ErrorInfo(ResponseModel):
    """`ResponseMetadata.Error`: `code_n` is set for gateway errors, absent/0 for RTC ones."""

    code_n: int | None = None
    code: str = ""
    message: str = ""


class ResponseMetadata(ResponseModel):
    """Echo of the call; `error` is present exactly when the call failed (check it even on 200)."""

    request_id: str = ""
    action: str = ""
    version: str = ""
    service: str = ""
    region: str = ""
    error: ErrorInfo | None = None


class SnapshotResponse(ResponseModel):
    """Start/Update/StopSnapshot response: `result` is "ok" on success (or the 2023-11-01
    duplicate-start notice), empty on failure."""

    response_metadata: ResponseMetadata
    result: str | None = None

    @property
    def error(self) -> ErrorInfo | None:
        return self.response_metadata.error


class SnapshotTask(ResponseModel):
    """One task as GetSnapshotTask reports it; times are Unix milliseconds, EndTime 0 = running."""

    start_time: int = 0
    end_time: int = 0
    status: TaskStatus = TaskStatus.UNKNOWN_ERROR
    stop_reason: str = ""
    """"", UnknownStopReason, StopByAPI, StartTaskFailed, IdleTimeOut or UserDisconnect."""
    target_streams: Streams | None = None
    image_config: ImageConfig | None = None
    max_idle_time: int | None = None
    storage_config: StorageConfig | None = None


class GetSnapshotTaskResult(ResponseModel):
    """`Result` of GetSnapshotTask; BytePlus docs spell the key ``snapshotTask``."""

    snapshot_task: SnapshotTask | None = Field(
        None,
        alias="SnapshotTask",
        validation_alias=AliasChoices("SnapshotTask", "snapshotTask", "snapshot_task"),
    )


class GetSnapshotTaskResponse(ResponseModel):
    """GetSnapshotTask response envelope."""

    response_metadata: ResponseMetadata
    result: GetSnapshotTaskResult | None = None

    @property
    def error(self) -> ErrorInfo | None:
        return self.response_metadata.error

    @property
    def task(self) -> SnapshotTask | None:
        return self.result.snapshot_task if self.result is not None else None
