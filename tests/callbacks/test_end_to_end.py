"""Issue 10's end-to-end acceptance: an emulator task stores images and signs callbacks → a real
`Receiver` over HTTP indexes them in SQLite → the manifest says every image is present →
`rtcsnap snapshots download` (the real CLI, the target found in the local task log the client
wrote) gets every image byte-identical, in the stream layout, and a re-run skips them all."""

from __future__ import annotations

import json
from pathlib import Path

from rtcsnap.callbacks.manifest import manifest
from rtcsnap.callbacks.receiver import Receiver
from rtcsnap.emulator.callbacks import CallbackSender
from rtcsnap.tasklog import TaskLog

from tests.callbacks.test_receiver import served
from tests.conftest import run_cli
from tests.engine.helpers import rooms_file, stored


def test_task_to_index_to_manifest_to_download(make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path), storage=["s3"], callbacks=False)
    db = tmp_path / "index.db"
    receiver = Receiver(str(db), svc.callback_secret)
    try:
        with served(receiver) as base:
            sender = CallbackSender(base + receiver.path, svc.callback_secret, retry_delay=0.01)
            svc.engine.callbacks = sender
            try:
                with svc.client() as client:
                    client.start(
                        app_id="app1",
                        room_id="room1",
                        task_id="t1",
                        storage=svc.target("s3"),
                        target_streams=[{"user_id": "alice"}, {"user_id": "bob", "stream_type": 1}],
                        image_config={"format": 1, "width": 160, "height": 160, "interval": 5},
                    )
                svc.advance(0)  # the first snapshot of each stream, then three intervals (manual clock)
                for _ in range(3):
                    svc.advance(5)
                assert svc.settle()  # uploads done and every callback acknowledged (a 200 = committed)
                assert sender.stats.failed == 0 and sender.stats.delivered == sender.stats.sent
            finally:
                sender.close()
    finally:
        receiver.close()
    images = stored(svc, "s3")
    assert len(images) == 8  # 2 streams x 4 snapshots
    assert receiver.metrics["accepted"] == 8

    from rtcsnap.callbacks.index import SnapshotIndex

    index = SnapshotIndex(str(db))
    try:
        m = manifest(index, "app1", "room1", "t1", svc.target("s3", "admin"))
        rows = index.snapshots(task_id="t1").items
    finally:
        index.close()
    assert m.complete and m.counts["present"] == len(images) and m.counts["unindexed"] == 0
    assert {e.key for e in m.present} == set(images)

    ak, sk = svc.storage["s3"].admin
    env = {
        "RTCSNAP_ACCESS_KEY": ak,
        "RTCSNAP_SECRET_KEY": sk,
        "HOME": "/nonexistent",
        "AWS_CONFIG_FILE": "/dev/null",
    }
    target = svc.storage["s3"].target(svc.buckets["s3"])
    logged = TaskLog.default()
    assert logged is not None
    entry = logged.lookup("app1", "room1", "t1")  # the client recorded the target it started with
    assert entry is not None and entry.storage == svc.target("s3").url
    # without --storage: the task log says where the task stored its images
    task = ["--db", str(db), "--task", "app1/room1/t1"]
    shown = run_cli("snapshots", "manifest", *task, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["counts"]["present"] == len(images)

    dest = tmp_path / "out"
    first = run_cli("snapshots", "download", *task, str(dest), env=env)
    task += ["--storage", target]  # and an explicit target, for the re-run
    assert first.returncode == 0, first.stderr
    by_key = {r["object_key"]: r for r in rows}
    for key, data in images.items():
        r = by_key[key]
        assert (dest / r["user_id"] / str(r["stream_type"]) / f"{r['timestamp_ms']}.png").read_bytes() == data
    assert sorted(p.relative_to(dest).parts[0] for p in dest.rglob("*.png")) == ["alice"] * 4 + ["bob"] * 4

    again = run_cli("snapshots", "download", *task, str(dest), "--json", env=env)
    assert again.returncode == 0, again.stderr
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    assert lines[-1]["summary"] == {**lines[-1]["summary"], "downloaded": 0, "skipped": 8, "failed": 0}
    assert {line["status"] for line in lines[:-1]} == {"skipped"}
