"""`rtcsnap snapshots list` and `replay-hooks`, run as a user would, over a real SQLite index filled
through `SnapshotIndex.store`: every filter, the time range in ms and ISO, JSON lines, pagination
beyond one page, --limit, the table, usage errors (exit 2), and the verdicts of analysis plugins
(--flagged, --label, the VERDICT column, `verdicts` in JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rtcsnap.callbacks.index import RECORD_FIELDS, SnapshotIndex

from tests.callbacks.test_index import snapshot_event
from tests.conftest import run_cli

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "index.db"
    idx = SnapshotIndex(str(path))
    try:
        idx.store(
            [
                snapshot_event(
                    "ev-1", app="app1", room="r1", task="t1", images=[("alice", 0, T0), ("bob", 1, T0 + 1)]
                ),
                snapshot_event("ev-2", app="app1", room="r1", task="t2", images=[("alice", 0, T0 + 2)]),
                snapshot_event("ev-3", app="app1", room="r2", task="t1", images=[("carol", 1, T0 + 3)]),
                snapshot_event("ev-4", app="app2", room="r1", task="t1", images=[("alice", 0, T0 + 4)]),
            ],
            received_at=1234.5,
        )
    finally:
        idx.close()
    return str(path)


def listed(db: str, *args: str) -> list[dict[str, Any]]:
    r = run_cli("snapshots", "list", "--db", db, "--json", *args)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def times(db: str, *args: str) -> list[int]:
    return [item["timestamp_ms"] - T0 for item in listed(db, *args)]


def test_json_lines_carry_every_record_field(db: str) -> None:
    items = listed(db)
    assert [i["timestamp_ms"] - T0 for i in items] == [0, 1, 2, 3, 4]
    assert set(items[0]) == {*RECORD_FIELDS, "received_at", "id", "verdicts"}
    assert items[0]["verdicts"] == [] and len({i["id"] for i in items}) == 5
    first = items[0]
    assert (first["event_id"], first["app_id"], first["room_id"], first["task_id"]) == (
        "ev-1",
        "app1",
        "r1",
        "t1",
    )
    assert (first["user_id"], first["stream_type"], first["width"], first["height"]) == ("alice", 0, 640, 360)
    assert first["object_key"] == f"app1/r1/t1/alice/0/{T0}.jpg" and first["received_at"] == 1234.5


def test_every_filter(db: str) -> None:
    assert times(db, "--app-id", "app2") == [4]
    assert times(db, "--room-id", "r2") == [3]
    assert times(db, "--task-id", "t1") == [0, 1, 3, 4]
    assert times(db, "--user-id", "alice") == [0, 2, 4]
    assert times(db, "--stream-type", "1") == [1, 3]
    assert times(db, "--app-id", "app1", "--task-id", "t1", "--stream-type", "0") == [0]
    assert times(db, "--user-id", "nobody") == []


def test_time_range_in_ms_and_iso_is_half_open(db: str) -> None:
    assert times(db, "--since", str(T0 + 1), "--until", str(T0 + 3)) == [1, 2]
    assert times(db, "--since", "2023-11-14T22:13:20.002Z") == [2, 3, 4]
    assert times(db, "--until", "2023-11-15T06:13:20.001+08:00") == [0]  # the same instant, an offset
    assert times(db, "--since", "2023-11-14T22:13:20.003") == [3, 4]  # no zone: UTC


def test_pagination_beyond_one_page_and_limit(db: str) -> None:
    assert times(db, "--page-size", "2") == [0, 1, 2, 3, 4]  # three pages, each record once
    assert times(db, "--page-size", "1", "--task-id", "t1") == [0, 1, 3, 4]
    assert times(db, "--page-size", "2", "--limit", "3") == [0, 1, 2]
    assert times(db, "--limit", "1") == [0]


def test_table_output(db: str) -> None:
    r = run_cli("snapshots", "list", "--db", db, "--page-size", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:5] == ["TIME", "APP", "ROOM", "TASK", "USER"]
    assert sum("TIME" in line for line in lines) == 1  # one header across pages
    rows = [line for line in lines[1:] if line.strip()]
    assert len(rows) == 5
    assert rows[0].split()[:5] == ["2023-11-14T22:13:20.000Z", "app1", "r1", "t1", "alice"]
    assert f"app1/r1/t1/bob/1/{T0 + 1}.jpg" in rows[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "--since"),
        (("--until", "2023-13-01"), "--until"),
        (("--since", str(T0 + 5), "--until", str(T0)), "must be before --until"),
        (("--stream-type", "2"), "--stream-type"),
    ],
)
def test_bad_options_are_one_line_usage_errors(db: str, args: tuple[str, ...], message: str) -> None:
    r = run_cli("snapshots", "list", "--db", db, *args)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_replay_hooks_without_hook_plugins_marks_events_done(db: str) -> None:
    idx = SnapshotIndex(db)
    try:
        idx.record_hook_failure("ev-4", "gone-plugin", "E: x", 1.0)
        idx.set_hook_status(["ev-4"], "failed")
    finally:
        idx.close()
    no_plugins = {"RTCSNAP_LOAD_PLUGINS": ""}  # whatever hook plugins this environment has installed
    r = run_cli("snapshots", "replay-hooks", "--db", db, "--app-id", "app1", "--json", env=no_plugins)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"replayed": 3, "succeeded": 3, "still_failing": 0}
    r = run_cli(
        "snapshots", "replay-hooks", "--db", db, env=no_plugins
    )  # ev-4's failed hook is not installed
    assert r.returncode == 1 and "replayed 1 events" in r.stdout and "1 still failing" in r.stdout
    idx = SnapshotIndex(db)
    try:
        assert [idx.event(e)["hook_status"] for e in ("ev-1", "ev-2", "ev-3", "ev-4")] == [  # type: ignore[index]
            "done",
            "done",
            "done",
            "failed",
        ]
    finally:
        idx.close()


@pytest.fixture
def judged(db: str) -> str:
    """`db` with verdicts: T0+1 flagged by moderation (labels nudity, weapons), T0+2 judged ok, T0+3
    flagged for weapons only, and a thumbnails verdict (not flagged) on T0+1."""
    idx = SnapshotIndex(db)
    try:
        ids = {row["timestamp_ms"] - T0: row["id"] for row in idx.snapshots().items}
        for n, flagged, fired, labels in [
            (1, True, ["nudity.exposed", "text.weapons"], ["nudity", "weapons"]),
            (2, False, [], ["nudity"]),
            (3, True, ["text.weapons"], ["weapons"]),
        ]:
            idx.record_verdict(
                ids[n],
                "moderation",
                status="ok",
                flagged=flagged,
                fired=fired,
                labels=labels,
                details={"findings": [{"detector": "text", "text": ["买枪"]}]},
            )
        idx.record_verdict(
            ids[1],
            "thumbnails",
            status="error",
            flagged=False,
            fired=[],
            labels=[],
            details={},
            error="no space",
        )
    finally:
        idx.close()
    return db


def test_flagged_and_label_filter_the_listing(judged: str) -> None:
    assert times(judged, "--flagged") == [1, 3]
    assert times(judged, "--label", "nudity") == [1, 2]
    assert times(judged, "--flagged", "--label", "nudity") == [1]
    assert times(judged, "--flagged", "--label", "weapons", "--page-size", "1") == [1, 3]
    assert times(judged, "--flagged", "--app-id", "app2") == []


def test_json_lines_carry_each_images_verdicts(judged: str) -> None:
    items = {i["timestamp_ms"] - T0: i for i in listed(judged)}
    assert items[0]["verdicts"] == []  # always present
    moderation, thumbnails = items[1]["verdicts"]
    assert moderation == {
        "source": "moderation",
        "status": "ok",
        "flagged": True,
        "fired": ["nudity.exposed", "text.weapons"],
        "labels": ["nudity", "weapons"],
        "reason": None,
        "details": {"findings": [{"detector": "text", "text": ["买枪"]}]},
        "error": None,
    }
    assert (thumbnails["source"], thumbnails["status"], thumbnails["error"]) == (
        "thumbnails",
        "error",
        "no space",
    )


def test_the_table_gains_a_verdict_column_when_the_index_has_verdicts(db: str, judged: str) -> None:
    r = run_cli("snapshots", "list", "--db", judged, "--page-size", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[-1] == "VERDICT"
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert rows["2023-11-14T22:13:20.000Z"].endswith(" -")
    assert rows["2023-11-14T22:13:20.001Z"].endswith(
        "moderation: flagged nudity.exposed,text.weapons; thumbnails: error"
    )
    assert rows["2023-11-14T22:13:20.002Z"].endswith("moderation: ok")


def test_no_verdict_column_without_verdicts(db: str) -> None:
    r = run_cli("snapshots", "list", "--db", db)
    assert r.returncode == 0 and "VERDICT" not in r.stdout
