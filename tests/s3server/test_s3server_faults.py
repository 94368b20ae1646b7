"""Fault injection (`server.faults`) seen by boto3 over real HTTP."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError, FlexibleChecksumError
from rtcsnap.testing.s3server import LocalS3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def _code(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = err.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def test_fail_next_n_then_normal(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="snaps/a.jpg", Body=b"a")
    server.faults.fail("GET", "a.jpg", status=503, times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=bucket, Key="snaps/a.jpg")
        assert _code(err) == ("SlowDown", 503)
        assert err.value.response["ResponseMetadata"]["RequestId"].startswith("FAULT")
    assert s3.get_object(Bucket=bucket, Key="snaps/a.jpg")["Body"].read() == b"a"
    assert server.faults.count("GET", "a.jpg") == 3


def test_fail_matches_method_and_key(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    server.faults.fail("PUT", "only-this", status=500, code="InternalError", times=None)
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")  # other key: untouched
    for _ in range(3):  # times=None: until clear()
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket=bucket, Key="only-this", Body=b"x" * 100_000)
        assert _code(err) == ("InternalError", 500)
    s3.get_object(Bucket=bucket, Key="other")  # GET is not PUT; connection still in sync after unread body
    server.faults.clear()
    s3.put_object(Bucket=bucket, Key="only-this", Body=b"x")


def test_fail_on_head_has_status_only(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    server.faults.fail("HEAD", bucket, status=429, code="TooManyRequests")
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=bucket)
    assert _code(err) == ("429", 429)
    s3.head_bucket(Bucket=bucket)


def test_fail_any_method(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    server.faults.fail("*", bucket, status=503, times=2)
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=bucket, Key="k")
    s3.list_objects_v2(Bucket=bucket)


def test_times_must_be_positive(server: LocalS3Server) -> None:
    with pytest.raises(ValueError):
        server.faults.fail("GET", "x", times=0)


def test_corrupt_keeps_length_and_etag(server: LocalS3Server, bucket: str) -> None:
    s3 = server.s3(response_checksum_validation="when_required")  # see the raw bytes
    data = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="c/victim.jpg", Body=data)
    s3.put_object(Bucket=bucket, Key="c/fine.jpg", Body=data)
    server.faults.corrupt("victim")
    for _ in range(2):  # persists until clear()
        resp = s3.get_object(Bucket=bucket, Key="c/victim.jpg")
        got = resp["Body"].read()
        assert len(got) == len(data) == resp["ContentLength"]
        assert got != data
        assert resp["ETag"].strip('"') == hashlib.md5(data).hexdigest() != hashlib.md5(got).hexdigest()
    assert s3.get_object(Bucket=bucket, Key="c/fine.jpg")["Body"].read() == data
    server.faults.clear()
    assert s3.get_object(Bucket=bucket, Key="c/victim.jpg")["Body"].read() == data


def test_corrupt_trips_botocore_default_crc_validation(
    server: LocalS3Server, s3: S3Client, bucket: str
) -> None:
    """boto3 >= 1.36 stores a CRC32 on PUT and checks it on GET: the kept header gives us away."""
    s3.put_object(Bucket=bucket, Key="crc.jpg", Body=b"0123456789" * 100)
    server.faults.corrupt("crc.jpg")
    with pytest.raises(FlexibleChecksumError):
        s3.get_object(Bucket=bucket, Key="crc.jpg")["Body"].read()


def test_corrupt_times(server: LocalS3Server, bucket: str) -> None:
    s3 = server.s3(response_checksum_validation="when_required")
    s3.put_object(Bucket=bucket, Key="once", Body=b"abcdef")
    server.faults.corrupt("once", times=1)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() != b"abcdef"
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"abcdef"


def test_drop_next_token_v2_and_v1(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"p/{i}", Body=b"x")
    server.faults.drop_next_token()
    page = s3.list_objects_v2(Bucket=bucket, Prefix="p/", MaxKeys=2)
    assert page["IsTruncated"] is True and "NextContinuationToken" not in page
    assert [o["Key"] for o in page["Contents"]] == ["p/0", "p/1"]
    page = s3.list_objects_v2(Bucket=bucket, Prefix="p/", MaxKeys=2)  # only the next one
    assert page["IsTruncated"] and page["NextContinuationToken"]
    server.faults.drop_next_token()
    v1 = s3.list_objects(Bucket=bucket, Prefix="p/", MaxKeys=2)
    assert v1["IsTruncated"] is True and "NextMarker" not in v1
    # a StartAfter/Marker fallback still pages correctly
    rest = s3.list_objects_v2(Bucket=bucket, Prefix="p/", StartAfter="p/1")
    assert [o["Key"] for o in rest["Contents"]] == ["p/2", "p/3", "p/4"]


def test_drop_next_token_waits_for_a_truncated_listing(
    server: LocalS3Server, s3: S3Client, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="only", Body=b"x")
    server.faults.drop_next_token()
    assert s3.list_objects_v2(Bucket=bucket)["IsTruncated"] is False  # nothing to drop: rule kept
    s3.put_object(Bucket=bucket, Key="two", Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    assert page["IsTruncated"] and "NextContinuationToken" not in page


def test_slow_stalls_mid_body(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    data = b"z" * 200_000
    s3.put_object(Bucket=bucket, Key="slow/big.jpg", Body=data)
    server.faults.slow("big.jpg", 0.6)
    t0 = time.perf_counter()
    resp = s3.get_object(Bucket=bucket, Key="slow/big.jpg")
    headers_at = time.perf_counter() - t0
    body = resp["Body"]
    first = body.read(1000)
    first_at = time.perf_counter() - t0
    rest = body.read()
    done_at = time.perf_counter() - t0
    assert first + rest == data
    assert headers_at < 0.5 and first_at < 0.5 and done_at >= 0.6


def test_clear_releases_a_stalled_response(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="stuck.jpg", Body=b"y" * 10_000)
    server.faults.slow("stuck.jpg", 30)
    threading.Timer(0.2, server.faults.clear).start()
    t0 = time.perf_counter()
    assert s3.get_object(Bucket=bucket, Key="stuck.jpg")["Body"].read() == b"y" * 10_000
    assert time.perf_counter() - t0 < 5


def test_request_counters(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    server.faults.clear()
    s3.put_object(Bucket=bucket, Key="n1", Body=b"1")
    s3.put_object(Bucket=bucket, Key="n2", Body=b"2")
    s3.get_object(Bucket=bucket, Key="n1")["Body"].read()
    s3.head_bucket(Bucket=bucket)
    assert server.faults.requests == {"PUT": 2, "GET": 1, "HEAD": 1}
    assert server.faults.count("PUT", "n2") == 1
    assert server.faults.count(key_substring=bucket) == 4
    server.create_user(
        "counted-not",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
    )  # IAM: not S3 traffic
    assert sum(server.faults.requests.values()) == 4
    server.faults.clear()
    assert not server.faults.requests
