"""The snapshot engine end to end over HTTP, on a manual clock: StartSnapshot through the signed
client, images stored through the provider on a local server, signed callbacks to a recorder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from rtcsnap.emulator import TaskKey
from rtcsnap.emulator.control import PREFIX
from rtcsnap.models import TaskStatus

from tests.engine.helpers import RecordingUploader, decode, events, images, rooms_file, series, stored

IDS = {"app_id": "app1", "room_id": "room1"}


def start(svc: Any, task_id: str = "t1", kind: str = "s3", **fields: Any) -> None:
    with svc.client() as client:
        client.start(**IDS, task_id=task_id, storage=svc.target(kind), **fields)


def control(svc: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{svc.url}{PREFIX}/rooms/app1/room1/{path}", json=body, timeout=10)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_every_stream_every_interval_stored_and_announced(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path))
    start(svc, image_config={"format": 0, "width": 800, "height": 800, "interval": 2})
    t0 = int(svc.clock() * 1000)
    svc.advance(0)
    svc.advance(10)
    assert svc.settle()
    # one series per stream in the room (TargetStreams empty = all), one image per 2 s from t0
    expected = [t0 + 2000 * k for k in range(6)]
    assert series(svc) == {("alice", 0): expected, ("bob", 0): expected, ("bob", 1): expected}
    objects = stored(svc, "s3")
    found = images(svc)
    assert len(found) == 18 and sorted(objects) == sorted(i["ObjectKey"] for i in found)
    sizes = {("alice", 0): (800, 450), ("bob", 0): (800, 600), ("bob", 1): (800, 450)}
    for item in found:
        event = item["event"]
        assert event["EventData"]["Bucket"] == svc.buckets["s3"] and event["Version"] == "2023-11-01"
        assert event["EventData"]["TaskId"] == "t1" and event["AppId"] == "app1"
        image = decode(objects[item["ObjectKey"]])
        assert image.format == "JPEG" and item["Format"] == 0
        assert (
            (item["Width"], item["Height"])
            == image.size
            == sizes[(item["Stream"]["UserId"], item["Stream"]["StreamType"])]
        )
        assert item["Size"] == len(objects[item["ObjectKey"]])
    # consecutive images of a stream differ (the pattern moves, the clock ticks)
    alice = sorted((i for i in found if i["Stream"]["UserId"] == "alice"), key=lambda i: i["TimeStamp"])
    assert len({objects[i["ObjectKey"]] for i in alice}) == len(alice)
    assert len({e["EventId"] for e in events(svc)}) == 18


def test_target_streams_camera_off_and_late_publishers(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path))
    start(
        svc,
        "named",
        target_streams=[{"user_id": "alice"}, {"user_id": "carol"}],
        image_config={"interval": 1},
    )
    start(svc, "all", image_config={"interval": 1})
    t0 = int(svc.clock() * 1000)
    svc.advance(0)
    svc.advance(2)  # alice at t0, +1, +2
    control(svc, "users/alice/camera", {"stream_type": 0, "on": False})
    svc.advance(2)  # camera off: no alice images at +3, +4
    control(svc, "users/alice/camera", {"stream_type": 0, "on": True})
    control(svc, "users/carol/publish", {"stream_type": 0, "width": 320, "height": 240})
    svc.advance(1)  # +5: alice again, and carol, who joined late
    assert svc.settle()
    by_task: dict[str, dict[tuple[str, int], list[int]]] = {}
    for item in images(svc):
        task = item["event"]["EventData"]["TaskId"]
        key = (item["Stream"]["UserId"], item["Stream"]["StreamType"])
        by_task.setdefault(task, {}).setdefault(key, []).append(item["TimeStamp"] - t0)
    named = {k: sorted(v) for k, v in by_task["named"].items()}
    assert named == {("alice", 0): [0, 1000, 2000, 5000], ("carol", 0): [5000]}
    everyone = {k: sorted(v) for k, v in by_task["all"].items()}
    assert everyone[("alice", 0)] == [0, 1000, 2000, 5000]
    assert everyone[("bob", 1)] == [0, 1000, 2000, 3000, 4000, 5000]
    assert everyone[("carol", 0)] == [5000]


def test_idle_timeout_stops_the_task(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path))
    start(svc, target_streams=[{"user_id": "alice"}], max_idle_time=10, image_config={"interval": 1})
    t0 = svc.clock()
    svc.advance(0)
    svc.advance(3)
    control(svc, "users/alice/unpublish", {"stream_type": 0})  # at t0 + 3
    svc.advance(9.5)
    with svc.client() as client:
        assert client.get_task(**IDS, task_id="t1").task.status is TaskStatus.RUNNING
    svc.advance(1)  # past t0 + 3 + 10
    assert svc.settle()
    with svc.client() as client:
        task = client.get_task(**IDS, task_id="t1").task
    assert task.status is TaskStatus.STOPPED and task.stop_reason == "IdleTimeOut"
    assert abs(task.end_time / 1000 - (t0 + 13)) < 0.01
    assert series(svc) == {("alice", 0): [int(t0 * 1000) + 1000 * k for k in range(4)]}


def test_idle_timeout_counts_from_the_start_in_an_empty_room(make_snapshot_service) -> None:
    svc = make_snapshot_service()
    start(svc, max_idle_time=10)
    svc.advance(9)
    with svc.client() as client:
        assert client.get_task(**IDS, task_id="t1").task.status is TaskStatus.RUNNING
    svc.advance(2)
    with svc.client() as client:
        assert client.get_task(**IDS, task_id="t1").task.stop_reason == "IdleTimeOut"


def test_update_changes_the_cadence_at_once_and_stop_ends_it(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path))
    start(svc, target_streams=[{"user_id": "alice"}], image_config={"interval": 10})
    t0 = int(svc.clock() * 1000)
    svc.advance(0)
    svc.advance(3)
    with svc.client() as client:
        client.update(**IDS, task_id="t1", image_config={"interval": 1})  # at +3: due now (0 + 1 < 3)
        svc.advance(0)
        svc.advance(2.5)
        assert client.get_task(**IDS, task_id="t1").task.image_config.interval == 1
        client.stop(**IDS, task_id="t1")
        svc.advance(20)
        assert client.get_task(**IDS, task_id="t1").task.stop_reason == "StopByAPI"
    assert svc.settle()
    assert [t - t0 for t in series(svc)[("alice", 0)]] == [0, 3000, 4000, 5000]


def test_stop_lets_an_upload_in_flight_finish(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path), uploader_class=RecordingUploader)
    uploader = svc.uploader
    assert isinstance(uploader, RecordingUploader)
    uploader.gate.clear()
    start(svc, target_streams=[{"user_id": "alice"}])
    svc.advance(0)
    assert uploader.entered.acquire(timeout=10), svc.engine.task_status()  # the put has begun, held
    with svc.client() as client:
        assert client.stop(**IDS, task_id="t1").outcome == "stopped"  # answered while it uploads
    svc.advance(10)  # no new captures after the stop
    uploader.gate.set()
    assert svc.settle()
    status = svc.engine.task_status()
    assert len(uploader.sent) == 1, status
    assert len(images(svc)) == 1, (
        status,
        svc.emulator.engine.callbacks.stats if svc.emulator.engine else None,
    )
    assert sorted(stored(svc, "s3")) == sorted(uploader.sent)


def test_failed_uploads_are_retried_then_backed_up_none_missing(
    make_snapshot_service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backup = tmp_path / "backup"
    svc = make_snapshot_service(rooms=rooms_file(tmp_path), storage=["oss"], backup_dir=backup)
    faults = svc.storage["oss"].server.faults
    start(svc, kind="oss", target_streams=[{"user_id": "alice"}], image_config={"interval": 1})
    try:
        # 3 attempts per image: the first image fails all three, the second once and then lands
        faults.fail("PUT", "alice_0_", status=503, times=4, code="ServiceUnavailable")
        svc.advance(0)
        assert svc.settle()
        svc.advance(1)
        assert svc.settle()
        svc.advance(3)
        with caplog.at_level(logging.WARNING):
            assert svc.settle()
    finally:
        faults.clear()
    status = svc.engine.status(TaskKey("app1", "room1", "t1"))
    assert status is not None
    assert status["images"] == 5 and status["uploaded"] == 4 and status["backed_up"] == 1
    assert status["upload_retries"] == 3  # two retries of the first image, one of the second
    kept = sorted(p.relative_to(backup).as_posix() for p in backup.rglob("*.jpg"))
    assert kept == [f["key"] for f in status["failures"]] and len(kept) == 1
    assert decode((backup / kept[0]).read_bytes()).format == "JPEG"
    announced = {i["ObjectKey"] for i in images(svc)}
    assert announced == set(stored(svc, "oss"))
    # every captured image is either in the bucket or in the backup folder
    assert len(announced | set(kept)) == status["images"] and not announced & set(kept)
    assert any(kept[0] in r.getMessage() for r in caplog.records)


def test_an_engine_behind_schedule_skips_missed_times(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path))
    start(svc, target_streams=[{"user_id": "alice"}], image_config={"interval": 1})
    t0 = int(svc.clock() * 1000)
    svc.advance(0)
    svc.clock.advance(4.5)  # the engine was stalled for 4.5 s: due times +1 … +4 have passed
    svc.advance(0)
    assert svc.settle()
    assert [t - t0 for t in series(svc)[("alice", 0)]] == [0, 4500]  # one late image, no burst
    status = svc.engine.status(TaskKey("app1", "room1", "t1"))
    assert (
        status is not None
        and status["skipped_ticks"] == 3
        and status["lag_ms"]["max"] == pytest.approx(500, abs=1)
    )
    svc.advance(0.5)  # back on the fixed grid: +5
    assert svc.settle()
    assert [t - t0 for t in series(svc)[("alice", 0)]] == [0, 4500, 5000]


def test_without_a_backup_folder_a_lost_image_is_reported_not_silent(
    make_snapshot_service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path), storage=["oss"], upload_attempts=1)
    faults = svc.storage["oss"].server.faults
    start(svc, kind="oss", target_streams=[{"user_id": "alice"}])
    faults.fail("PUT", "alice_0_", status=503, times=1, code="ServiceUnavailable")
    try:
        with caplog.at_level(logging.ERROR):
            svc.advance(0)
            assert svc.settle()
    finally:
        faults.clear()
    status = svc.engine.status(TaskKey("app1", "room1", "t1"))
    assert status is not None and status["dropped"] == 1 and status["uploaded"] == 0
    (failure,) = status["failures"]
    assert (failure["backup"] == "" and "503" in failure["reason"]) or "ServiceUnavailable" in failure[
        "reason"
    ]
    assert any(failure["key"] in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert images(svc) == []  # nothing announced for an image that was not stored
    r = httpx.get(f"{svc.url}{PREFIX}/tasks", timeout=10)
    assert r.status_code == 200 and r.json()["tasks"][0]["dropped"] == 1


def test_a_video_publisher_is_decoded_and_looped_into_images(make_snapshot_service, tmp_path: Path) -> None:
    from tests.emulator.test_sources import COLOURS, FPS, index_of, make_video

    clip = make_video(tmp_path / "clip.mp4")  # one distinct colour per frame at FPS frames/s
    svc = make_snapshot_service()
    control(svc, "users/dave/publish", {"stream_type": 0, "source": str(clip)})
    start(svc, image_config={"format": 1, "interval": 1})
    svc.advance(0)
    svc.advance(len(COLOURS) // FPS + 1)  # past the clip's end: it loops
    assert svc.settle()
    found = sorted(images(svc), key=lambda i: i["TimeStamp"])
    objects = stored(svc, "s3")
    shown = [index_of(decode(objects[i["ObjectKey"]])) for i in found]
    # frame k·Interval of a loop of len(COLOURS) frames at FPS frames/s
    assert shown == [(k * FPS) % len(COLOURS) for k in range(len(found))], shown
    assert decode(objects[found[0]["ObjectKey"]]).format == "PNG"
