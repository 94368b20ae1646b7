"""Hook concurrency: an implementation's ``rtcsnap_workers`` gives its lane that many threads (they
really run at once: a barrier of 3 only opens with 3), the bounded queue and the all-or-nothing
enqueue stay, outcomes still reach the one writer, `close` joins every thread, and a bad value is
an error at start naming the plugin."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rtcsnap import hookspecs
from rtcsnap.callbacks.hooks import HookRunner
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.records import SnapshotRecord
from rtcsnap.errors import PluginError
from rtcsnap.hookspecs import hookimpl

from tests.callbacks.test_index import snapshot_event

BARRIER_TIMEOUT = 5.0


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SnapshotIndex]:
    idx = SnapshotIndex(f"sqlite:///{tmp_path / 'index.db'}")
    yield idx
    idx.close()


def rendezvous(workers: object = None) -> object:
    """A plugin whose every call waits at a barrier of 3 — it passes only while three calls run at
    the same time — declaring `workers` as a plugin module does (the attribute; None: not at all)."""

    class Rendezvous:
        __name__ = "rendezvous"

        def __init__(self) -> None:
            self.barrier = threading.Barrier(3, timeout=BARRIER_TIMEOUT)

        @hookimpl
        def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
            self.barrier.wait()  # BrokenBarrierError after the timeout: recorded as the hook's failure

        if workers is not None:
            rtcsnap_snapshot_received.rtcsnap_workers = workers  # type: ignore[attr-defined]

    return Rendezvous()


def three_events(index: SnapshotIndex, runner: HookRunner) -> list[str]:
    ids = []
    for n in range(3):
        event, records = snapshot_event(f"ev-{n}", images=[(f"u{n}", 0, 1000 + n)])
        index.store([(event, records)], received_at=1.0)
        assert runner.submit(event.event_id, records)
        ids.append(event.event_id)
    return ids


def statuses(index: SnapshotIndex, ids: list[str]) -> list[str]:
    return [str((index.event(i) or {})["hook_status"]) for i in ids]


def test_three_workers_run_three_events_at_once(index: SnapshotIndex) -> None:
    runner = HookRunner(index, plugins=[rendezvous(3)])
    try:
        assert [i.workers for i in runner.implementations] == [3]
        ids = three_events(index, runner)
        assert runner.wait_idle(30)
    finally:
        runner.close()
    assert statuses(index, ids) == ["done"] * 3  # all three passed the barrier together
    assert index.hook_failures() == []


def test_one_worker_runs_them_one_at_a_time(index: SnapshotIndex) -> None:
    runner = HookRunner(index, plugins=[rendezvous()])  # no attribute: the default, one thread
    try:
        assert [i.workers for i in runner.implementations] == [1]
        ids = three_events(index, runner)
        assert runner.wait_idle(3 * BARRIER_TIMEOUT + 30)
    finally:
        runner.close()
    assert statuses(index, ids)[0] == "failed"  # alone at the barrier: it timed out
    assert "BrokenBarrierError" in index.hook_failures()[0]["error"]


def test_the_decorator_sets_the_attribute_and_close_joins_every_thread(index: SnapshotIndex) -> None:
    calls: list[str] = []

    class Many:
        __name__ = "many"

        @hookimpl
        @hookspecs.workers(4)
        def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
            calls.append(record.event_id)

    assert Many.rtcsnap_snapshot_received.rtcsnap_workers == 4  # type: ignore[attr-defined]
    before = set(threading.enumerate())
    runner = HookRunner(index, plugins=[Many()])
    lane_threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("rtcsnap-hook-many-")]
    assert len(lane_threads) == 4
    ids = three_events(index, runner)
    runner.close()
    assert not any(t.is_alive() for t in lane_threads)
    assert sorted(calls) == ids and statuses(index, ids) == ["done"] * 3


@pytest.mark.parametrize("value", [0, 65, -1, True, 2.0, "4", None])
def test_a_bad_worker_count_is_an_error_at_start_naming_the_plugin(
    index: SnapshotIndex, value: object
) -> None:
    class Bad:
        __name__ = "greedy-plugin"

        @hookimpl
        def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
            raise AssertionError("never called")

        rtcsnap_snapshot_received.rtcsnap_workers = value  # type: ignore[attr-defined]

    before = threading.active_count()
    with pytest.raises(
        PluginError, match=r"'greedy-plugin'.*rtcsnap_workers must be an integer in \[1, 64\]"
    ):
        HookRunner(index, plugins=[Bad()])
    assert threading.active_count() == before  # nothing was started


def test_a_full_multi_worker_lane_still_leaves_events_pending(index: SnapshotIndex) -> None:
    """The lane's queue stays bounded (queue_size), whatever the workers: when every worker is busy
    and the queue is full, `submit` refuses without blocking and the event stays pending."""
    release = threading.Event()
    started = threading.Semaphore(0)

    class Slow:
        __name__ = "slow"

        @hookimpl
        @hookspecs.workers(2)
        def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
            started.release()
            assert release.wait(30)

    runner = HookRunner(index, plugins=[Slow()], queue_size=1)
    try:
        accepted = []
        for n in range(4):
            event, records = snapshot_event(f"ev-{n}", images=[("u", 0, 1000 + n)])
            index.store([(event, records)], received_at=1.0)
            accepted.append(runner.submit(event.event_id, records))
            if n < 2:  # let a worker take it off the queue
                assert started.acquire(timeout=10)
        assert accepted == [True, True, True, False]  # two running, one queued, then full
        assert runner.metrics["dropped"] == 1
        release.set()
        assert runner.wait_idle(30)
    finally:
        release.set()
        runner.close()
    assert statuses(index, ["ev-0", "ev-1", "ev-2", "ev-3"]) == ["done", "done", "done", "pending"]
