"""Downloads never save wrong bytes and never lose an object — over real HTTP against moto.

Each test reproduces a way the earlier download core lost or corrupted evidence: a multipart
object saved with a flipped byte and skipped forever after, two keys sharing one local path, an
object named like a temp file deleted, 240-byte names refused, a symlink followed out of DEST,
keys that were neither downloaded, skipped nor failed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rtcsnap import Reason
from rtcsnap.errors import LocalPathError
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import download
from rtcsnap.storage.destination import JOURNAL, RESERVED, TMP

from tests.storage.conftest import MakeTarget

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef
    from rtcsnap.testing.s3server import LocalS3Server

FAST = RetryPolicy(attempts=4, base=0.001, cap=0.01)
PART = 5 * 1024 * 1024  # S3's smallest part


def data(seed: str, size: int) -> bytes:
    block = hashlib.sha256(seed.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def put_multipart(s3: S3Client, bucket: str, key: str, body: bytes, part: int = PART) -> str:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)
    parts: list[CompletedPartTypeDef] = []
    for n, start in enumerate(range(0, len(body), part), start=1):
        r = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body[start : start + part]
        )
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": parts}
    )
    return done["ETag"].strip('"')


def finals(dest: Path) -> dict[str, bytes]:
    """Every file the download put in place, by relative path (rtcsnap's own folder excluded)."""
    return {
        p.relative_to(dest).as_posix(): p.read_bytes()
        for p in dest.rglob("*")
        if p.is_file() and not p.is_symlink() and RESERVED not in p.relative_to(dest).parts
    }


# -- checksums ------------------------------------------------------------------------------------


def test_multipart_byte_flip_is_never_saved_and_is_fetched_again(
    local_s3: LocalS3Server, plain_s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    body = data("mp", 2 * PART + 1000)
    etag = put_multipart(plain_s3, bucket, "room/mp.jpg", body)
    assert etag.endswith("-3")
    local_s3.faults.corrupt("mp.jpg")  # every GET: one byte flipped, headers untouched
    report = download(make_target(), tmp_path, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [("room/mp.jpg", Reason.CHECKSUM_MISMATCH)]
    assert "md5-multipart" in report.failed[0].message
    assert finals(tmp_path) == {}, "wrong bytes never take the final name"
    local_s3.faults.clear()
    again = download(make_target(), tmp_path, retry=FAST)
    assert again.downloaded == ["room/mp.jpg"] and again.unverified == []
    assert finals(tmp_path) == {"room/mp.jpg": body}


def test_multipart_with_a_different_part_size_verifies(
    plain_s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    body = data("mp7", 2 * (PART + 7) + 3)
    put_multipart(plain_s3, bucket, "mp7.jpg", body, part=PART + 7)
    report = download(make_target(), tmp_path, retry=FAST)
    assert report.downloaded == ["mp7.jpg"] and report.unverified == [] and not report.failed
    assert finals(tmp_path) == {"mp7.jpg": body}


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_stored_checksum_is_what_the_bytes_are_checked_against(
    local_s3: LocalS3Server,
    s3: S3Client,
    bucket: str,
    make_target: MakeTarget,
    tmp_path: Path,
    algorithm: str,
) -> None:
    body = data(algorithm, 3000)
    s3.put_object(Bucket=bucket, Key="c.jpg", Body=body, ChecksumAlgorithm=algorithm)  # type: ignore[arg-type]
    local_s3.faults.corrupt("c.jpg")
    report = download(make_target(), tmp_path, retry=FAST)
    assert [f.reason for f in report.failed] == [Reason.CHECKSUM_MISMATCH]
    assert f" {algorithm.lower()} expected " in report.failed[0].message
    local_s3.faults.clear()
    seen: list[str | None] = []
    again = download(
        make_target(),
        tmp_path,
        retry=FAST,
        progress=lambda ev: seen.append(ev.checksum) if ev.kind == "done" else None,
    )
    assert again.downloaded == ["c.jpg"] and seen == [algorithm.lower()]
    assert finals(tmp_path) == {"c.jpg": body}


def test_object_without_any_checksum_is_counted_unverified(
    plain_s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    plain_s3.put_object(Bucket=bucket, Key="kms.jpg", Body=b"k" * 500, ServerSideEncryption="aws:kms")
    plain_s3.put_object(Bucket=bucket, Key="md5.jpg", Body=b"m" * 500)
    report = download(make_target(), tmp_path, retry=FAST)
    assert sorted(report.downloaded) == ["kms.jpg", "md5.jpg"]
    assert report.unverified == ["kms.jpg"], "an SSE-KMS ETag is no MD5: size-checked only, and said so"
    again = download(make_target(), tmp_path, retry=FAST)
    assert sorted(again.skipped) == ["kms.jpg", "md5.jpg"] and again.unverified == ["kms.jpg"]


# -- the skip rule --------------------------------------------------------------------------------


def test_rerun_skips_only_what_the_journal_verified(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    objects = {f"s/{i}.jpg": data(str(i), 1000 + i) for i in range(4)}
    for k, v in objects.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    assert len(download(make_target(), tmp_path, retry=FAST).downloaded) == 4
    assert sorted(download(make_target(), tmp_path, retry=FAST).skipped) == sorted(objects)

    # same size, same mtime, wrong bytes: the journal's fingerprint (inode, ctime) catches it
    victim = tmp_path / "s" / "1.jpg"
    st = victim.stat()
    victim.write_bytes(b"\0" * st.st_size)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    third = download(make_target(), tmp_path, retry=FAST)
    assert third.downloaded == ["s/1.jpg"] and len(third.skipped) == 3
    assert finals(tmp_path)["s/1.jpg"] == objects["s/1.jpg"]

    # files whose journal is gone are not trusted for being the right size and time
    (tmp_path / RESERVED / JOURNAL).unlink()
    fourth = download(make_target(), tmp_path, retry=FAST)
    assert sorted(fourth.downloaded) == sorted(objects) and fourth.skipped == []


def test_a_new_version_of_an_object_is_fetched_again(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="v.jpg", Body=b"a" * 100)
    download(make_target(), tmp_path, retry=FAST)
    s3.put_object(Bucket=bucket, Key="v.jpg", Body=b"b" * 100)  # same size, new ETag
    again = download(make_target(), tmp_path, retry=FAST)
    assert again.downloaded == ["v.jpg"] and finals(tmp_path) == {"v.jpg": b"b" * 100}


def test_explicit_keys_skip_by_the_same_rule(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="e.jpg", Body=b"e" * 100)
    assert download(make_target(), tmp_path, keys=["e.jpg"], retry=FAST).downloaded == ["e.jpg"]
    assert download(make_target(), tmp_path, keys=["e.jpg"], retry=FAST).skipped == ["e.jpg"]
    (tmp_path / "e.jpg").write_bytes(b"x" * 100)
    assert download(make_target(), tmp_path, keys=["e.jpg"], retry=FAST).downloaded == ["e.jpg"]
    assert finals(tmp_path) == {"e.jpg": b"e" * 100}


def test_file_time_is_the_objects_last_modified(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="t.jpg", Body=b"t")
    modified = s3.head_object(Bucket=bucket, Key="t.jpg")["LastModified"]
    download(make_target(), tmp_path, retry=FAST)
    assert (tmp_path / "t.jpg").stat().st_mtime == modified.timestamp()


# -- the key -> path mapping -------------------------------------------------------------------


def test_two_keys_for_one_path_never_overwrite_each_other(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    keys = {"/k.jpg": b"slash", "k.jpg": b"plain", "a//b.jpg": b"double", "a/b.jpg": b"single"}
    for k, v in keys.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    for _ in range(2):  # the same outcome on every run
        report = download(make_target(), tmp_path, retry=FAST)
        failed = {f.key: (f.reason, f.message) for f in report.failed}
        assert set(failed) == {"/k.jpg", "a//b.jpg"}, "the key that maps exactly wins its path"
        assert all(reason == Reason.PATH_COLLISION for reason, _ in failed.values())
        assert "'k.jpg'" in failed["/k.jpg"][1] and "'a/b.jpg'" in failed["a//b.jpg"][1]
        assert finals(tmp_path) == {"k.jpg": b"plain", "a/b.jpg": b"single"}
        assert report.accounted and report.listed == 4


def test_a_file_and_a_folder_of_the_same_name_collide(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="x", Body=b"file")
    s3.put_object(Bucket=bucket, Key="x/y.jpg", Body=b"inside")
    report = download(make_target(), tmp_path, retry=FAST)
    assert report.downloaded == ["x"]
    assert [(f.key, f.reason) for f in report.failed] == [("x/y.jpg", Reason.PATH_COLLISION)]
    assert "'x'" in report.failed[0].message


def test_legal_odd_names_download_one_to_one(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    keys = {"a//b.jpg": b"1", "back\\slash.jpg": b"2", "sp ace/t\tab.jpg": b"3", "é/中文.jpg": b"4"}
    for k, v in keys.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    report = download(make_target(), tmp_path, retry=FAST)
    assert report.ok and sorted(report.downloaded) == sorted(keys)
    assert finals(tmp_path) == {
        "a/b.jpg": b"1",
        "back\\slash.jpg": b"2",
        "sp ace/t\tab.jpg": b"3",
        "é/中文.jpg": b"4",
    }


def test_a_key_named_like_a_temp_file_is_kept(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    keys = {"d/.f.rtcsnap-part-deadbeef": b"real object", "d/f": b"f"}
    for k, v in keys.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    for _ in range(2):
        report = download(make_target(), tmp_path, retry=FAST)
        assert report.ok and report.accounted
        assert finals(tmp_path) == keys


def test_longest_legal_names_download_and_longer_ones_fail_clearly(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    ok, too_long = "n" * 251 + ".jpg", "n" * 252 + ".jpg"
    for k in (ok, too_long, f"dir/{ok}"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    report = download(make_target(), tmp_path, retry=FAST)
    assert sorted(report.downloaded) == sorted([ok, f"dir/{ok}"])
    assert [(f.key, f.reason) for f in report.failed] == [(too_long, Reason.UNMAPPABLE_KEY)]
    assert "256-byte" in report.failed[0].message


def test_reserved_folder_keys_fail_and_never_touch_the_journal(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key=f"{RESERVED}/{JOURNAL}", Body=b"not a database")
    s3.put_object(Bucket=bucket, Key="ok.jpg", Body=b"ok")
    report = download(make_target(), tmp_path, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [(f"{RESERVED}/{JOURNAL}", Reason.UNMAPPABLE_KEY)]
    assert download(make_target(), tmp_path, retry=FAST).skipped == ["ok.jpg"], "the journal still works"


def test_a_symlink_inside_dest_is_never_followed(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link").symlink_to(outside)
    (dest / "file-link.jpg").symlink_to(outside / "target.jpg")
    s3.put_object(Bucket=bucket, Key="link/a.jpg", Body=b"a")
    s3.put_object(Bucket=bucket, Key="file-link.jpg", Body=b"b")
    report = download(make_target(), dest, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [("link/a.jpg", Reason.UNSAFE_PATH)]
    assert list(outside.iterdir()) == [], "nothing written outside DEST"
    assert report.downloaded == ["file-link.jpg"]
    assert not (dest / "file-link.jpg").is_symlink(), "a link as final name is replaced, not written through"
    assert (dest / "file-link.jpg").read_bytes() == b"b"


def test_every_listed_key_is_accounted_for_exactly_once(
    plain_s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    keys = {"p/": b"", "p/q/": b"x" * 24, "p/q/r.jpg": b"r", "z.jpg": b"z", "bad/../x": b"?"}
    for k, v in keys.items():
        plain_s3.put_object(Bucket=bucket, Key=k, Body=v)
    report = download(make_target(), tmp_path, retry=FAST)
    assert report.listed == 5 and report.accounted
    assert sorted(report.downloaded) == ["p/q/r.jpg", "z.jpg"]
    assert report.skipped == ["p/"] and report.folder_markers == ["p/"]
    assert {f.key: f.reason for f in report.failed} == {
        "p/q/": Reason.UNMAPPABLE_KEY,
        "bad/../x": Reason.UNMAPPABLE_KEY,
    }
    assert "24 bytes" in next(f.message for f in report.failed if f.key == "p/q/")
    explicit = download(make_target(), tmp_path / "e", keys=["p/", "p/q/"], retry=FAST)
    assert explicit.folder_markers == ["p/"] and [f.key for f in explicit.failed] == ["p/q/"]
    assert explicit.accounted


def test_an_existing_directory_at_the_final_path_fails_the_key(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    (tmp_path / "k.jpg").mkdir()
    s3.put_object(Bucket=bucket, Key="k.jpg", Body=b"k")
    report = download(make_target(), tmp_path, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [("k.jpg", Reason.LOCAL_IO)]
    assert "k.jpg exists and is not a file" in report.failed[0].message
    assert (tmp_path / "k.jpg").is_dir()


# -- the destination ------------------------------------------------------------------------------


def test_unusable_dest_fails_before_any_request(
    local_s3: LocalS3Server, s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="a.jpg", Body=b"a")
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    local_s3.faults.clear()
    with pytest.raises(LocalPathError, match="cannot create"):
        download(make_target(), blocker / "dest")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / RESERVED).write_text("in the way")
    with pytest.raises(LocalPathError, match="not writable"):
        download(make_target(), tmp_path / "d")
    assert local_s3.faults.requests == {}, "no request left the machine"


def test_temp_files_of_a_dead_run_are_removed_and_nothing_else(
    s3: S3Client, bucket: str, make_target: MakeTarget, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from rtcsnap.storage.journal import Journal

    s3.put_object(Bucket=bucket, Key="a.jpg", Body=b"a")
    download(make_target(), tmp_path, retry=FAST)
    tmp = tmp_path / RESERVED / TMP
    (tmp / "not-recorded").write_bytes(b"someone else's")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    journal = Journal(tmp_path / RESERVED / JOURNAL)
    journal._db.execute("INSERT INTO runs VALUES (?, ?, 0)", ("deadrun", int(dead.stdout)))
    journal._db.execute("INSERT INTO runs VALUES (?, ?, 0)", ("liverun", os.getpid()))  # a concurrent run
    journal.close()
    for name in ("deadrun.1", "deadrun.2", "liverun.1", "deadrun-other.1"):
        (tmp / name).write_bytes(b"partial")
    download(make_target(), tmp_path, retry=FAST)
    assert sorted(p.name for p in tmp.iterdir()) == ["deadrun-other.1", "liverun.1", "not-recorded"]


def test_download_report_target_is_checked_dest_untouched_on_error(make_target: MakeTarget) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        download(make_target(), "/nonexistent/never-created", concurrency=0)
    assert not Path("/nonexistent/never-created").exists()
