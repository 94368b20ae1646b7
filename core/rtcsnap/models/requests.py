"""Request bodies of StartSnapshot, UpdateSnapshot, StopSnapshot and GetSnapshotTask (§2, §6).

A request remembers its `api_version` (never sent: Version travels in the query string)
because two things depend on it: MaxIdleTime's lower bound, and lenient mode. 2022-06-01
resets an invalid optional value to its default ("值不合法时，自动调整为默认值"); 2023-11-01
removed that logic (spec §9 #7, VRTC 116363), so for it lenient mode rejects what it
would have reset, exactly as strict mode does. Lenient mode still drops unknown keys and
UpdateSnapshot's no-effect ImageConfig fields for both versions: the server ignores
those, it does not reset them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

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

RESETS_INVALID_VALUES: dict[ApiVersion, bool] = {
    ApiVersion.V2022_06_01: True,
    ApiVersion.V2023_11_01: False,  # "移除填写参数值不合法时自动调整为默认值逻辑" (spec §9 #7)
}
"""Per version: does the server (and so lenient mode) reset invalid optional values?"""


def _version_text(value: Any) -> Any:
    """Only a version string (or member) names a version: bytes are not text on the wire."""
    if isinstance(value, str):  # ApiVersion members are str too
        return value
    raise RuleViolation(
        f"must be one of {', '.join(repr(v.value) for v in ApiVersion)} (got {type(value).__name__})"
    )


class RequestModel(WireModel):
    """A request body plus the API version it is meant for."""

    api_version: Annotated[ApiVersion, BeforeValidator(_version_text)] = Field(
        ApiVersion.V2022_06_01, alias=_VERSION, exclude=True
    )

    @classmethod
    def lenient_resets(cls, data: Any) -> bool:
        raw: Any = data.get(_VERSION, ApiVersion.V2022_06_01) if isinstance(data, Mapping) else None
        try:
            return RESETS_INVALID_VALUES[ApiVersion(raw)]
        except (ValueError, TypeError):  # no or an invalid version: the latter is reported on its own
            return True

    @classmethod
    def from_wire(
        cls,
        data: Mapping[str, Any],
        *,
        version: ApiVersion | str | None = None,
        lenient: bool = False,
    ) -> Self:
        """Parse a wire body sent with `version`; lenient mode mirrors that version's server.

        Without `version` the body is checked as 2022-06-01 (the model's default) but no version
        is *chosen*: a client then sends it with its own `api_version` (re-validated for it),
        exactly as if the fields had been given as keywords.

        2022-06-01: invalid optional values are reset to their defaults (with a warning).
        2023-11-01: nothing is reset, an invalid value is an error as in strict mode. Both:
        unknown keys are dropped (with a warning).
        """
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
        if version is not None:
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
