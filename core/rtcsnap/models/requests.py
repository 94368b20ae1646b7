"""Request bodies of StartSnapshot, UpdateSnapshot, StopSnapshot and GetSnapshotTask (§2, §6).

A request remembers its `api_version` (never sent: Version travels in the query string)
because one rule depends on it: MaxIdleTime's lower bound.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rtcsnap.errors import FieldError, ValidationError
from rtcsnap.models.base import (
    LENIENT_DEFAULT,
    RtcSnapLenientWarning,
    RuleViolation,
    WireModel,
    is_response,
)
from rtcsnap.models.image import ImageConfig
from rtcsnap.models.storage import StorageConfig
from rtcsnap.models.streams import Streams
from rtcsnap.models.types import ApiVersion, Id, WireInt

_VERSION = "api_version"


class RequestModel(WireModel):
    """A request body plus the API version it is meant for."""

    api_version: ApiVersion = Field(ApiVersion.V2022_06_01, alias=_VERSION, exclude=True)

    @classmethod
    def from_wire(
        cls,
        data: Mapping[str, Any],
        *,
        version: ApiVersion | str = ApiVersion.V2022_06_01,
        lenient: bool = False,
    ) -> Self:
        """Parse a wire body sent with `version`; lenient mode mirrors the server's leniency."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"body must be an object (got {type(data).__name__})")
        body = dict(data)
        if _VERSION in body:  # not a wire key: the version comes from the caller
            if not lenient:
                raise ValidationError([FieldError(_VERSION, "unknown field")])
            del body[_VERSION]
            warnings.warn(
                f"{_VERSION}: unknown field; lenient mode: dropped", RtcSnapLenientWarning, stacklevel=2
            )
        body[_VERSION] = version
        return cls.model_validate(body, context={"lenient": lenient})


class _TaskRequest(RequestModel):
    """AppId + RoomId + TaskId identify a task (§1.2); BusinessId is an optional tag."""

    app_id: Id
    business_id: Id | None = None
    room_id: Id
    task_id: Id


MAX_IDLE_TIME_RANGE: dict[ApiVersion, tuple[int, int]] = {
    ApiVersion.V2022_06_01: (1, 86400),
    ApiVersion.V2023_11_01: (
        10,
        86400,
    ),  # newest doc revision; UNCONFIRMED (spec §9 #6, docs/assumptions.md A6)
}


class StartSnapshotRequest(_TaskRequest):
    """StartSnapshot body. `target_streams` also takes a list of `Stream` (or dicts)."""

    target_streams: Streams | None = None
    max_idle_time: Annotated[WireInt, LENIENT_DEFAULT] = 180
    """Seconds all streams may be unpublished before the task stops itself."""
    image_config: ImageConfig | None = None
    storage_config: StorageConfig

    @field_validator("max_idle_time")
    @classmethod
    def _idle_range(cls, value: int, info: ValidationInfo) -> int:
        version = info.data.get("api_version", ApiVersion.V2022_06_01)
        lo, hi = MAX_IDLE_TIME_RANGE[ApiVersion(version)]
        if not is_response(info) and not lo <= value <= hi:
            raise RuleViolation(f"must be between {lo} and {hi} for API version {version} (got {value})")
        return value


class UpdateSnapshotRequest(_TaskRequest):
    """UpdateSnapshot body: only `ImageConfig.Interval` takes effect server-side (§6.1)."""

    image_config: ImageConfig | None = None

    @model_validator(mode="after")
    def _interval_only(self, info: ValidationInfo) -> Self:
        if is_response(info) or self.image_config is None:
            return self
        ignored = [
            FieldError(
                f"ImageConfig.{alias}",
                "has no effect on UpdateSnapshot: only ImageConfig.Interval can be updated",
            )
            for name, alias in (("format", "Format"), ("width", "Width"), ("height", "Height"))
            if name in self.image_config.model_fields_set
        ]
        if ignored:
            raise RuleViolation(ignored, fix="drop")
        return self


class StopSnapshotRequest(_TaskRequest):
    """StopSnapshot body."""


class GetSnapshotTaskRequest(RequestModel):
    """GetSnapshotTask query (GET): for console auto-snapshot tasks TaskId is the UserId."""

    app_id: Id
    room_id: Id
    task_id: Id
