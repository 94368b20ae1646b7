"""The scheduler on the real clock: images at the configured interval (±10 % over 10 intervals)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from rtcsnap.emulator import TaskKey
from rtcsnap.emulator.engine import EngineConfig

from tests.engine.helpers import RecordingUploader, decode, images, rooms_file, stored

pytestmark = pytest.mark.slow


def test_real_clock_cadence(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path), manual=False)
    with svc.client() as client:
        client.start(
            app_id="app1",
            room_id="room1",
            task_id="t1",
            storage=svc.target("s3"),
            image_config={"format": 0, "width": 640, "height": 0, "interval": 1},
        )
        assert svc.callbacks.wait_for(3 * 11, timeout=30)  # 11 images per stream span 10 intervals
        client.stop(app_id="app1", room_id="room1", task_id="t1")
    assert svc.settle()
    found = images(svc)
    objects = stored(svc, "s3")
    by_stream: dict[tuple[str, int], list[int]] = {}
    for item in found:
        by_stream.setdefault((item["Stream"]["UserId"], item["Stream"]["StreamType"]), []).append(
            item["TimeStamp"]
        )
        assert decode(objects[item["ObjectKey"]]).size == (item["Width"], item["Height"])
        assert item["Width"] == 640
    assert set(by_stream) == {("alice", 0), ("bob", 0), ("bob", 1)}
    for stamps in by_stream.values():
        stamps.sort()
        span = stamps[10] - stamps[0]
        assert 9000 <= span <= 11000, stamps
        assert all(900 <= b - a <= 1100 for a, b in itertools.pairwise(stamps[:11])), stamps


def test_captures_a_whole_interval_late_are_skipped_not_queued(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(
        rooms=rooms_file(tmp_path),
        manual=False,
        uploader_class=RecordingUploader,
        engine=EngineConfig(workers=1),
    )
    uploader = svc.uploader
    uploader.gate.clear()
    key = TaskKey("app1", "room1", "t1")
    with svc.client() as client:
        client.start(
            app_id="app1",
            room_id="room1",
            task_id="t1",
            storage=svc.target("s3"),
            target_streams=[{"user_id": "alice"}],
            image_config={"interval": 1},
        )
        assert uploader.entered.acquire(timeout=10)  # the only worker is stuck in the first put
        # due times +1, +2, +3 pass and queue behind it
        assert svc.engine.wait(lambda: (svc.engine.status(key) or {}).get("captures", 0) >= 4, timeout=10)
        uploader.gate.set()
        # +1 and +2 start two and one intervals late: skipped; +3 is grabbed
        assert svc.engine.wait(lambda: (svc.engine.status(key) or {}).get("images", 0) >= 2, timeout=10)
        client.stop(app_id="app1", room_id="room1", task_id="t1")
    assert svc.settle()
    status = svc.engine.status(key)
    assert status is not None and status["late_skips"] >= 2, status
    stamps = sorted(i["TimeStamp"] for i in images(svc))
    assert 2900 <= stamps[1] - stamps[0] <= 3900, stamps  # the second image is +3's, not +1's
