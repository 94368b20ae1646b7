"""S3Session and downloads against SeaweedFS: its errors, ETags and stored checksums as the
provider reads them, and what core verifies downloads against as a result.

moto answers the way its authors read S3's documentation; these are a second server's answers
to the same calls, so a translation that only fits moto shows up here.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.contract import Checksum
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import download
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.seaweed import SeaweedS3Server
from rtcsnap_s3 import S3Provider, S3Session

ONE = RetryPolicy(attempts=1)
MiB = 1024 * 1024


@pytest.fixture
def bucket(local_seaweed: SeaweedS3Server) -> str:
    return local_seaweed.create_bucket(f"obj-{uuid.uuid4().hex[:12]}")


def make_target(server: SeaweedS3Server, bucket: str, creds: tuple[str, str] | None = None) -> StorageTarget:
    ak, sk = creds or server.admin_credentials
    return StorageTarget(
        scheme="s3",
        bucket=bucket,
        region="us-east-1",
        endpoint=server.endpoint,
        credentials=Credentials.of(ak, sk),
    )


@pytest.fixture
def session(local_seaweed: SeaweedS3Server, bucket: str) -> Iterator[S3Session]:
    s = S3Provider().open(make_target(local_seaweed, bucket))
    with s:
        yield s


Call = Callable[[], object]


def _error(call: Call) -> tuple[Reason, str | None, int | None]:
    with pytest.raises(StorageError) as err:
        call()
    return err.value.reason, err.value.code, err.value.status


# -- errors ------------------------------------------------------------------------------------


def test_errors_are_translated(local_seaweed: SeaweedS3Server, bucket: str, session: S3Session) -> None:
    session.put("a.jpg", b"a")
    assert _error(lambda: session.get("nope.jpg")) == (Reason.NOT_FOUND, "NoSuchKey", 404)
    missing = make_target(local_seaweed, f"missing-{uuid.uuid4().hex[:8]}")
    with S3Provider().open(missing) as gone:
        assert _error(gone.head_bucket) == (Reason.BUCKET_MISSING, "404", 404)  # HEAD: no body
        calls: tuple[Call, ...] = (
            lambda: gone.get("a.jpg"),
            lambda: gone.list_page("", None, 5),
            lambda: gone.put("a", b""),
        )
        for call in calls:
            assert _error(call) == (Reason.BUCKET_MISSING, "NoSuchBucket", 404)
    ak, _ = local_seaweed.admin_credentials
    with S3Provider().open(make_target(local_seaweed, bucket, (ak, "wrong-secret"))) as bad:
        assert _error(bad.head_bucket) == (Reason.PERMISSION_DENIED, "403", 403)  # HEAD: no body
        calls = (lambda: bad.get("a.jpg"), lambda: bad.put("b", b""))
        for call in calls:
            assert _error(call) == (Reason.BAD_SECRET, "SignatureDoesNotMatch", 403)
    with S3Provider().open(make_target(local_seaweed, bucket, ("AKIAUNKNOWN000000000", "x"))) as unknown:
        assert _error(unknown.head_bucket) == (Reason.PERMISSION_DENIED, "403", 403)
        calls = (lambda: unknown.list_page("", None, 5),)
        for call in calls:
            assert _error(call) == (Reason.UNKNOWN_ACCESS_KEY, "InvalidAccessKeyId", 403)


def test_write_only_key_errors(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    rtc = local_seaweed.key(("Write",))
    with S3Provider().open(make_target(local_seaweed, bucket, rtc.credentials)) as s:
        assert s.put("w.jpg", b"w").etag == hashlib.md5(b"w").hexdigest()
        assert _error(s.head_bucket) == (Reason.PERMISSION_DENIED, "403", 403)
        calls: tuple[Call, ...] = (
            lambda: s.get("w.jpg"),
            lambda: s.list_page("", None, 5),
            lambda: s.delete("w.jpg"),
        )
        for call in calls:
            assert _error(call) == (Reason.PERMISSION_DENIED, "AccessDenied", 403)
        assert _error(lambda: s.get("never-written.jpg"))[0] == Reason.PERMISSION_DENIED  # auth before lookup


# -- what downloads are verified against -------------------------------------------------------


def test_single_put_etag_is_the_md5(local_seaweed: SeaweedS3Server, bucket: str, session: S3Session) -> None:
    """Also above SeaweedFS's 4 MiB chunk size (-filer.maxMB): the ETag stays the plain MD5."""
    for size in (0, 1000, 4 * MiB + 1):
        data = os.urandom(size)
        info = session.put(f"p/{size}.bin", data)
        with session.get(f"p/{size}.bin") as stream:
            assert stream.read() == data
            assert stream.info.etag == info.etag == hashlib.md5(data).hexdigest()
            assert dict(stream.info.checksums) == {}, "no checksum stored unless the writer sent one"
            assert session.checksum(stream.info) == Checksum("md5", hashlib.md5(data).hexdigest())
        (listed,) = session.list_page(f"p/{size}.", None, 5).items
        assert listed.etag == info.etag and listed.size == size


def test_stored_checksums_are_preferred(
    local_seaweed: SeaweedS3Server, bucket: str, session: S3Session
) -> None:
    """A writer using boto3's defaults stores a CRC32; SeaweedFS returns it for the provider's
    ChecksumMode=ENABLED without a ChecksumType, which must be taken as full-object."""
    data = os.urandom(100_000)
    s3 = local_seaweed.s3()  # botocore's default: request_checksum_calculation="when_supported"
    s3.put_object(Bucket=bucket, Key="crc.bin", Body=data)
    s3.put_object(Bucket=bucket, Key="sha.bin", Body=data, ChecksumAlgorithm="SHA256")
    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    for key, expected in (("crc.bin", Checksum("crc32", crc32)), ("sha.bin", Checksum("sha256", sha256))):
        with session.get(key) as stream:
            assert stream.read() == data
            assert session.checksum(stream.info) == expected


def _multipart(
    server: SeaweedS3Server, bucket: str, key: str, parts: list[bytes], algorithm: str = ""
) -> str:
    """Upload `parts` as one multipart object (with per-part checksums of `algorithm`, if any)."""
    s3: Any = server.s3() if algorithm else server.s3(request_checksum_calculation="when_required")
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    done = []
    for n, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body, **extra)
        done.append(
            {"ETag": r["ETag"], "PartNumber": n, **{k: v for k, v in r.items() if k.startswith("Checksum")}}
        )
    done_upload = {"Parts": done}
    etag = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload=done_upload
    )
    return str(etag["ETag"]).strip('"')


def test_multipart_etag_is_verified(local_seaweed: SeaweedS3Server, bucket: str, tmp_path: Path) -> None:
    """SeaweedFS builds multipart ETags as S3 does (MD5 of the part MD5s, -N) and answers
    HeadObject?partNumber=1 with the part's size and PartsCount: core can check the bytes."""
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1000)]
    etag = _multipart(local_seaweed, bucket, "mp/even.bin", parts)
    assert etag == hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    with S3Provider().open(make_target(local_seaweed, bucket)) as s, s.get("mp/even.bin") as stream:
        assert s.checksum(stream.info) == Checksum("md5-multipart", etag, {"part_size": 5 * MiB})
    report = download(make_target(local_seaweed, bucket), tmp_path, retry=ONE)
    assert report.ok and report.downloaded == ["mp/even.bin"]
    assert (tmp_path / "mp/even.bin").read_bytes() == b"".join(parts)


def test_composite_checksum_is_not_taken_for_a_full_object_one(
    local_seaweed: SeaweedS3Server, bucket: str, tmp_path: Path
) -> None:
    """A multipart upload with CRC32 parts: SeaweedFS returns ``<crc-of-crcs>-N`` and
    ChecksumType COMPOSITE, which is not a CRC of the bytes; the ETag is used instead."""
    parts = [os.urandom(5 * MiB), os.urandom(2000)]
    etag = _multipart(local_seaweed, bucket, "mp/crc.bin", parts, "CRC32")
    with S3Provider().open(make_target(local_seaweed, bucket)) as s, s.get("mp/crc.bin") as stream:
        assert dict(stream.info.checksums) == {}
        rule = Checksum.of(s.checksum(stream.info))
    assert rule is not None and (rule.algorithm, rule.value) == ("md5-multipart", etag)
    report = download(make_target(local_seaweed, bucket), tmp_path, retry=ONE)
    assert report.ok, report.failed


def test_uneven_multipart_parts_are_verified_not_called_corrupt(
    local_seaweed: SeaweedS3Server, bucket: str, tmp_path: Path
) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(6 * MiB), os.urandom(1000)]  # valid: parts >= 5 MiB but the last
    _multipart(local_seaweed, bucket, "mp/uneven.bin", parts)
    with S3Provider().open(make_target(local_seaweed, bucket)) as s, s.get("mp/uneven.bin") as stream:
        rule = Checksum.of(s.checksum(stream.info))
    assert rule is not None and dict(rule.params) == {"part_sizes": (5 * MiB, 6 * MiB)}
    report = download(make_target(local_seaweed, bucket), tmp_path, retry=ONE)
    assert [(f.key, f.reason) for f in report.failed] == [] and report.unverified == []
    assert (tmp_path / "mp/uneven.bin").read_bytes() == b"".join(parts)


def test_double_slash_keys_are_listed_collapsed(
    local_seaweed: SeaweedS3Server, bucket: str, session: S3Session, tmp_path: Path
) -> None:
    """SeaweedFS stores keys as filer paths: "a//b" is listed as "a/b" (S3 keeps it), and a GET
    of either name returns it. A download therefore sees one object under the collapsed key."""
    session.put("x//y.jpg", b"xy")
    assert [o.key for o in session.list_page("x/", None, 10).items] == ["x/y.jpg"]
    assert session.get("x//y.jpg").read() == session.get("x/y.jpg").read() == b"xy"
    report = download(make_target(local_seaweed, bucket), tmp_path, retry=ONE)
    assert report.downloaded == ["x/y.jpg"] and (tmp_path / "x/y.jpg").read_bytes() == b"xy"
