"""`download(objects=[(key, path), …])`: exactly the named objects, each at the path the caller chose,
through the same per-file machinery as a listed download (verification, journal, claims)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rtcsnap.errors import Reason
from rtcsnap.storage import download
from rtcsnap.storage.transfer import COMPLETE, ProgressEvent

from tests.storage.conftest import MakeTarget

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FILES = {
    "app1/room1/t1/alice_0_1000.jpg": b"alice frame one",
    "app1/room1/t1/alice_0_2000.jpg": b"alice frame two, longer",
    "app1/room1/t1/bob_1_1000.png": b"bob's screen",
}
LAYOUT = {
    "app1/room1/t1/alice_0_1000.jpg": "alice/0/1000.jpg",
    "app1/room1/t1/alice_0_2000.jpg": "alice/0/2000.jpg",
    "app1/room1/t1/bob_1_1000.png": "bob/1/1000.png",
}


@pytest.fixture
def stored(s3: S3Client, bucket: str) -> dict[str, bytes]:
    for key, data in FILES.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    s3.put_object(Bucket=bucket, Key="app1/room1/t1/other.jpg", Body=b"not requested")
    return FILES


def test_each_object_lands_at_its_chosen_path_verified(
    stored: dict[str, bytes], make_target: MakeTarget, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    report = download(make_target(), tmp_path, objects=list(LAYOUT.items()), progress=events.append)
    assert report.ok and report.accounted and report.listed == 3
    assert sorted(report.downloaded) == sorted(LAYOUT)
    assert report.unverified == []  # checked against the stored CRC32, not by size only
    for key, rel in LAYOUT.items():
        assert (tmp_path / rel).read_bytes() == stored[key]
    assert not (tmp_path / "app1").exists()  # no key-layout file: only the chosen paths
    assert {ev.key: ev.path for ev in events if ev.kind == "done"} == LAYOUT
    assert not any(ev.kind == "listed" for ev in events)  # nothing was listed


def test_a_rerun_skips_every_object_from_the_journal(
    stored: dict[str, bytes], make_target: MakeTarget, tmp_path: Path
) -> None:
    assert download(make_target(), tmp_path, objects=list(LAYOUT.items())).ok
    again = download(make_target(), tmp_path, objects=list(LAYOUT.items()))
    assert again.ok and again.downloaded == [] and sorted(again.skipped) == sorted(LAYOUT)
    (tmp_path / "bob/1/1000.png").write_bytes(b"edited by hand")  # not what rtcsnap wrote: fetched again
    third = download(make_target(), tmp_path, objects=list(LAYOUT.items()))
    assert third.downloaded == ["app1/room1/t1/bob_1_1000.png"]
    assert (tmp_path / "bob/1/1000.png").read_bytes() == stored["app1/room1/t1/bob_1_1000.png"]
    events: list[ProgressEvent] = []
    download(make_target(), tmp_path, objects=list(LAYOUT.items()), progress=events.append)
    assert {ev.detail for ev in events if ev.kind == "skipped"} == {COMPLETE}


def test_a_key_absent_from_storage_fails_as_not_found(
    stored: dict[str, bytes], make_target: MakeTarget, tmp_path: Path
) -> None:
    objects = [*LAYOUT.items(), ("app1/room1/t1/carol_0_1000.jpg", "carol/0/1000.jpg")]
    report = download(make_target(), tmp_path, objects=objects)
    assert report.accounted and report.listed == 4 and len(report.downloaded) == 3
    assert [(f.key, f.reason) for f in report.failed] == [
        ("app1/room1/t1/carol_0_1000.jpg", Reason.NOT_FOUND)
    ]
    assert not (tmp_path / "carol").exists()


@pytest.mark.parametrize("rel", ["../escape.jpg", "a/../../b.jpg", ".rtcsnap/journal.sqlite3", "a\x00b", "/"])
def test_a_chosen_path_obeys_the_key_rules(
    rel: str, stored: dict[str, bytes], make_target: MakeTarget, tmp_path: Path
) -> None:
    key = "app1/room1/t1/alice_0_1000.jpg"
    report = download(make_target(), tmp_path / "dest", objects=[(key, rel)])
    assert report.accounted and [(f.key, f.reason) for f in report.failed] == [(key, Reason.UNMAPPABLE_KEY)]
    assert key in report.failed[0].message and repr(rel) in report.failed[0].message
    assert not (tmp_path / "escape.jpg").exists() and not (tmp_path / "b.jpg").exists()


def test_two_keys_on_one_path_collide(
    stored: dict[str, bytes], make_target: MakeTarget, tmp_path: Path
) -> None:
    first, second = "app1/room1/t1/alice_0_1000.jpg", "app1/room1/t1/bob_1_1000.png"
    report = download(make_target(), tmp_path, objects=[(first, "same.jpg"), (second, "same.jpg")])
    assert report.downloaded == [first]
    assert [(f.key, f.reason) for f in report.failed] == [(second, Reason.PATH_COLLISION)]
    assert (tmp_path / "same.jpg").read_bytes() == stored[first]


def test_objects_exclude_keys_and_prefix(make_target: MakeTarget, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="objects="):
        download(make_target(), tmp_path, objects=[("a", "b")], keys=["a"])
    with pytest.raises(ValueError, match="objects="):
        download(make_target(), tmp_path, objects=[("a", "b")], prefix="x/")
