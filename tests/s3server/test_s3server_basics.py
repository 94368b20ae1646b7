"""LocalS3Server lifecycle, S3-only routing and request logging, over real HTTP."""

from __future__ import annotations

import time
import urllib.request
from typing import TYPE_CHECKING

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from rtcsnap.testing.s3server import LocalS3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_start_stop_endpoint_and_port() -> None:
    srv = LocalS3Server()
    with pytest.raises(RuntimeError):
        _ = srv.port
    t0 = time.perf_counter()
    srv.start()
    port = srv.port
    try:
        assert srv.port > 0
        assert srv.endpoint == f"http://127.0.0.1:{srv.port}"
        srv.s3().list_buckets()
        assert time.perf_counter() - t0 < 1.5  # start + first request (lazy S3 backend)
    finally:
        srv.stop()
    srv.stop()  # idempotent
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_context_manager_round_trip() -> None:
    with LocalS3Server() as srv:
        endpoint = srv.endpoint
        s3 = srv.s3()
        name = srv.create_bucket(f"ctx-{srv.port}")
        s3.put_object(Bucket=name, Key="a/b.txt", Body=b"hello")
        assert s3.get_object(Bucket=name, Key="a/b.txt")["Body"].read() == b"hello"
    with pytest.raises(OSError):
        urllib.request.urlopen(endpoint + "/", timeout=2)


def test_moto_state_is_shared_between_servers(server: LocalS3Server, bucket: str) -> None:
    server.s3().put_object(Bucket=bucket, Key="k", Body=b"v")
    with LocalS3Server() as other:
        assert other.s3().get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_any_sigv4_scope_is_routed_to_s3(server: LocalS3Server, s3: S3Client, bucket: str) -> None:
    """Stock moto would route a request signed for service "sns" (or "tos") to that backend."""
    s3.put_object(Bucket=bucket, Key="x.txt", Body=b"1")
    ak, sk = server.admin_credentials
    for service in ("sns", "tos"):
        req = AWSRequest("GET", f"{server.endpoint}/{bucket}?list-type=2")
        S3SigV4Auth(Credentials(ak, sk), service, "us-east-1").add_auth(req)  # checked in auth mode too
        assert f"/{service}/aws4_request" in req.headers["Authorization"]
        http = urllib.request.Request(str(req.url), headers=dict(req.headers.items()))
        with urllib.request.urlopen(http, timeout=5) as resp:
            body = resp.read()
        assert b"<ListBucketResult" in body and b"<Key>x.txt</Key>" in body


def test_request_log_is_silent(
    server: LocalS3Server, s3: S3Client, bucket: str, capfd: pytest.CaptureFixture[str]
) -> None:
    s3.put_object(Bucket=bucket, Key="quiet", Body=b"q")
    s3.get_object(Bucket=bucket, Key="quiet")["Body"].read()
    out, err = capfd.readouterr()
    assert "GET /" not in err + out and "PUT /" not in err + out


def test_plain_keys_work_while_auth_is_off(server: LocalS3Server, bucket: str) -> None:
    if server.auth_enabled:
        pytest.skip("auth mode is held by another fixture in this process")
    assert server.admin_credentials == ("testing", "testing")
    s3 = server.s3(("anything", "goes"))
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
