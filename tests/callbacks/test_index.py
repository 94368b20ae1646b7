"""The snapshot index on SQLite and on a real PostgreSQL server: dedupe, queries, pagination,
migrations from an old schema, concurrent receivers, and durable group commit."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from rtcsnap.callbacks import migrations
from rtcsnap.callbacks.index import (
    RECORD_FIELDS,
    GroupCommitter,
    SnapshotIndex,
    SnapshotIndexError,
)
from rtcsnap.callbacks.records import Event, SnapshotRecord, parse_body, parse_event, snapshot_records
from rtcsnap.errors import ConfigurationError, ValidationError
from rtcsnap.protocol import callback_signature as cbsig

SECRET = "index-test-secret"
Item = tuple[Event, list[SnapshotRecord]]


def snapshot_event(
    event_id: str,
    *,
    app: str = "app1",
    room: str = "room1",
    task: str = "task1",
    images: list[tuple[str, int, int]] | None = None,
) -> Item:
    """A parsed `SnapshotRealTimeData` callback; images are (user_id, stream_type, timestamp_ms)."""
    records = [
        cbsig.ImageRecord(
            user_id=user,
            stream_type=stype,
            index=0,
            object_key=f"{app}/{room}/{task}/{user}/{stype}/{ts}.jpg",
            format=0,
            width=640,
            height=360,
            size=1000 + ts % 997,
            timestamp_ms=ts,
        )
        for user, stype, ts in images or [("alice", 0, 1_700_000_000_000)]
    ]
    data = cbsig.snapshot_event_data(
        app_id=app, business_id="biz", room_id=room, task_id=task, bucket="snaps", images=records
    )
    env = cbsig.envelope(
        cbsig.EVENT_SNAPSHOT, data, app_id=app, version="2023-11-01", secret=SECRET, event_id=event_id
    )
    return parsed(env)


def other_event(event_id: str, event_type: str = "RecordStarted") -> Item:
    env = cbsig.envelope(
        event_type,
        {"Anything": ["goes", 1]},
        app_id="app1",
        version="2023-11-01",
        secret=SECRET,
        event_id=event_id,
    )
    return parsed(env)


def parsed(env: dict[str, str]) -> Item:
    raw = json.dumps(env, ensure_ascii=False)
    event = parse_event(parse_body(raw.encode()), raw)
    return event, snapshot_records(event)


@pytest.fixture
def index(db_url: str) -> Iterator[SnapshotIndex]:
    idx = SnapshotIndex(db_url)
    yield idx
    idx.close()


def all_rows(idx: SnapshotIndex, **filters: Any) -> list[dict[str, Any]]:
    page = idx.snapshots(limit=10_000, **filters)
    assert page.next is None
    return page.items


# --------------------------------------------------------------------------- store and dedupe


def test_new_events_are_stored_and_duplicates_reported(index: SnapshotIndex) -> None:
    a, b, c = snapshot_event("ev-a"), snapshot_event("ev-b"), snapshot_event("ev-c")
    assert index.store([a, b, a], received_at=100.0) == [True, True, False]  # twice inside one batch
    assert index.store([b, c], received_at=200.0) == [False, True]  # and across batches
    assert index.count() == (3, 3)
    by_event = {r["event_id"]: r["received_at"] for r in all_rows(index)}
    assert by_event == {"ev-a": 100.0, "ev-b": 100.0, "ev-c": 200.0}  # the duplicate changed nothing


def test_one_snapshot_row_per_data_entry(index: SnapshotIndex) -> None:
    event, records = snapshot_event(
        "multi", images=[("alice", 0, 3000), ("bob", 1, 1000), ("carol", 0, 2000)]
    )
    assert len(records) == 3
    assert index.store([(event, records)], received_at=5.5) == [True]
    rows = all_rows(index)
    assert [r["user_id"] for r in rows] == ["bob", "carol", "alice"]  # ordered by timestamp
    expected = sorted(records, key=lambda r: r.timestamp_ms)
    assert [{k: r[k] for k in RECORD_FIELDS} for r in rows] == [
        {k: getattr(rec, k) for k in RECORD_FIELDS} for rec in expected
    ]
    assert {r["received_at"] for r in rows} == {5.5}


def test_other_event_types_are_kept_raw_without_snapshots(index: SnapshotIndex) -> None:
    event, records = other_event("rec-1", "SomeFutureEvent")
    assert records == []
    assert index.store([(event, records)], received_at=7.0) == [True]
    assert index.count() == (1, 0)
    stored = index.event("rec-1")
    assert stored is not None
    assert stored["event_type"] == "SomeFutureEvent" and json.loads(stored["raw"]) == json.loads(event.raw)


def test_event_round_trips_the_raw_body(index: SnapshotIndex) -> None:
    event, records = snapshot_event("raw-1", room="房间-1")  # non-ASCII kept byte for byte
    index.store([(event, records)], received_at=1234.5)
    assert index.event("raw-1") == {
        "event_id": "raw-1",
        "event_type": cbsig.EVENT_SNAPSHOT,
        "app_id": "app1",
        "event_time": event.event_time,
        "version": "2023-11-01",
        "business_id": None,
        "raw": event.raw,
        "received_at": 1234.5,
        "hook_status": "pending",
    }
    assert index.event("missing") is None


def test_records_of_another_event_are_refused(index: SnapshotIndex) -> None:
    event, _ = snapshot_event("one")
    _, records = snapshot_event("two")
    with pytest.raises(ValueError, match="batch\\[0\\]"):
        index.store([(event, records)], received_at=1.0)
    assert index.count() == (0, 0)


# --------------------------------------------------------------------------- queries


@pytest.fixture
def populated(index: SnapshotIndex) -> SnapshotIndex:
    batch = [
        snapshot_event("q1", app="app1", room="r1", task="t1", images=[("alice", 0, 1000), ("bob", 1, 1001)]),
        snapshot_event("q2", app="app1", room="r1", task="t2", images=[("alice", 1, 2000)]),
        snapshot_event("q3", app="app1", room="r2", task="t1", images=[("carol", 0, 3000)]),
        snapshot_event(
            "q4", app="app2", room="r1", task="t1", images=[("alice", 0, 4000), ("alice", 0, 4000)]
        ),
        other_event("q5"),
    ]
    index.store(batch, received_at=1.0)
    return index


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["q1", "q1", "q2", "q3", "q4", "q4"]),
        ({"app_id": "app2"}, ["q4", "q4"]),
        ({"business_id": "biz"}, ["q1", "q1", "q2", "q3", "q4", "q4"]),
        ({"business_id": "other"}, []),
        ({"room_id": "r2"}, ["q3"]),
        ({"task_id": "t2"}, ["q2"]),
        ({"app_id": "app1", "room_id": "r1", "task_id": "t1"}, ["q1", "q1"]),
        ({"user_id": "alice"}, ["q1", "q2", "q4", "q4"]),
        ({"stream_type": 1}, ["q1", "q2"]),
        ({"stream_type": 0, "user_id": "alice"}, ["q1", "q4", "q4"]),
        ({"since_ms": 2000}, ["q2", "q3", "q4", "q4"]),
        ({"until_ms": 2000}, ["q1", "q1"]),  # half-open: until is exclusive
        ({"since_ms": 1001, "until_ms": 4000}, ["q1", "q2", "q3"]),
    ],
)
def test_every_filter_and_the_time_range(
    populated: SnapshotIndex, filters: dict[str, Any], expected: list[str]
) -> None:
    assert [r["event_id"] for r in all_rows(populated, **filters)] == expected


def test_pagination_covers_every_row_exactly_once(index: SnapshotIndex) -> None:
    rng = random.Random(7)
    batch = [
        snapshot_event(f"p{n}", images=[("u", 0, rng.choice([10, 20, 30])) for _ in range(rng.randint(1, 4))])
        for n in range(40)
    ]
    index.store(batch, received_at=1.0)
    total = index.count()[1]
    seen: list[tuple[int, str, str]] = []
    after, pages = None, 0
    while True:
        page = index.snapshots(limit=7, after=after)
        pages += 1
        assert len(page.items) <= 7
        seen += [(r["timestamp_ms"], r["event_id"], r["object_key"]) for r in page.items]
        if page.next is None:
            break
        after = page.next
    assert len(seen) == total and pages == -(-total // 7)
    assert [ts for ts, _, _ in seen] == sorted(ts for ts, _, _ in seen)  # ties (same ms) split across pages
    assert sorted(seen) == sorted(
        (r["timestamp_ms"], r["event_id"], r["object_key"]) for r in all_rows(index)
    )
    # with a filter, the cursor composes with it
    only = index.snapshots(limit=1, since_ms=20)
    assert only.next is not None
    rest = index.snapshots(limit=10_000, since_ms=20, after=only.next)
    assert len(only.items) + len(rest.items) == len(all_rows(index, since_ms=20))


def test_bad_query_arguments_are_named(index: SnapshotIndex) -> None:
    with pytest.raises(ValidationError, match=r"^limit: must be an integer in \[1, 10000\]"):
        index.snapshots(limit=0)
    with pytest.raises(ValidationError, match=r"^after: must be a cursor"):
        index.snapshots(after="not-a-cursor!")


# --------------------------------------------------------------------------- migrations


def test_an_index_at_0001_is_upgraded_on_open_with_its_rows(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn, conn.begin():
        from alembic import command

        command.upgrade(migrations.config(conn), "0001")
        assert migrations.current(conn) == "0001"
        assert "hook_failures" not in sa.inspect(conn).get_table_names()
        conn.execute(
            sa.text(
                "INSERT INTO events (event_id, event_type, app_id, business_id, event_time, version, raw,"
                " received_at) VALUES ('old-1', 'SnapshotRealTimeData', 'app1', NULL, 't', 'v', '{\"x\": 1}', 9.5)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO snapshots (event_id, app_id, business_id, room_id, task_id, user_id, stream_type,"
                " stream_index, bucket, veimagex_service_id, object_key, veimagex_uri, format, width, height,"
                " size, timestamp_ms, received_at) VALUES ('old-1', 'app1', NULL, 'r', 't', 'u', 0, NULL, 'b',"
                " NULL, 'k.jpg', NULL, 0, 16, 16, 10, 1700000000000, 9.5)"
            )
        )
    engine.dispose()

    idx = SnapshotIndex(db_url)
    try:
        assert idx.count() == (1, 1)
        old = idx.event("old-1")
        assert old is not None and old["raw"] == '{"x": 1}' and old["hook_status"] == "pending"
        assert [r["object_key"] for r in all_rows(idx)] == ["k.jpg"]
        assert idx.store([snapshot_event("old-1"), snapshot_event("new-1")], received_at=10.0) == [
            False,
            True,
        ]
    finally:
        idx.close()
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head() == "0004"
        inspector = sa.inspect(conn)
        assert {"hook_failures", "events", "snapshots", "verdicts", "verdict_labels"} <= set(
            inspector.get_table_names()
        )
        assert {c["name"] for c in inspector.get_columns("hook_failures")} >= {
            "id",
            "event_id",
            "hook",
            "error",
            "attempts",
            "last_at",
        }
        assert "hook_status" in {c["name"] for c in inspector.get_columns("events")}
    engine.dispose()


def test_reopening_at_head_is_a_no_op(db_url: str) -> None:
    SnapshotIndex(db_url).close()
    idx = SnapshotIndex(db_url)
    idx.store([snapshot_event("x")], received_at=1.0)
    idx.close()
    idx = SnapshotIndex(db_url)
    assert idx.count() == (1, 1)
    idx.close()


def test_sqlite_index_is_a_wal_file(tmp_path: Path) -> None:
    path = tmp_path / "bare.db"
    idx = SnapshotIndex(str(path))  # a bare path is a SQLite file
    idx.store([snapshot_event("w")], received_at=1.0)
    assert idx.dialect == "sqlite"
    idx.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_unusable_urls_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unsupported database 'mysql'"):
        SnapshotIndex("mysql://u@localhost/db")
    with pytest.raises(ConfigurationError, match="in-memory"):
        SnapshotIndex("sqlite://")
    with pytest.raises(SnapshotIndexError, match="cannot open"):
        SnapshotIndex(str(tmp_path / "no" / "such" / "dir.db"))


# --------------------------------------------------------------------------- concurrency


def test_two_receivers_store_the_same_events_once(db_url: str) -> None:
    """Two SnapshotIndex objects (on PostgreSQL: two engines, as two receivers behind a load
    balancer) store overlapping, differently ordered batches of the same events from 8 threads."""
    first, second = SnapshotIndex(db_url), SnapshotIndex(db_url)
    items = [snapshot_event(f"dup-{n}", images=[("u", 0, n), ("v", 1, n)]) for n in range(120)]
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        idx = (first, second)[n % 2]
        mine = list(items)
        random.Random(n).shuffle(mine)
        try:
            start.wait()
            for k in range(0, len(mine), 15):
                got = idx.store(mine[k : k + 15], received_at=float(n))
                with lock:
                    results.extend(got)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(results) == 8 * 120 and results.count(True) == 120
        assert first.count() == second.count() == (120, 240)
    finally:
        first.close()
        second.close()


# --------------------------------------------------------------------------- group commit


def test_group_commit_batches_concurrent_submits(index: SnapshotIndex) -> None:
    committer = GroupCommitter(index, max_batch=1000)
    futures: list[tuple[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def worker(n: int) -> None:
        start.wait()
        for k in range(10):
            event_id = f"gc-{(n * 10 + k) % 150}"  # 200 submits, 150 distinct events
            future = committer.submit(*snapshot_event(event_id))
            with lock:
                futures.append((event_id, future))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    committer.close()
    assert len(futures) == 200
    outcomes = [(event_id, f.result(timeout=30)) for event_id, f in futures]
    new = [event_id for event_id, is_new in outcomes if is_new]
    assert sorted(new) == sorted(
        {event_id for event_id, _ in futures}
    )  # each distinct event new exactly once
    assert index.count() == (150, 150)
    assert 1 <= committer.commits < 200  # shared transactions, not one per submit


class GatedIndex:
    """The real index, with its first `store` held until the test releases it: what queues meanwhile
    shows how the committer batches (no timing involved)."""

    def __init__(self, inner: SnapshotIndex) -> None:
        self.inner = inner
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def store(self, batch: Any, received_at: float) -> list[bool]:
        self.sizes.append(len(batch))
        if len(self.sizes) == 1:
            self.entered.set()
            assert self.release.wait(30)
        return self.inner.store(batch, received_at)


def gated_committer(index: SnapshotIndex, **kwargs: Any) -> tuple[GatedIndex, GroupCommitter]:
    gate = GatedIndex(index)
    return gate, GroupCommitter(cast(SnapshotIndex, gate), **kwargs)


@pytest.mark.parametrize(("max_batch", "sizes"), [(1000, [1, 9]), (3, [1, 3, 3, 3])])
def test_what_queues_during_a_commit_is_the_next_batch(
    index: SnapshotIndex, max_batch: int, sizes: list[int]
) -> None:
    gate, committer = gated_committer(index, max_batch=max_batch)
    futures = [committer.submit(*snapshot_event("first"))]
    assert gate.entered.wait(30)
    futures += [committer.submit(*snapshot_event(f"mb-{n}")) for n in range(9)]
    assert not any(f.done() for f in futures)  # nothing resolves before its commit returned
    gate.release.set()
    committer.close()
    assert gate.sizes == sizes and committer.commits == len(sizes)
    assert [f.result() for f in futures] == [True] * 10


def test_async_waiters_share_a_batch_and_a_timed_out_one_is_still_committed(index: SnapshotIndex) -> None:
    """`submit_async`: futures of the caller's loop, settled after their commit; a waiter that gave
    up (cancelled, as a request's timeout does) never cancels the commit of its event."""
    gate, committer = gated_committer(index)

    async def scenario() -> tuple[list[bool], bool]:
        first = committer.submit_async(*snapshot_event("a-first"))
        assert await asyncio.to_thread(gate.entered.wait, 30)
        waiting = [committer.submit_async(*snapshot_event(f"a-{n}")) for n in range(5)]
        given_up = committer.submit_async(*snapshot_event("a-timed-out"))
        given_up.cancel()
        assert not any(f.done() for f in [first, *waiting])  # nothing settles before its commit
        gate.release.set()
        results = await asyncio.gather(first, *waiting)
        return results, given_up.cancelled()

    try:
        results, cancelled = asyncio.run(scenario())
    finally:
        committer.close()
    assert results == [True] * 6 and cancelled
    assert gate.sizes == [1, 6] and index.event("a-timed-out") is not None


def test_a_failed_commit_fails_its_whole_batch_and_never_reports_stored(
    index: SnapshotIndex, db_url: str
) -> None:
    """A batch holding one event the database refuses (a trigger) fails as a whole: the good events
    in it are reported failed too (their senders retry), and none of them was stored."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn, conn.begin():
        if index.dialect == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event_id LIKE 'bad%'"
                " BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF left(NEW.event_id, 3) = 'bad' THEN"
                " RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    engine.dispose()
    gate, committer = gated_committer(index)
    try:
        first = committer.submit(*snapshot_event("good-0"))
        assert gate.entered.wait(30)
        batch = [committer.submit(*snapshot_event(name)) for name in ("good-1", "bad-1", "good-2")]
        gate.release.set()
        assert first.result(timeout=30) is True
        for future in batch:
            exc = future.exception(timeout=30)
            assert isinstance(exc, SnapshotIndexError) and "nothing of this batch was stored" in str(exc)
        assert committer.commits == 1 and gate.sizes == [1, 3]
        assert index.count() == (1, 1) and index.event("good-1") is None

        retried = [committer.submit(*snapshot_event(name)) for name in ("good-1", "good-2")]  # senders retry
        assert [f.result(timeout=30) for f in retried] == [True, True]
        assert index.count() == (3, 3)
    finally:
        committer.close()


def test_a_closed_index_fails_the_batch(index: SnapshotIndex) -> None:
    committer = GroupCommitter(index)
    assert committer.submit(*snapshot_event("before")).result(timeout=30) is True
    index.close()
    future = committer.submit(*snapshot_event("after"))
    assert isinstance(future.exception(timeout=30), SnapshotIndexError)
    committer.close()
    with pytest.raises(SnapshotIndexError, match="closed"):
        committer.submit(*snapshot_event("late"))


DURABILITY_CHILD = textwrap.dedent(
    """
    import json, sys, threading
    from rtcsnap.callbacks.index import GroupCommitter, SnapshotIndex
    from rtcsnap.callbacks.records import parse_body, parse_event, snapshot_records
    from rtcsnap.protocol import callback_signature as cbsig

    committer = GroupCommitter(SnapshotIndex(sys.argv[1]))
    out = threading.Lock()

    def sender(n):
        for k in range(10**9):
            image = cbsig.ImageRecord(user_id="u", stream_type=0, object_key=f"{n}/{k}.jpg", format=0,
                                      width=16, height=16, size=1, timestamp_ms=k)
            data = cbsig.snapshot_event_data(app_id="a", business_id=None, room_id="r", task_id="t",
                                             bucket="b", images=[image])
            env = cbsig.envelope(cbsig.EVENT_SNAPSHOT, data, app_id="a", version="v", secret="durable-secret",
                                 event_id=f"d-{n}-{k}")
            raw = json.dumps(env)
            event = parse_event(parse_body(raw.encode()), raw)
            if committer.submit(event, snapshot_records(event)).result():
                with out:
                    print(event.event_id, flush=True)

    for n in range(8):
        threading.Thread(target=sender, args=(n,), daemon=True).start()
    threading.Event().wait()
    """
)


def test_every_acknowledged_event_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    child = subprocess.Popen(
        [sys.executable, "-c", DURABILITY_CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    try:
        for line in child.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) == 400:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        rest, err = child.communicate(timeout=30)
    assert len(acknowledged) == 400, err
    acknowledged += [line for line in rest.split("\n")[:-1] if line]  # whole lines printed before the kill
    assert child.returncode == -signal.SIGKILL

    idx = SnapshotIndex(str(path))
    try:
        missing = [event_id for event_id in acknowledged if idx.event(event_id) is None]
        assert missing == []
        assert idx.count()[0] >= len(acknowledged)
    finally:
        idx.close()
