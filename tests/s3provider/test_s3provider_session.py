"""S3Session primitives against moto over HTTP."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest
from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.contract import CHUNK_SIZE, Checksum, ObjectInfo
from rtcsnap.target import StorageTarget
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap_s3 import S3Provider

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_head_bucket(provider: S3Provider, target: StorageTarget, server: LocalS3Server) -> None:
    """One HEAD of the bucket and nothing else when it exists; BUCKET_MISSING when it does not."""
    server.faults.clear()
    with provider.open(target) as session:
        session.head_bucket()
    assert server.faults.requests == {"HEAD": 1}
    assert server.faults.count("HEAD", f"/{target.bucket}") == 1
    missing = target.replace(bucket=f"{target.bucket}-gone")
    with provider.open(missing) as session, pytest.raises(StorageError) as err:
        session.head_bucket()
    assert (err.value.reason, err.value.operation) == (Reason.BUCKET_MISSING, "head_bucket")
    assert server.faults.count("HEAD", f"/{missing.bucket}") == 1 and server.faults.count("GET") == 0


def test_put_bytes_and_stream(provider: S3Provider, target: StorageTarget, server: LocalS3Server) -> None:
    data = b"jpeg-bytes" * 1000
    with provider.open(target) as session:
        info = session.put("snaps/a.jpg", data, "image/jpeg")
        assert info == ObjectInfo("snaps/a.jpg", len(data), hashlib.md5(data).hexdigest())
        stream = io.BytesIO(b"xx" + data)
        stream.seek(2)
        info = session.put("snaps/b.jpg", stream)  # from the current position
        assert (info.size, info.etag) == (len(data), hashlib.md5(data).hexdigest())
    head = server.s3().head_object(Bucket=target.bucket, Key="snaps/a.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert not any(k.startswith("x-amz-checksum") for k in head["ResponseMetadata"]["HTTPHeaders"])


def test_put_sends_no_flexible_checksum(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    """anchors §2.3: botocore >= 1.36 adds CRC32 headers/trailers that OBS/TOS/MinIO reject."""
    seen: list[dict[str, str]] = []
    session = provider.open(target)  # typed S3Session (Session.__enter__ is not Self)
    with session:
        session.client.meta.events.register(
            "before-send.s3.PutObject", lambda request, **_: seen.append(dict(request.headers))
        )
        session.put("snaps/plain.jpg", b"abc")
    headers = {k.lower(): v for k, v in seen[0].items()}
    assert not any(k.startswith("x-amz-checksum") or k == "x-amz-sdk-checksum-algorithm" for k in headers)
    assert "aws-chunked" not in headers.get("content-encoding", "")


def test_get_streams_in_chunks(provider: S3Provider, target: StorageTarget) -> None:
    data = bytes(range(256)) * (CHUNK_SIZE // 256 * 2 + 3)
    with provider.open(target) as session:
        session.put("snaps/big.jpg", data)
        with session.get("snaps/big.jpg") as stream:
            assert stream.info.key == "snaps/big.jpg"
            assert stream.info.size == len(data)
            assert stream.info.etag == hashlib.md5(data).hexdigest()
            assert isinstance(stream.info.last_modified, datetime)
            chunks = list(stream)
    assert len(chunks) == 3 and max(map(len, chunks)) == CHUNK_SIZE
    assert b"".join(chunks) == data


def test_get_close_midway(provider: S3Provider, target: StorageTarget) -> None:
    with provider.open(target) as session:
        session.put("snaps/c.jpg", b"z" * (CHUNK_SIZE * 3))
        with session.get("snaps/c.jpg") as stream:
            next(iter(stream))
        # the session still works afterwards
        assert session.get("snaps/c.jpg").read() == b"z" * (CHUNK_SIZE * 3)


def test_list_pages_of_two(provider: S3Provider, target: StorageTarget, server: LocalS3Server) -> None:
    with provider.open(target) as session:
        for i in range(5):
            session.put(f"snaps/{i}.jpg", b"x" * i)
        session.put("other/x.jpg", b"no")
        pages, cursor = [], None
        while True:
            page = session.list_page("snaps/", cursor, 2)
            pages.append([o.key for o in page.items])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert pages == [["snaps/0.jpg", "snaps/1.jpg"], ["snaps/2.jpg", "snaps/3.jpg"], ["snaps/4.jpg"]]
    assert server.faults.count("GET", target.bucket) == 3


def test_list_item_fields(provider: S3Provider, target: StorageTarget) -> None:
    with provider.open(target) as session:
        session.put("snaps/f.jpg", b"12345")
        (item,) = session.list_page("snaps/", None, 10).items
    assert (item.key, item.size, item.etag) == ("snaps/f.jpg", 5, hashlib.md5(b"12345").hexdigest())
    assert isinstance(item.last_modified, datetime)


def test_a_truncated_page_without_a_token_is_an_error(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    """A server that says IsTruncated without NextContinuationToken (sdk-lab §7.2) gets a clear
    error, never a silent end of the listing (objects lost) nor a cursor core cannot hand back."""
    with provider.open(target) as session:
        for i in range(5):
            session.put(f"snaps/{i}.jpg", b"x")
        server.faults.drop_next_token(times=1)
        with pytest.raises(StorageError) as err:
            session.list_page("snaps/", None, 2)
        assert "NextContinuationToken" in str(err.value)
        page = session.list_page("snaps/", None, 2)
        assert page.next_cursor, "the next, untampered page resumes as usual"


def test_the_cursor_is_the_continuation_token_untouched(provider: S3Provider, target: StorageTarget) -> None:
    with provider.open(target) as session:
        for i in range(3):
            session.put(f"snaps/{i}.jpg", b"x")
        page = session.list_page("snaps/", None, 2)
        raw = session.client.list_objects_v2(Bucket=target.bucket, Prefix="snaps/", MaxKeys=2)
    assert page.next_cursor == raw["NextContinuationToken"]


def test_list_empty(provider: S3Provider, target: StorageTarget) -> None:
    with provider.open(target) as session:
        page = session.list_page("nothing/", None, 2)
    assert page.items == [] and page.next_cursor is None


def test_delete(provider: S3Provider, target: StorageTarget) -> None:
    with provider.open(target) as session:
        session.put("snaps/d.jpg", b"d")
        session.delete("snaps/d.jpg")
        session.delete("snaps/d.jpg")  # S3 deletes are idempotent
        with pytest.raises(StorageError) as err:
            session.get("snaps/d.jpg")
    assert err.value.reason == Reason.NOT_FOUND


MD5 = "9e107d9d372bb6826bd81d3542a419d6"


@pytest.mark.parametrize(
    ("etag", "stored", "expected"),
    [
        (MD5, {}, Checksum("md5", MD5)),
        (MD5.upper(), {}, Checksum("md5", MD5)),
        ("abc", {}, None),
        (None, {}, None),
        (
            MD5,
            {"sha256": "c2hh", "crc32": "Y3JjMw=="},
            Checksum("crc32", "Y3JjMw=="),
        ),  # stored, cheapest first
        (None, {"sha1": "c2hhMQ=="}, Checksum("sha1", "c2hhMQ==")),
    ],
)
def test_checksum(
    provider: S3Provider,
    target: StorageTarget,
    etag: str | None,
    stored: dict[str, str],
    expected: Checksum | None,
) -> None:
    with provider.open(target) as session:
        info = ObjectInfo("k", 1, etag, None, MappingProxyType(stored))
        assert Checksum.of(session.checksum(info)) == expected


def test_checksum_detects_corruption(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    data = b"snapshot" * 500
    with provider.open(target) as session:
        session.put("snaps/v.jpg", data)
        server.faults.corrupt("v.jpg")
        with session.get("snaps/v.jpg") as stream:
            got = stream.read()
            rule = Checksum.of(session.checksum(stream.info))
    assert rule is not None and rule.algorithm == "md5" and len(got) == len(data)
    assert hashlib.md5(got).hexdigest() != rule.value == hashlib.md5(data).hexdigest()


def _plain_s3(server: LocalS3Server) -> S3Client:
    """A writer that stores no flexible checksum, so only the ETag describes the bytes."""
    return server.s3(request_checksum_calculation="when_required")


def test_multipart_etag_checksum_names_the_part_size(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    s3 = _plain_s3(server)
    part = b"p" * (5 * 1024 * 1024)
    up = s3.create_multipart_upload(Bucket=target.bucket, Key="snaps/mp.jpg")
    etags = [
        s3.upload_part(
            Bucket=target.bucket, Key="snaps/mp.jpg", UploadId=up["UploadId"], PartNumber=n, Body=body
        )["ETag"]
        for n, body in ((1, part), (2, b"tail"))
    ]
    s3.complete_multipart_upload(
        Bucket=target.bucket,
        Key="snaps/mp.jpg",
        UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in zip((1, 2), etags, strict=True)]},
    )
    with provider.open(target) as session:
        (item,) = session.list_page("snaps/mp", None, 10).items
        assert item.etag is not None and item.etag.endswith("-2")
        assert Checksum.of(session.checksum(item)) == Checksum(
            "md5-multipart", item.etag, {"part_size": len(part)}
        )


def test_sse_kms_object_offers_no_md5(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    """SSE-KMS objects' ETags are not the MD5 of the bytes on AWS: the GET must not claim one. A
    stored checksum (of the plaintext) still counts."""
    plain_writer, crc_writer = _plain_s3(server), server.s3()  # boto3's default stores a CRC32
    plain_writer.put_object(
        Bucket=target.bucket, Key="snaps/kms.jpg", Body=b"x" * 10, ServerSideEncryption="aws:kms"
    )
    crc_writer.put_object(
        Bucket=target.bucket, Key="snaps/kms-crc.jpg", Body=b"x" * 10, ServerSideEncryption="aws:kms"
    )
    plain_writer.put_object(Bucket=target.bucket, Key="snaps/plain.jpg", Body=b"x" * 10)
    with (
        provider.open(target) as session,
        session.get("snaps/kms.jpg") as kms,
        session.get("snaps/kms-crc.jpg") as kms_crc,
        session.get("snaps/plain.jpg") as plain,
    ):
        assert kms.info.etag is None and session.checksum(kms.info) is None
        assert Checksum.of(session.checksum(kms_crc.info)) == Checksum("crc32", "jt9Hdw==")
        assert Checksum.of(session.checksum(plain.info)) == Checksum(
            "md5", "336311a016184326ddbdd61edd4eeb52"
        )


def test_stat_is_a_head(provider: S3Provider, target: StorageTarget, server: LocalS3Server) -> None:
    with provider.open(target) as session:
        session.put("snaps/s.jpg", b"12345")
        server.faults.clear()
        info = session.stat("snaps/s.jpg")
        with pytest.raises(StorageError) as missing:
            session.stat("snaps/none.jpg")
    assert (info.key, info.size, info.etag) == ("snaps/s.jpg", 5, hashlib.md5(b"12345").hexdigest())
    assert isinstance(info.last_modified, datetime)
    assert missing.value.reason == Reason.NOT_FOUND
    assert server.faults.count("GET", target.bucket) == 0 and server.faults.count("HEAD", target.bucket) == 2
