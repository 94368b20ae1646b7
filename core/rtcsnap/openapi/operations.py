"""The four operations, once for both clients: what each sends, and what its answers mean.

Sans-I/O: an operation is a generator that yields the steps to perform — a `wire.Call` to send,
or a `storage_step.Verification` to run — and is sent each outcome (or has its `RtcSnapError`
thrown in). The sync and async clients only drive these (`Driver`), with their own transport,
so validation, version choice, storage preparation and the idempotence rules exist once:

* StartSnapshot retried after a lost response: the duplicate answer (2022-06-01's
  `TaskAlreadyExists` error, 2023-11-01's Result message) is ``already_started``, not a failure;
* StopSnapshot retried the same way: a `TaskNotFound` after an attempt that may have reached the
  server is ``already_stopped`` (on a first attempt it still raises).

What an operation needs of its client is `OperationContext`; data flows one way (client →
operations → versions / wire / storage_step), nothing here knows the client classes.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from rtcsnap import errors as e
from rtcsnap.models import (
    ApiVersion,
    GetSnapshotTaskRequest,
    SnapshotTask,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.models.requests import RequestModel
from rtcsnap.openapi import storage_step
from rtcsnap.openapi.results import CallResult, StartResult, StopResult, TaskResult
from rtcsnap.openapi.storage_step import Verification
from rtcsnap.openapi.versions import negotiate
from rtcsnap.openapi.wire import Call, build_call
from rtcsnap.protocol.api import DUPLICATE_START_RESULT
from rtcsnap.target import StorageTarget
from rtcsnap.tasklog import TaskLog

if TYPE_CHECKING:
    from rtcsnap.providers.manager import ProviderManager

log = logging.getLogger("rtcsnap.openapi.client")
"""The client's logger, as before the split: where users look for the client's warnings."""

T = TypeVar("T")
R = TypeVar("R", bound=RequestModel)
Step = Call | Verification
Operation = Generator[Step, Any, T]
"""An operation in progress: yields steps, is sent their outcomes, returns its result."""


class OperationContext(Protocol):
    """What an operation reads from its client (read at each call, so a changed setting holds)."""

    @property
    def api_version(self) -> ApiVersion:
        """The version of a call that names none and whose request was not built for one."""
        ...

    @property
    def endpoint(self) -> str:
        """Recorded in the task log with the target."""
        ...

    @property
    def task_log(self) -> TaskLog | None:
        """Where `start(storage=…)` records its target; None: nowhere."""
        ...

    @property
    def manager(self) -> ProviderManager:
        """Resolves `storage=` targets, builds their StorageConfig and verifies them."""
        ...


class Driver(Generic[T]):
    """Runs an operation step by step for a client's drive loop (the loop performs the steps).

    ``while (step := run.next_step()) is not None``: perform it, then `done` with its outcome or
    `failed` with its error; at the end `result` is the operation's. Only `RtcSnapError`s are
    handed back to the operation: anything else is a bug and propagates as it is.
    """

    def __init__(self, op: Operation[T]) -> None:
        self._op = op
        self._value: Any = None
        self._error: e.RtcSnapError | None = None
        self._result: tuple[T] | None = None

    def next_step(self) -> Step | None:
        """The next step to perform, or None once the operation has returned."""
        try:
            step = self._op.throw(self._error) if self._error is not None else self._op.send(self._value)
        except StopIteration as finished:
            self._result = (finished.value,)
            return None
        self._value, self._error = None, None
        return step

    def done(self, value: Any) -> None:
        self._value = value

    def failed(self, error: e.RtcSnapError) -> None:
        self._error = error

    @property
    def result(self) -> T:
        if self._result is None:
            raise RuntimeError("the operation has not returned yet")
        return self._result[0]


def call_for(
    ctx: OperationContext,
    action: str,
    model: type[R],
    request: R | None,
    api_version: str | ApiVersion | None,
    fields: Mapping[str, Any],
) -> tuple[R, Call]:
    """The request validated for the version negotiated (`versions.negotiate`) and its `Call`:
    what every operation sends, and what `prepare` (`--dry-run`) signs without sending."""
    req, version = negotiate(model, request, api_version, fields, ctx.api_version)
    return req, build_call(action, req, version)


def start(
    ctx: OperationContext,
    request: StartSnapshotRequest | None,
    storage: StorageTarget | str | None,
    verify_storage: bool | StorageTarget,
    api_version: str | ApiVersion | None,
    fields: Mapping[str, Any],
) -> Operation[StartResult]:
    """StartSnapshot: storage prepared and verified first, a duplicate start ``already_started``."""
    target: StorageTarget | None = None
    if storage is not None:
        target, fields = storage_step.with_storage(request, storage, verify_storage, fields, ctx.manager)
    req, call = call_for(ctx, "StartSnapshot", StartSnapshotRequest, request, api_version, fields)
    if verify_storage is not False:  # the manager is looked up only when storage is involved
        storage_step.require_fit((yield storage_step.verification(req, target, verify_storage, ctx.manager)))
    try:
        res: CallResult = yield call
    except e.TaskAlreadyExistsError as exc:
        result = StartResult(
            exc.request_id, call.action, call.version, call.attempts.count, None, "already_started"
        )
    else:
        dup = isinstance(res.result, str) and res.result.strip().startswith(DUPLICATE_START_RESULT[:40])
        result = StartResult(
            res.request_id,
            res.action,
            res.version,
            res.attempts,
            res.result,
            "already_started" if dup else "started",
        )
    if target is not None:
        _log_task(ctx, req, target, result)
    return result


def _log_task(
    ctx: OperationContext, req: StartSnapshotRequest, target: StorageTarget, result: StartResult
) -> None:
    """Remember the target for `snapshots manifest|download`; the task runs either way, so a
    log that cannot be written is a warning, never the call's failure."""
    task_log = ctx.task_log
    if task_log is None:
        return
    try:
        task_log.record(
            app_id=req.app_id,
            room_id=req.room_id,
            task_id=req.task_id,
            storage=target.url,
            endpoint=ctx.endpoint,
            request_id=result.request_id,
        )
    except OSError as exc:
        log.warning("task log %s not written: %s", task_log.path, exc.strerror or exc)


def update(
    ctx: OperationContext,
    request: UpdateSnapshotRequest | None,
    api_version: str | ApiVersion | None,
    fields: Mapping[str, Any],
) -> Operation[CallResult]:
    """UpdateSnapshot: sent as validated, answered as classified."""
    _, call = call_for(ctx, "UpdateSnapshot", UpdateSnapshotRequest, request, api_version, fields)
    res: CallResult = yield call
    return res


def stop(
    ctx: OperationContext,
    request: StopSnapshotRequest | None,
    api_version: str | ApiVersion | None,
    fields: Mapping[str, Any],
) -> Operation[StopResult]:
    """StopSnapshot: a `TaskNotFound` after an ambiguous attempt is ``already_stopped``."""
    _, call = call_for(ctx, "StopSnapshot", StopSnapshotRequest, request, api_version, fields)
    try:
        r: CallResult = yield call
    except e.TaskNotFoundError as exc:
        if not call.attempts.ambiguous:
            raise
        return StopResult(
            exc.request_id, call.action, call.version, call.attempts.count, None, "already_stopped"
        )
    return StopResult(r.request_id, r.action, r.version, r.attempts, r.result, "stopped")


def get_task(
    ctx: OperationContext,
    request: GetSnapshotTaskRequest | None,
    api_version: str | ApiVersion | None,
    fields: Mapping[str, Any],
) -> Operation[TaskResult]:
    """GetSnapshotTask: its `SnapshotTask` parsed, None when the answer carries none."""
    _, call = call_for(ctx, "GetSnapshotTask", GetSnapshotTaskRequest, request, api_version, fields)
    res: CallResult = yield call
    result = res.result if isinstance(res.result, dict) else {}
    raw = result.get("SnapshotTask") or result.get("snapshotTask")
    task = SnapshotTask.from_wire(raw) if raw else None
    return TaskResult(res.request_id, res.action, res.version, res.attempts, res.result, task)


__all__ = [
    "Driver",
    "Operation",
    "OperationContext",
    "Step",
    "call_for",
    "get_task",
    "start",
    "stop",
    "update",
]
