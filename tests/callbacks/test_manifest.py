"""The per-task manifest over a real SQLite index and a real local S3 server: present, missing
(deleted, or another size), unindexed (an object under the task's prefix with no callback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.manifest import common_prefix, local_path, manifest, record_key
from rtcsnap.callbacks.records import Event, SnapshotRecord
from rtcsnap.errors import ConfigurationError
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name

if TYPE_CHECKING:
    from rtcsnap.testing.s3server import LocalS3Server

IMAGES = {
    "rtc/app1/room1/t1/alice_0_1000.jpg": b"alice one",
    "rtc/app1/room1/t1/alice_0_2000.jpg": b"alice two!",
    "rtc/app1/room1/t1/bob_1_1000.png": b"bob screen",
}


def _record(n: int, key: str, size: int, bucket: str, task: str = "t1") -> tuple[Event, list[SnapshotRecord]]:
    event = Event(
        f"ev{task}{n}", "SnapshotRealTimeData", "app1", "2024-01-01T00:00:00Z", "2023-11-01", None, "{}", "{}"
    )
    user, stream, stamp = key.rsplit("/", 1)[1].split(".")[0].split("_")
    record = SnapshotRecord(
        event.event_id, "app1", None, "room1", task, user, int(stream), None, bucket, None, key, None,
        0, 16, 16, size, int(stamp),
    )  # fmt: skip
    return event, [record]


@pytest.fixture
def setup(local_s3: LocalS3Server, tmp_path: Path) -> Iterator[tuple[SnapshotIndex, StorageTarget, str]]:
    bucket = local_s3.create_bucket(new_bucket_name("manifest"))
    s3 = local_s3.s3()
    for key, data in IMAGES.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    s3.put_object(Bucket=bucket, Key="rtc/app1/room2/t9/x_0_5.jpg", Body=b"another task, another room")
    index = SnapshotIndex(str(tmp_path / "index.db"))
    index.store([_record(n, k, len(v), bucket) for n, (k, v) in enumerate(IMAGES.items())], 1.0)
    index.store([_record(0, "rtc/app1/room2/t9/x_0_5.jpg", 26, bucket, task="t9")], 1.0)
    ak, sk = local_s3.admin_credentials
    target = StorageTarget.parse(
        f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}", access_key=ak, secret_key=sk
    )
    yield index, target, bucket
    index.close()


def test_all_present(setup: tuple[SnapshotIndex, StorageTarget, str], local_s3: LocalS3Server) -> None:
    index, target, _ = setup
    m = manifest(index, "app1", "room1", "t1", target)
    assert m.prefix == "rtc/app1/room1/t1/"  # the indexed keys' common directory, not the bucket
    assert m.complete and m.counts == {
        "indexed": 3,
        "present": 3,
        "missing": 0,
        "size_mismatch": 0,
        "unindexed": 0,
    }
    assert {e.key for e in m.present} == set(IMAGES)
    doc = m.to_json()
    assert doc["counts"]["present"] == 3 and len(doc["objects"]) == 3
    assert {o["user_id"] for o in doc["objects"]} == {"alice", "bob"}
    assert all(part not in str(doc) for part in local_s3.admin_credentials)  # no key in the document


def test_missing_mismatch_and_unindexed(
    setup: tuple[SnapshotIndex, StorageTarget, str], local_s3: LocalS3Server
) -> None:
    index, target, bucket = setup
    s3 = local_s3.s3()
    s3.delete_object(Bucket=bucket, Key="rtc/app1/room1/t1/alice_0_1000.jpg")
    s3.put_object(Bucket=bucket, Key="rtc/app1/room1/t1/alice_0_2000.jpg", Body=b"rewritten, another size")
    s3.put_object(Bucket=bucket, Key="rtc/app1/room1/t1/stray.jpg", Body=b"no callback")
    m = manifest(index, "app1", "room1", "t1", target)
    assert not m.complete
    assert m.counts == {"indexed": 3, "present": 1, "missing": 2, "size_mismatch": 1, "unindexed": 1}
    by = {e.key: e for e in m.entries}
    deleted = by["rtc/app1/room1/t1/alice_0_1000.jpg"]
    assert (deleted.status, deleted.reason, deleted.stored_size) == ("missing", "not_in_storage", None)
    resized = by["rtc/app1/room1/t1/alice_0_2000.jpg"]
    assert (resized.status, resized.reason, resized.indexed_size, resized.stored_size) == (
        "missing", "size_mismatch", 10, 23,
    )  # fmt: skip
    stray = by["rtc/app1/room1/t1/stray.jpg"]
    assert (stray.status, stray.stored_size, stray.record) == ("unindexed", 11, None)
    assert by["rtc/app1/room1/t1/bob_1_1000.png"].status == "present"
    assert "rtc/app1/room2/t9/x_0_5.jpg" not in by  # another task's prefix is not listed


def test_an_explicit_prefix_widens_the_listing(setup: tuple[SnapshotIndex, StorageTarget, str]) -> None:
    index, target, _ = setup
    m = manifest(index, "app1", "room1", "t1", target, prefix="rtc/app1/")
    assert m.prefix == "rtc/app1/"
    assert [e.key for e in m.unindexed] == ["rtc/app1/room2/t9/x_0_5.jpg"]  # not t1's: no t1 callback
    assert m.counts["present"] == 3


def test_an_unknown_task_lists_nothing(setup: tuple[SnapshotIndex, StorageTarget, str]) -> None:
    index, target, _ = setup
    m = manifest(index, "app1", "room1", "nope", target)
    assert m.prefix is None and m.entries == () and m.complete


def test_another_bucket_is_refused(setup: tuple[SnapshotIndex, StorageTarget, str]) -> None:
    index, target, bucket = setup
    with pytest.raises(ConfigurationError, match=bucket):
        manifest(index, "app1", "room1", "t1", target.replace(bucket="elsewhere"))


def test_key_rules() -> None:
    assert common_prefix(["a/b/c1.jpg", "a/b/c2.jpg"]) == "a/b/"
    assert common_prefix(["a/b1.jpg", "a/b2/c.jpg"]) == "a/"
    assert common_prefix(["x.jpg", "y.jpg"]) == "" and common_prefix([]) == ""
    assert common_prefix(["a/b/c.jpg"]) == "a/b/"
    imagex = {"object_key": None, "veimagex_uri": "tos-bucket/app1/r/t/u_0_5.png"}
    assert record_key(imagex) == "app1/r/t/u_0_5.png"
    row = {"object_key": "k/u_1_7.bin", "user_id": "u", "stream_type": 1, "timestamp_ms": 7}
    assert local_path({**row, "format": 1}) == "u/1/7.png"
    assert local_path({**row, "format": 0}) == "u/1/7.jpg"
    assert local_path({**row, "format": 9}) == "u/1/7.bin"
    assert local_path(row, "key") == "k/u_1_7.bin"
