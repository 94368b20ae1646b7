"""Verdicts of analysis plugins in the index (migration 0003), on SQLite and PostgreSQL: the upsert a
replayed hook relies on (row and labels replaced, in one transaction), lookup by row id or by the
record a hook was given, the `--flagged` / `--label` filters in SQL, and a hook recording through
the `index` argument it is handed, live and on replay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from rtcsnap import secrets
from rtcsnap.callbacks import index as index_module
from rtcsnap.callbacks import migrations
from rtcsnap.callbacks.hooks import HookRunner
from rtcsnap.callbacks.index import SnapshotIndex, SnapshotIndexError
from rtcsnap.callbacks.records import SnapshotRecord
from rtcsnap.callbacks.verdicts import MAX_REASON
from rtcsnap.errors import ValidationError
from rtcsnap.hookspecs import hookimpl

from tests.callbacks.test_index import all_rows, snapshot_event

T0 = 1_700_000_000_000


@pytest.fixture
def index(db_url: str) -> Iterator[SnapshotIndex]:
    idx = SnapshotIndex(db_url)
    yield idx
    idx.close()


def fill(index: SnapshotIndex, n: int = 4) -> list[dict[str, Any]]:
    """`n` images of one event (users u0…), oldest first; their rows."""
    index.store([snapshot_event("ev-1", images=[(f"u{i}", 0, T0 + i) for i in range(n)])], received_at=1.0)
    return all_rows(index)


def judge(index: SnapshotIndex, snapshot: int | SnapshotRecord, **kw: Any) -> int:
    source = kw.pop("source", "moderation")
    args: dict[str, Any] = {
        "status": "ok",
        "flagged": False,
        "fired": [],
        "labels": [],
        "details": {"findings": []},
        **kw,
    }
    return index.record_verdict(snapshot, source, **args)


def test_a_verdict_is_stored_and_read_back(index: SnapshotIndex) -> None:
    rows = fill(index, 1)
    sid = rows[0]["id"]
    assert isinstance(sid, int)
    details = {"findings": [{"detector": "text", "lines": ["买枪"], "boxes": [[1, 2, 3, 4]]}]}
    got = index.record_verdict(
        sid,
        "moderation",
        status="partial",
        flagged=True,
        fired=["text.weapons"],
        labels=["weapons", "text", "weapons"],
        details=details,
        error="nudity: model failed",
        reason="text.weapons (买枪)\n  second line",
        at=42.5,
    )
    assert got == sid
    assert index.verdicts() == [
        {
            "snapshot_id": sid,
            "source": "moderation",
            "status": "partial",
            "flagged": True,
            "fired": ["text.weapons"],
            "labels": ["text", "weapons"],  # deduplicated, sorted
            "reason": "text.weapons (买枪) second line",  # one line
            "details": details,
            "error": "nudity: model failed",
            "created_at": 42.5,
        }
    ]


def test_recording_again_replaces_the_row_and_its_labels(index: SnapshotIndex) -> None:
    sid = fill(index, 1)[0]["id"]
    judge(index, sid, flagged=True, fired=["a"], labels=["x", "y"], at=1.0)
    judge(index, sid, flagged=False, fired=[], labels=["z"], details='{"v": 2}', at=2.0)
    [verdict] = index.verdicts(snapshot_id=sid)
    assert (verdict["flagged"], verdict["fired"], verdict["labels"]) == (False, [], ["z"])
    assert (verdict["details"], verdict["created_at"]) == ({"v": 2}, 2.0)
    assert all_rows(index, label="x") == []  # the old labels are gone, not merged
    judge(index, sid, source="thumbnails", labels=["x"])  # another source: a row of its own
    assert [v["source"] for v in index.verdicts(snapshot_id=sid)] == ["moderation", "thumbnails"]
    assert [v["source"] for v in index.verdicts(source="thumbnails")] == ["thumbnails"]


def test_a_failed_replacement_keeps_the_old_verdict(
    index: SnapshotIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row and labels are one transaction: the labels' write failing after the row's upsert
    leaves the previous verdict, whole."""
    sid = fill(index, 1)[0]["id"]
    judge(index, sid, flagged=True, labels=["old"], at=1.0)
    broken = sa.Table(
        "no_such_table", sa.MetaData(), *(sa.Column(c.name, c.type) for c in index_module.verdict_labels.c)
    )
    monkeypatch.setattr(index_module, "verdict_labels", broken)
    with pytest.raises(SnapshotIndexError, match="verdict not stored"):
        judge(index, sid, flagged=False, labels=["new"], at=2.0)
    monkeypatch.undo()
    [verdict] = index.verdicts()
    assert (verdict["flagged"], verdict["labels"], verdict["created_at"]) == (True, ["old"], 1.0)


def test_a_hook_records_against_the_record_it_was_given(index: SnapshotIndex) -> None:
    event, records = snapshot_event("ev-r", images=[("alice", 0, T0), ("bob", 1, T0 + 1)])
    index.store([(event, records)], received_at=1.0)
    rows = {r["user_id"]: r["id"] for r in all_rows(index)}
    assert index.snapshot_id(records[1]) == rows["bob"]
    assert judge(index, records[1], flagged=True) == rows["bob"]
    assert [v["snapshot_id"] for v in index.verdicts()] == [rows["bob"]]
    stranger = SnapshotRecord(**{**vars(records[0]), "user_id": "mallory"})
    assert index.snapshot_id(stranger) is None
    with pytest.raises(SnapshotIndexError, match="no snapshot row"):
        judge(index, stranger)
    with pytest.raises(SnapshotIndexError, match="no snapshot with id 999999"):
        judge(index, 999_999)


@pytest.mark.parametrize(
    ("kw", "path"),
    [
        ({"status": "maybe"}, "status"),
        ({"flagged": 1}, "flagged"),
        ({"fired": "text.weapons"}, "fired"),
        ({"labels": ["ok", ""]}, "labels[1]"),
        ({"labels": ["x" * 256]}, "labels[0]"),
        ({"details": "[1, 2]"}, "details"),
        ({"details": {"when": object()}}, "details"),
        ({"source": ""}, "source"),
        ({"reason": ["text.weapons"]}, "reason"),
    ],
)
def test_bad_verdicts_are_refused_naming_the_argument(
    index: SnapshotIndex, kw: dict[str, Any], path: str
) -> None:
    sid = fill(index, 1)[0]["id"]
    with pytest.raises(ValidationError) as caught:
        judge(index, sid, **kw)
    assert caught.value.paths == [path]
    assert index.verdicts() == []


def test_a_reason_is_one_redacted_bounded_line_and_optional(index: SnapshotIndex) -> None:
    sid = fill(index, 1)[0]["id"]
    secrets.register("reason-secret-7c1e")
    judge(index, sid, flagged=True, reason="matched reason-secret-7c1e " + "x" * 2000)
    [verdict] = index.verdicts()
    assert "reason-secret-7c1e" not in verdict["reason"] and len(verdict["reason"]) == MAX_REASON
    judge(index, sid, flagged=False)  # the replacement gives none: none is kept
    assert index.verdicts()[0]["reason"] is None


def test_flagged_and_label_filter_in_sql_and_paginate(index: SnapshotIndex) -> None:
    ids = [r["id"] for r in fill(index, 6)]
    judge(index, ids[0], flagged=True, labels=["nudity"])
    judge(index, ids[1], flagged=False, labels=["nudity"])  # labelled, not flagged
    judge(index, ids[2], flagged=True, labels=["weapons"])
    judge(index, ids[3], source="thumbnails", labels=["nudity"])
    judge(index, ids[3], flagged=True, labels=["weapons"])  # flagged by another verdict
    judge(index, ids[5], flagged=True, labels=["nudity", "weapons"])

    def picked(**filters: Any) -> list[int]:
        return [ids.index(r["id"]) for r in all_rows(index, **filters)]

    assert picked(flagged=True) == [0, 2, 3, 5]
    assert picked(flagged=False) == [1, 4]  # no verdict flags them; 4 has none at all
    assert picked(label="nudity") == [0, 1, 3, 5]
    assert picked(flagged=True, label="nudity") == [0, 5]  # 3's nudity verdict did not flag it
    assert picked(flagged=False, label="nudity") == [1]
    assert picked(label="none") == []
    seen, after = [], None
    while True:  # keyset pages through the filter: each flagged image once
        page = index.snapshots(flagged=True, limit=1, after=after)
        seen += [ids.index(r["id"]) for r in page.items]
        if page.next is None:
            break
        after = page.next
    assert seen == [0, 2, 3, 5]


def test_with_verdicts_adds_each_rows_verdicts(index: SnapshotIndex) -> None:
    ids = [r["id"] for r in fill(index, 2)]
    judge(index, ids[0], source="thumbnails", labels=["small"])
    judge(index, ids[0], flagged=True, fired=["text.weapons"])
    rows = all_rows(index, with_verdicts=True)
    assert [[v["source"] for v in r["verdicts"]] for r in rows] == [["moderation", "thumbnails"], []]
    assert rows[0]["verdicts"][0]["fired"] == ["text.weapons"]
    assert "verdicts" not in all_rows(index)[0]  # only when asked for


def test_an_index_at_0003_is_upgraded_keeping_its_verdicts(db_url: str) -> None:
    """0004 adds `reason` in place: an index taken back to 0003 (its downgrade drops the column)
    opens again at 0004 with its verdicts whole, reason None."""
    idx = SnapshotIndex(db_url)
    try:
        sid = fill(idx, 1)[0]["id"]
        judge(idx, sid, flagged=True, fired=["r"], labels=["x"], reason="r (seen)")
    finally:
        idx.close()
    engine = sa.create_engine(db_url)
    with engine.connect() as conn, conn.begin():
        from alembic import command

        command.downgrade(migrations.config(conn), "0003")
        assert "reason" not in {c["name"] for c in sa.inspect(conn).get_columns("verdicts")}
    engine.dispose()
    idx = SnapshotIndex(db_url)
    try:
        [verdict] = idx.verdicts()
        assert (verdict["snapshot_id"], verdict["fired"], verdict["labels"]) == (sid, ["r"], ["x"])
        assert verdict["reason"] is None
        judge(idx, sid, flagged=True, reason="r (again)")
        assert idx.verdicts()[0]["reason"] == "r (again)"
    finally:
        idx.close()


def test_an_index_at_0002_is_upgraded_keeping_its_rows(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn, conn.begin():
        from alembic import command

        command.upgrade(migrations.config(conn), "0002")
        assert "verdicts" not in sa.inspect(conn).get_table_names()
    engine.dispose()
    idx = SnapshotIndex(db_url)
    try:
        sid = fill(idx, 1)[0]["id"]
        judge(idx, sid, flagged=True, labels=["x"])
        assert [r["id"] for r in all_rows(idx, flagged=True, label="x")] == [sid]
    finally:
        idx.close()
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head() == "0004"
        inspector = sa.inspect(conn)
        assert {c["name"] for c in inspector.get_columns("verdicts")} == {
            "reason",
            "id",
            "snapshot_id",
            "source",
            "status",
            "flagged",
            "error",
            "fired",
            "details",
            "created_at",
        }
        assert any(ix["column_names"][0] == "label" for ix in inspector.get_indexes("verdict_labels"))
        unique = inspector.get_unique_constraints("verdicts")
        assert [u["column_names"] for u in unique] == [["snapshot_id", "source"]]
    engine.dispose()


class Analyser:
    """An analysis plugin as a plugin author writes one: it judges each image and records the verdict
    through the `index` argument (user u1's images are flagged)."""

    __name__ = "analyser"

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def rtcsnap_snapshot_received(self, record: SnapshotRecord, index: SnapshotIndex) -> None:
        self.calls += 1
        bad = record.user_id == "u1"
        index.record_verdict(
            record,
            self.__name__,
            status="ok",
            flagged=bad,
            fired=["rule.u1"] if bad else [],
            labels=["u1"] if bad else [],
            details={"calls": self.calls},
        )


def test_a_hook_records_verdicts_live_and_a_replay_replaces_them(index: SnapshotIndex) -> None:
    plugin = Analyser()
    runner = HookRunner(index, plugins=[plugin])
    try:
        event, records = snapshot_event("ev-h", images=[("u0", 0, T0), ("u1", 0, T0 + 1)])
        index.store([(event, records)], received_at=1.0)
        assert runner.submit(event.event_id, records)
        assert runner.wait_idle(10)
        assert [r["user_id"] for r in all_rows(index, flagged=True, label="u1")] == ["u1"]
        index.set_hook_status([event.event_id], "pending")  # as if the outcome had been lost
        assert runner.replay().replayed == 1
    finally:
        runner.close()
    verdicts = index.verdicts(source="analyser")
    assert len(verdicts) == 2 and plugin.calls == 4  # judged twice, stored once per image
    assert sorted(v["details"]["calls"] for v in verdicts) == [3, 4]
    assert index.hook_failures() == []
