"""The capture-engine seam: observers see every change in order; the registry is thread-safe."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from rtcsnap.emulator import (
    Emulator,
    EmulatorServer,
    ManualClock,
    StopReason,
    TaskKey,
    TaskNotActiveError,
    TaskRegistry,
    TaskState,
)
from rtcsnap.models import StartSnapshotRequest, TaskStatus
from rtcsnap.protocol import api
from rtcsnap.testing.emulator import EmulatorClient

from tests.emulator.helpers import APP, ROOM, TASK, code, start_body, task_body

KEY = TaskKey(APP, ROOM, TASK)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, TaskState]] = []

    def task_started(self, task: TaskState) -> None:
        self.events.append(("started", task))

    def task_updated(self, task: TaskState) -> None:
        self.events.append(("updated", task))

    def task_stopped(self, task: TaskState) -> None:
        self.events.append(("stopped", task))


class Broken:
    def task_started(self, task: TaskState) -> None:
        raise RuntimeError("observer bug")

    task_updated = task_stopped = task_started


def test_observers_see_start_update_stop(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    recorder = Recorder()
    emulator.add_observer(recorder)
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 4}))
    emulator_client.call("StartSnapshot", start_body())  # duplicate: no event
    emulator_client.call("UpdateSnapshot", task_body(ImageConfig={"Interval": 8}))
    emulator_client.call("StopSnapshot", task_body())
    emulator_client.call("StopSnapshot", task_body())  # already stopped: no event
    assert [(e, t.interval, t.status) for e, t in recorder.events] == [
        ("started", 4, TaskStatus.RUNNING),
        ("updated", 8, TaskStatus.RUNNING),
        ("stopped", 8, TaskStatus.STOPPED),
    ]
    started = recorder.events[0][1]
    assert started.key == KEY and started.end_time == 0  # records are immutable snapshots
    emulator.remove_observer(recorder)
    emulator_client.call("StartSnapshot", start_body())
    assert len(recorder.events) == 3


def test_a_failing_observer_does_not_fail_the_call(
    emulator: Emulator, emulator_client: EmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    emulator.add_observer(Broken())
    emulator.add_observer(recorder)
    assert code(emulator_client.call("StartSnapshot", start_body())) == "OK"
    assert [e for e, _ in recorder.events] == ["started"]
    assert "observer" in caplog.text


def test_observer_may_use_the_registry_from_its_callback() -> None:
    registry = TaskRegistry(ManualClock(1_700_000_000.0))

    class StopAtOnce:
        def task_started(self, task: TaskState) -> None:
            registry.stop(task.key, StopReason.START_TASK_FAILED)

        def task_updated(self, task: TaskState) -> None: ...

        def task_stopped(self, task: TaskState) -> None: ...

    registry.add_observer(StopAtOnce())
    request = StartSnapshotRequest.from_wire(start_body())
    task, created = registry.start(request, access_key="AK")
    assert created and task.running
    final = registry.get(task.key)
    assert final is not None and final.stop_reason == "StartTaskFailed"
    with pytest.raises(TaskNotActiveError):
        registry.update_interval(task.key, 3)


def test_concurrent_duplicate_starts_create_one_task(
    emulator: Emulator, emulator_server: EmulatorServer
) -> None:
    recorder = Recorder()
    emulator.add_observer(recorder)

    def start(_: int) -> str:
        with EmulatorClient.for_server(emulator_server) as c:
            return str(c.call("StartSnapshot", start_body()).json()["Result"])

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(start, range(32)))
    assert results.count("ok") == 1
    assert results.count(api.DUPLICATE_START_RESULT) == 31
    assert [e for e, _ in recorder.events] == ["started"]


def test_registry_is_thread_safe_under_many_keys() -> None:
    registry = TaskRegistry(ManualClock(1_700_000_000.0))
    recorder = Recorder()
    registry.add_observer(recorder)

    def cycle(i: int) -> None:
        request = StartSnapshotRequest.from_wire(start_body(TaskId=f"t{i}"))
        registry.start(request, access_key="AK")
        registry.update_interval(TaskKey(APP, ROOM, f"t{i}"), 5)
        registry.stop(TaskKey(APP, ROOM, f"t{i}"))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(cycle, range(200)))
    assert len(registry.tasks()) == 200 and registry.running() == []
    by_task: dict[str, list[str]] = {}
    for event, task in recorder.events:
        by_task.setdefault(task.key.task_id, []).append(event)
    assert all(events == ["started", "updated", "stopped"] for events in by_task.values())


def test_concurrent_starts_of_one_key_from_threads_create_one_run() -> None:
    """The capture engine calls the registry from its own threads, not just the server's loop."""
    registry = TaskRegistry(ManualClock(1_700_000_000.0))
    request = StartSnapshotRequest.from_wire(start_body())
    barrier = threading.Barrier(8)

    def start(_: int) -> bool:
        barrier.wait()
        return registry.start(request, access_key="AK")[1]

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(start, range(8)))
    assert created.count(True) == 1
    task = registry.get(KEY)
    assert task is not None and task.run == 1
