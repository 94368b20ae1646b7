"""The `rtcsnap_snapshot_received` hook: run after the commit, off the request path (a blocked hook
never delays a 200 nor the other hooks), failures recorded with the event and fixed by `replay`,
never run for duplicates; and the index's hook bookkeeping on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rtcsnap import secrets
from rtcsnap.callbacks.hooks import HookRunner
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.receiver import Receiver
from rtcsnap.callbacks.records import SnapshotRecord
from rtcsnap.clock import ManualClock
from rtcsnap.hookspecs import hookimpl

from tests.callbacks.test_index import other_event, snapshot_event
from tests.callbacks.test_receiver import NOW, SECRET, encode, post, served, snapshot_envelope

HOOK_SECRET = "hook-leaked-credential-93ab"


class Recorder:
    """Records every record it is called with."""

    __name__ = "recorder"

    def __init__(self) -> None:
        self.records: list[SnapshotRecord] = []
        self.changed = threading.Condition()

    @hookimpl
    def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()

    def event_ids(self) -> list[str]:
        with self.changed:
            return sorted({r.event_id for r in self.records})

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until `n` records arrived."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.records) >= n, timeout)


class Flaky:
    """Raises (with a secret in the message) while `broken`, then records like `Recorder`."""

    __name__ = "flaky"

    def __init__(self) -> None:
        self.broken = True
        self.calls = 0
        self.records: list[SnapshotRecord] = []

    @hookimpl
    def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
        self.calls += 1
        if self.broken:
            raise RuntimeError(f"moderation API refused key {HOOK_SECRET}\nsecond line")
        self.records.append(record)


class Blocker:
    """Blocks every call until `release` is set; `started` tells the test it is blocked."""

    __name__ = "blocker"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.records: list[SnapshotRecord] = []

    @hookimpl
    def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
        self.started.set()
        assert self.release.wait(30), "the test never released the blocking hook"
        self.records.append(record)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SnapshotIndex]:
    idx = SnapshotIndex(f"sqlite:///{tmp_path / 'index.db'}")
    yield idx
    idx.close()


@pytest.fixture
def serve(index: SnapshotIndex) -> Iterator[Callable[..., tuple[Receiver, HookRunner, str]]]:
    """serve(*plugins, **runner_kwargs) -> (receiver, runner, callback URL) over real HTTP."""
    with contextlib.ExitStack() as stack:

        def _serve(*plugins: object, **kwargs: Any) -> tuple[Receiver, HookRunner, str]:
            runner = HookRunner(index, plugins=plugins, **kwargs)
            stack.callback(runner.close, 5.0)
            receiver = Receiver(index, SECRET, clock=ManualClock(NOW), hooks=runner)
            stack.callback(receiver.close)
            return receiver, runner, stack.enter_context(served(receiver)) + receiver.path

        yield _serve


def status(index: SnapshotIndex, event_id: str) -> str:
    event = index.event(event_id)
    assert event is not None
    return str(event["hook_status"])


# --------------------------------------------------------------------------- live, through the receiver


def test_each_new_snapshot_reaches_every_hook_after_its_commit(
    index: SnapshotIndex, serve: Callable[..., tuple[Receiver, HookRunner, str]]
) -> None:
    seen_stored: list[bool] = []

    class CheckCommitted:
        __name__ = "check-committed"

        @hookimpl
        def rtcsnap_snapshot_received(self, record: SnapshotRecord) -> None:
            seen_stored.append(index.event(record.event_id) is not None)

    recorder = Recorder()
    _, runner, url = serve(recorder, CheckCommitted())
    env = snapshot_envelope(images=3)
    assert post(url, encode(env)).status_code == 200
    assert runner.wait_idle(10)
    assert sorted(r.user_id for r in recorder.records) == ["user0", "user1", "user2"]
    assert {r.event_id for r in recorder.records} == {env["EventId"]}
    assert seen_stored == [True, True, True]  # the event was in the index when the hook ran
    assert status(index, env["EventId"]) == "done"
    assert index.hook_failures() == []


def test_duplicates_never_rerun_hooks(
    index: SnapshotIndex, serve: Callable[..., tuple[Receiver, HookRunner, str]]
) -> None:
    recorder = Recorder()
    _, runner, url = serve(recorder)
    body = encode(snapshot_envelope(images=2))
    assert post(url, body).json()["duplicate"] is False
    assert runner.wait_idle(10)
    for _ in range(3):
        assert post(url, body).json()["duplicate"] is True
    assert runner.wait_idle(10)
    assert len(recorder.records) == 2
    assert runner.metrics["queued"] == 1


def test_a_blocked_hook_delays_neither_the_answer_nor_the_other_hooks(
    index: SnapshotIndex, serve: Callable[..., tuple[Receiver, HookRunner, str]]
) -> None:
    blocker, recorder = Blocker(), Recorder()
    _, runner, url = serve(blocker, recorder)
    first, second = snapshot_envelope(task="t1", images=1), snapshot_envelope(task="t2", images=1)
    assert post(url, encode(first)).status_code == 200
    assert blocker.started.wait(10)  # the blocker is now stuck inside the hook, on `first`
    began = time.monotonic()
    r = post(url, encode(second))
    assert r.status_code == 200 and r.json() == {"ok": True, "duplicate": False}
    assert time.monotonic() - began < 2.0  # answered while the hook is still blocked
    assert not blocker.release.is_set() and blocker.records == []
    assert not runner.wait_idle(0)  # the blocked event is not finished ...
    assert recorder.wait_for(2), "the other hook did not run both events while one was blocked"
    assert recorder.event_ids() == sorted([first["EventId"], second["EventId"]])
    assert status(index, first["EventId"]) == "pending"  # one hook still running: not done yet
    blocker.release.set()
    assert runner.wait_idle(10)
    assert [r.event_id for r in blocker.records] == [first["EventId"], second["EventId"]]
    assert status(index, first["EventId"]) == status(index, second["EventId"]) == "done"


def test_a_failing_hook_is_recorded_redacted_and_replay_fixes_it(
    index: SnapshotIndex, serve: Callable[..., tuple[Receiver, HookRunner, str]]
) -> None:
    secrets.register(HOOK_SECRET)
    flaky, recorder = Flaky(), Recorder()
    _, runner, url = serve(flaky, recorder)
    env = snapshot_envelope(images=2)
    assert post(url, encode(env)).status_code == 200
    assert runner.wait_idle(10)
    assert status(index, env["EventId"]) == "failed"
    assert len(recorder.records) == 2  # the other hook ran regardless
    (failure,) = index.hook_failures(env["EventId"])
    assert (failure["hook"], failure["attempts"]) == ("flaky", 1)
    assert failure["error"].startswith("RuntimeError: moderation API refused key ")
    assert HOOK_SECRET not in failure["error"] and "\n" not in failure["error"]

    still = runner.replay()  # still broken: the same row, one more attempt
    assert (still.replayed, still.succeeded, still.still_failing) == (1, 0, 1)
    assert index.hook_failures(env["EventId"])[0]["attempts"] == 2

    flaky.broken = False
    fixed = runner.replay()
    assert (fixed.replayed, fixed.succeeded, fixed.still_failing) == (1, 1, 0)
    assert sorted(r.user_id for r in flaky.records) == ["user0", "user1"]
    assert len(recorder.records) == 2  # a failed event re-runs only the hooks that failed
    assert index.hook_failures() == [] and status(index, env["EventId"]) == "done"
    assert runner.replay().replayed == 0  # nothing left to do


def test_a_full_queue_leaves_events_pending_and_acknowledged(
    index: SnapshotIndex, serve: Callable[..., tuple[Receiver, HookRunner, str]]
) -> None:
    blocker = Blocker()
    _, runner, url = serve(blocker, queue_size=1)
    envs = [snapshot_envelope(task=f"t{n}", images=1) for n in range(4)]
    assert post(url, encode(envs[0])).status_code == 200
    assert blocker.started.wait(10)  # envs[0] is in the hook; the queue holds one more
    for env in envs[1:]:
        assert post(url, encode(env)).status_code == 200
    assert runner.metrics["queued"] == 2 and runner.metrics["dropped"] == 2
    blocker.release.set()
    assert runner.wait_idle(10)
    statuses = [status(index, env["EventId"]) for env in envs]
    assert statuses == ["done", "done", "pending", "pending"]
    summary = runner.replay()
    assert (summary.replayed, summary.succeeded) == (2, 2)
    assert sorted(r.event_id for r in blocker.records) == sorted(env["EventId"] for env in envs)


def test_events_without_snapshots_are_done_without_calling_hooks(index: SnapshotIndex) -> None:
    recorder = Recorder()
    event, records = other_event("ev-other")
    index.store([(event, records)], received_at=1.0)
    runner = HookRunner(index, plugins=[recorder])
    try:
        assert runner.submit(event.event_id, records)
        assert runner.wait_idle(10)
    finally:
        runner.close()
    assert recorder.records == [] and status(index, "ev-other") == "done"


def test_replay_runs_events_stored_without_hooks_filtered_by_app_and_task(index: SnapshotIndex) -> None:
    index.store(
        [
            snapshot_event("ev-1", app="app1", task="ta"),
            snapshot_event("ev-2", app="app1", task="tb"),
            snapshot_event("ev-3", app="app2", task="ta"),
        ],
        received_at=1.0,
    )
    recorder = Recorder()
    runner = HookRunner(index, plugins=[recorder])
    try:
        assert runner.replay(app_id="app1", task_id="ta").replayed == 1
        assert recorder.event_ids() == ["ev-1"]
        assert runner.replay(app_id="app1").replayed == 1
        assert recorder.event_ids() == ["ev-1", "ev-2"]
        summary = runner.replay(page=1)  # pages of one event: still every remaining one, once
        assert summary.replayed == 1 and recorder.event_ids() == ["ev-1", "ev-2", "ev-3"]
    finally:
        runner.close()
    assert [status(index, e) for e in ("ev-1", "ev-2", "ev-3")] == ["done"] * 3


def test_a_failed_hook_that_is_no_longer_installed_stays_failing(index: SnapshotIndex) -> None:
    event, records = snapshot_event("ev-gone")
    index.store([(event, records)], received_at=1.0)
    index.record_hook_failure("ev-gone", "uninstalled-plugin", "Boom: x", 5.0)
    index.set_hook_status(["ev-gone"], "failed")
    runner = HookRunner(index, plugins=[Recorder()])
    try:
        summary = runner.replay()
    finally:
        runner.close()
    assert (summary.replayed, summary.still_failing) == (1, 1)
    assert [f["attempts"] for f in index.hook_failures("ev-gone")] == [1]  # not retried: untouched
    assert status(index, "ev-gone") == "failed"


def test_two_plugins_with_one_name_are_refused(index: SnapshotIndex) -> None:
    with pytest.raises(ValueError, match="two plugins named 'recorder'"):
        HookRunner(index, plugins=[Recorder(), Recorder()])


def test_a_closed_runner_refuses_without_raising(index: SnapshotIndex) -> None:
    event, records = snapshot_event("ev-late")
    index.store([(event, records)], received_at=1.0)
    runner = HookRunner(index, plugins=[Recorder()])
    runner.close()
    assert runner.submit("ev-late", records) is False
    assert runner.metrics["dropped"] == 1 and status(index, "ev-late") == "pending"


def test_the_receiver_answers_200_even_if_the_runner_is_closed(
    index: SnapshotIndex, serve: Callable[..., tuple[Receiver, HookRunner, str]]
) -> None:
    _, runner, url = serve(Recorder())
    runner.close()
    env = snapshot_envelope()
    r = httpx.post(url, content=encode(env), headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200 and status(index, env["EventId"]) == "pending"


# --------------------------------------------------------------------------- index bookkeeping


@pytest.fixture(params=["sqlite", "postgresql"])
def any_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SnapshotIndex]:
    url = (
        f"sqlite:///{tmp_path / 'index.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    idx = SnapshotIndex(url)
    yield idx
    idx.close()


def test_index_hook_status_failures_and_backlog(any_index: SnapshotIndex) -> None:
    idx = any_index
    idx.store(
        [
            snapshot_event("ev-a", app="app1", task="t1", images=[("u1", 0, 10), ("u2", 1, 11)]),
            snapshot_event("ev-b", app="app1", task="t2"),
            snapshot_event("ev-c", app="app2", task="t1"),
        ],
        received_at=1.0,
    )
    backlog = idx.hook_backlog(10)
    assert [e["event_id"] for e, _ in backlog] == ["ev-a", "ev-b", "ev-c"]  # new events are pending
    assert [r.user_id for r in backlog[0][1]] == ["u1", "u2"] and backlog[0][0]["hook_status"] == "pending"

    idx.set_hook_status(["ev-b"], "done")
    assert [e["event_id"] for e, _ in idx.hook_backlog(10)] == ["ev-a", "ev-c"]
    assert [e["event_id"] for e, _ in idx.hook_backlog(10, app_id="app2")] == ["ev-c"]
    assert [e["event_id"] for e, _ in idx.hook_backlog(10, task_id="t1", app_id="app1")] == ["ev-a"]
    first = idx.hook_backlog(1)
    assert [e["event_id"] for e, _ in first] == ["ev-a"]
    assert [e["event_id"] for e, _ in idx.hook_backlog(1, after=first[0][0]["id"])] == ["ev-c"]

    assert idx.record_hook_failure("ev-a", "mod", "E: one", 5.0) == 1
    assert idx.record_hook_failure("ev-a", "mod", "E: two", 6.0) == 2
    assert idx.record_hook_failure("ev-a", "thumbs", "E: x", 7.0) == 1
    idx.set_hook_status(["ev-a"], "failed")
    rows = idx.hook_failures("ev-a")
    assert [(r["hook"], r["attempts"], r["error"], r["last_at"]) for r in rows] == [
        ("mod", 2, "E: two", 6.0),
        ("thumbs", 1, "E: x", 7.0),
    ]
    event, _ = idx.hook_backlog(10)[0]
    assert event["hook_status"] == "failed" and event["failed_hooks"] == ["mod", "thumbs"]
    assert idx.clear_hook_failure("ev-a", "mod") is True
    assert idx.clear_hook_failure("ev-a", "mod") is False
    assert [r["hook"] for r in idx.hook_failures()] == ["thumbs"]
    with pytest.raises(ValueError, match="hook_status: must be one of pending, done, failed"):
        idx.set_hook_status(["ev-a"], "finished")
