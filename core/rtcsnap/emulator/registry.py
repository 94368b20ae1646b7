"""Snapshot tasks and their lifecycle (spec §1.2), plus the seam for the snapshot engine.

A task is an immutable `TaskState` record; every change stores a new record and tells the
registered `TaskObserver`s, in order. The engine (`rtcsnap.emulator.engine`) observes starts, interval
updates and stops, reads records without locking, and ends tasks itself via `stop(..., reason)`
(e.g. `StopReason.IDLE_TIMEOUT`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from rtcsnap.emulator.config import Clock
from rtcsnap.models import ApiVersion, ImageConfig, StartSnapshotRequest, StorageConfig, Stream, TaskStatus

log = logging.getLogger(__name__)


class StopReason(StrEnum):
    """GetSnapshotTask StopReason values (spec §6.3); "" while running."""

    UNKNOWN = "UnknownStopReason"
    STOP_BY_API = "StopByAPI"
    START_TASK_FAILED = "StartTaskFailed"
    IDLE_TIMEOUT = "IdleTimeOut"
    USER_DISCONNECT = "UserDisconnect"


@dataclass(frozen=True)
class TaskKey:
    """A task's identity: TaskId is unique only within (AppId, RoomId)."""

    app_id: str
    room_id: str
    task_id: str


@dataclass(frozen=True)
class TaskState:
    """One run of a task, with the effective settings (defaults applied, secrets kept).

    Times are Unix milliseconds; `end_time` is 0 while running. `run` counts starts of the same
    key: a stopped task started again is a new run with a new record.
    """

    key: TaskKey
    business_id: str | None
    api_version: ApiVersion
    access_key: str
    target_streams: tuple[Stream, ...]
    """Empty means every stream in the room."""
    image_config: ImageConfig
    max_idle_time: int
    storage_config: StorageConfig
    start_time: int
    end_time: int = 0
    status: TaskStatus = TaskStatus.RUNNING
    stop_reason: str = ""
    run: int = 1

    @property
    def running(self) -> bool:
        return self.status is TaskStatus.RUNNING

    @property
    def interval(self) -> int:
        return self.image_config.interval


class TaskObserver(Protocol):
    """Told about every change, synchronously and in order, on the thread serving the request.

    Keep the callbacks short (hand work to your own thread). An exception is logged, not raised:
    the API call has already happened.
    """

    def task_started(self, task: TaskState) -> None: ...

    def task_updated(self, task: TaskState) -> None: ...

    def task_stopped(self, task: TaskState) -> None: ...


class TaskNotActiveError(LookupError):
    """No running task with that key (unknown or already stopped)."""


def effective_image_config(config: ImageConfig | None) -> ImageConfig:
    """Every ImageConfig field explicitly set, defaults included, as the service reports it."""
    source = config if config is not None else ImageConfig()
    return ImageConfig(**{name: getattr(source, name) for name in ImageConfig.model_fields})


class TaskRegistry:
    """Thread-safe map TaskKey -> latest `TaskState` record."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # Re-entrant and held while observers run: their notifications keep the order of changes,
        # and an observer may read the registry (or stop a task) from inside a callback.
        self._lock = threading.RLock()
        self._tasks: dict[TaskKey, TaskState] = {}
        self._observers: list[TaskObserver] = []

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # ------------------------------------------------------------------ observers

    def add_observer(self, observer: TaskObserver) -> None:
        with self._lock:
            self._observers.append(observer)

    def remove_observer(self, observer: TaskObserver) -> None:
        with self._lock:
            self._observers.remove(observer)

    def _notify(self, event: str, task: TaskState) -> None:
        for observer in list(self._observers):
            try:
                getattr(observer, event)(task)
            except Exception:
                log.exception("emulator task observer %r failed in %s", observer, event)

    # ------------------------------------------------------------------ changes

    def start(self, request: StartSnapshotRequest, *, access_key: str) -> tuple[TaskState, bool]:
        """(record, True) for a new run; (the running record, False) if that task already runs."""
        key = TaskKey(request.app_id, request.room_id, request.task_id)
        with self._lock:
            current = self._tasks.get(key)
            if current is not None and current.running:
                return current, False
            streams = request.target_streams.stream_list if request.target_streams is not None else []
            task = TaskState(
                key=key,
                business_id=request.business_id,
                api_version=request.api_version,
                access_key=access_key,
                target_streams=tuple(streams),
                image_config=effective_image_config(request.image_config),
                max_idle_time=request.max_idle_time,
                storage_config=request.storage_config,
                start_time=self.now_ms(),
                run=current.run + 1 if current is not None else 1,
            )
            self._tasks[key] = task
            self._notify("task_started", task)
            return task, True

    def update_interval(self, key: TaskKey, interval: int | None) -> TaskState:
        """Apply an UpdateSnapshot: only the interval can change (spec §6.1); None keeps it."""
        with self._lock:
            current = self._running(key)
            image = current.image_config
            if interval is not None:
                image = image.model_copy(update={"interval": interval})
            task = dataclasses.replace(current, image_config=image)
            self._tasks[key] = task
            self._notify("task_updated", task)
            return task

    def stop(self, key: TaskKey, reason: StopReason = StopReason.STOP_BY_API) -> TaskState:
        with self._lock:
            current = self._running(key)
            task = dataclasses.replace(
                current, status=TaskStatus.STOPPED, stop_reason=reason.value, end_time=self.now_ms()
            )
            self._tasks[key] = task
            self._notify("task_stopped", task)
            return task

    def _running(self, key: TaskKey) -> TaskState:
        current = self._tasks.get(key)
        if current is None or not current.running:
            raise TaskNotActiveError(key)
        return current

    # ------------------------------------------------------------------ reads

    def get(self, key: TaskKey) -> TaskState | None:
        with self._lock:
            return self._tasks.get(key)

    def tasks(self) -> list[TaskState]:
        with self._lock:
            return list(self._tasks.values())

    def running(self) -> list[TaskState]:
        return [t for t in self.tasks() if t.running]

    def clear(self) -> None:
        """Forget every task (observers stay; nobody is told)."""
        with self._lock:
            self._tasks.clear()


__all__ = [
    "StopReason",
    "TaskKey",
    "TaskNotActiveError",
    "TaskObserver",
    "TaskRegistry",
    "TaskState",
    "effective_image_config",
]
