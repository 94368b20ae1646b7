"""The four snapshot actions, after the gateway has let a request through.

Each handler returns the envelope's `Result` or raises `ApiError`; the app check (exists,
owned by the caller, snapshot enabled) runs before the body is validated in full, because the
real service looks the app up before it reads the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rtcsnap.emulator.config import EmulatorConfig
from rtcsnap.emulator.envelope import ApiError
from rtcsnap.emulator.gateway import Caller, Route
from rtcsnap.emulator.registry import TaskKey, TaskNotActiveError, TaskRegistry, TaskState
from rtcsnap.emulator.validation import app_id_of, json_body, parse, query_fields
from rtcsnap.models import (
    ApiVersion,
    GetSnapshotTaskRequest,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.protocol import api

OK = "ok"


@dataclass(frozen=True)
class Call:
    """An authenticated, authorised, admitted request."""

    route: Route
    caller: Caller
    query: Mapping[str, Sequence[str]]
    body: bytes
    data: Mapping[str, Any] | None = None
    """The body already parsed as a JSON object (the app parses before the quota); None: parse here."""

    @property
    def version(self) -> ApiVersion:
        return self.route.version


def task_wire(task: TaskState) -> dict[str, Any]:
    """`Result.SnapshotTask` (spec §6.3): effective values, defaults included, secrets masked.

    Dumped without `exclude_unset` (unlike `to_wire`) so defaults show; the models' serializer
    masks secrets whenever reveal is not requested, as `to_wire(mask_secrets=True)` does.
    """
    return {
        "StartTime": task.start_time,
        "EndTime": task.end_time,
        "Status": int(task.status),
        "StopReason": task.stop_reason,
        "TargetStreams": {
            "StreamList": [
                s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in task.target_streams
            ]
        },
        "ImageConfig": task.image_config.model_dump(mode="json", by_alias=True),
        "MaxIdleTime": task.max_idle_time,
        "StorageConfig": task.storage_config.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def _not_found(key: TaskKey, why: str = "does not exist or has already stopped") -> ApiError:
    return ApiError(
        "InvalidParameter.ErrorActiveTaskNotFound",
        f"Task {key.task_id} in room {key.room_id} of app {key.app_id} {why}.",
    )


class Handlers:
    """Action name -> handler, over one registry and config."""

    def __init__(self, config: EmulatorConfig, registry: TaskRegistry) -> None:
        self.config = config
        self.registry = registry
        self._by_action: dict[str, Callable[[Call], Any]] = {
            "StartSnapshot": self.start,
            "UpdateSnapshot": self.update,
            "StopSnapshot": self.stop,
            "GetSnapshotTask": self.get,
        }

    def __call__(self, call: Call) -> Any:
        return self._by_action[call.route.action.name](call)

    def check_app(self, caller: Caller, app_id: str) -> None:
        """Console state of the app; with no apps configured, every AppId is usable."""
        if not self.config.apps:
            return
        app = self.config.apps.get(app_id)
        if app is None:
            raise ApiError("InvalidParameter.NotExistAppId", f"AppId {app_id} does not exist.")
        if not self.config.owns(caller.access_key, app):
            raise ApiError(
                "AccessDenied.NoPermissionForApp",
                f"The account of access key {caller.access_key} has no permission for AppId {app_id}.",
            )
        if not app.snapshot_enabled:
            raise ApiError(
                "AccessDenied.ServiceNotEnabled",
                f"The snapshot service is not enabled for AppId {app_id}; enable it in the console first.",
            )

    def _body(self, call: Call) -> Mapping[str, Any]:
        data = json_body(call.body) if call.data is None else call.data
        self.check_app(call.caller, app_id_of(data))
        return data

    def start(self, call: Call) -> Any:
        req = parse(StartSnapshotRequest, self._body(call), call.version)
        task, created = self.registry.start(req, access_key=call.caller.access_key)
        if created:
            return OK
        if call.version is ApiVersion.V2022_06_01:
            raise ApiError(
                "InvalidParameter.TaskAlreadyExists",
                f"Task {task.key.task_id} is already running in room {task.key.room_id}; do not start it again.",
            )
        return api.DUPLICATE_START_RESULT

    def update(self, call: Call) -> Any:
        req = parse(UpdateSnapshotRequest, self._body(call), call.version)
        image = req.image_config
        interval = image.interval if image is not None and "interval" in image.model_fields_set else None
        key = TaskKey(req.app_id, req.room_id, req.task_id)
        try:
            self.registry.update_interval(key, interval)
        except TaskNotActiveError:
            raise _not_found(key) from None
        return OK

    def stop(self, call: Call) -> Any:
        req = parse(StopSnapshotRequest, self._body(call), call.version)
        key = TaskKey(req.app_id, req.room_id, req.task_id)
        try:
            self.registry.stop(key)
        except TaskNotActiveError:
            raise _not_found(key) from None
        return OK

    def get(self, call: Call) -> Any:
        fields = query_fields(call.query, ("AppId", "RoomId", "TaskId"))
        self.check_app(call.caller, app_id_of(fields))
        req = parse(GetSnapshotTaskRequest, fields, call.version)
        key = TaskKey(req.app_id, req.room_id, req.task_id)
        task = self.registry.get(key)
        window_ms = self.config.task_window_hours * 3600 * 1000
        if task is None or self.registry.now_ms() - task.start_time > window_ms:
            hours = f"{self.config.task_window_hours:g}"
            raise _not_found(key, f"does not exist or was started more than {hours} hours ago")
        return {"SnapshotTask": task_wire(task)}


__all__ = ["OK", "Call", "Handlers", "task_wire"]
