"""botocore failures become StorageError reasons: real ones from moto, the rest synthesized."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from typing import Any, cast

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from rtcsnap.errors import Reason, StorageError
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap_s3 import S3Provider, translate_error
from rtcsnap_s3 import provider as provider_module

MakeTarget = Callable[..., StorageTarget]
PUT_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_no_secret(err: StorageError, target: StorageTarget) -> None:
    assert target.credentials is not None
    text = str(err) + repr(err.args)
    assert target.credentials.secret_key.get_secret_value() not in text


def test_bucket_missing(provider: S3Provider, make_target: MakeTarget) -> None:
    target = make_target(bucket_name=f"missing-{uuid.uuid4().hex[:8]}")
    with provider.open(target) as session:
        with pytest.raises(StorageError) as head:
            session.head_bucket()
        with pytest.raises(StorageError) as get:
            session.get("snaps/a.jpg")
        with pytest.raises(StorageError) as lst:
            session.list_page("snaps/", None, 10)
        with pytest.raises(StorageError) as put:
            session.put("snaps/a.jpg", b"x")
    assert (head.value.reason, head.value.status, head.value.operation) == (
        Reason.BUCKET_MISSING,
        404,
        "head_bucket",
    )
    for err in (get, lst, put):
        assert (err.value.reason, err.value.code, err.value.status) == (
            Reason.BUCKET_MISSING,
            "NoSuchBucket",
            404,
        )
    assert str(get.value).startswith("s3 get: bucket_missing: s3://missing-")


def test_not_found(provider: S3Provider, target: StorageTarget) -> None:
    with provider.open(target) as session, pytest.raises(StorageError) as err:
        session.get("snaps/nope.jpg")
    assert (err.value.reason, err.value.code, err.value.status) == (Reason.NOT_FOUND, "NoSuchKey", 404)
    assert err.value.provider == "s3" and err.value.operation == "get"
    assert "snaps/nope.jpg" in err.value.message and not err.value.retryable


def test_unknown_access_key(provider: S3Provider, make_target: MakeTarget) -> None:
    target = make_target(("AKIAUNKNOWN000000000", "some-secret-value"))
    with provider.open(target) as session:
        with pytest.raises(StorageError) as head:
            session.head_bucket()
        with pytest.raises(StorageError) as listing:
            session.list_page("", None, 1)
        with pytest.raises(StorageError) as put:
            session.put("snaps/a.jpg", b"x")
    # a HEAD error has no body, so no code: a bare 403 (verify's coded probes name the cause)
    assert (head.value.reason, head.value.status) == (Reason.PERMISSION_DENIED, 403)
    for err in (listing, put):
        assert (err.value.reason, err.value.code, err.value.status) == (
            Reason.UNKNOWN_ACCESS_KEY,
            "InvalidAccessKeyId",
            403,
        )
        _assert_no_secret(err.value, target)
    assert "AKIAUNKNOWN000000000" not in str(put.value)


def test_bad_secret(provider: S3Provider, make_target: MakeTarget, server: LocalS3Server) -> None:
    ak, _ = server.admin_credentials
    target = make_target((ak, "definitely-wrong-secret"))
    with provider.open(target) as session:
        with pytest.raises(StorageError) as head:
            session.head_bucket()
        with pytest.raises(StorageError) as get:
            session.get("snaps/a.jpg")
    assert (head.value.reason, head.value.status) == (Reason.PERMISSION_DENIED, 403)
    _assert_no_secret(head.value, target)
    for err in (get,):
        assert (err.value.reason, err.value.code) == (Reason.BAD_SECRET, "SignatureDoesNotMatch")
        _assert_no_secret(err.value, target)


def test_permission_denied_for_a_write_only_key(
    provider: S3Provider, make_target: MakeTarget, server: LocalS3Server
) -> None:
    writer = server.create_user(f"rtc-writer-{uuid.uuid4().hex[:6]}", PUT_ONLY)
    target = make_target(writer)
    with provider.open(target) as session:
        session.put("snaps/ok.jpg", b"x")  # allowed
        for call in (
            session.head_bucket,
            lambda: session.get("snaps/ok.jpg"),
            lambda: session.list_page("snaps/", None, 5),
            lambda: session.delete("snaps/ok.jpg"),
        ):
            with pytest.raises(StorageError) as err:
                call()
            assert (err.value.reason, err.value.status) == (Reason.PERMISSION_DENIED, 403)


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (503, "SlowDown", Reason.THROTTLED),
        (429, "TooManyRequests", Reason.THROTTLED),
        (503, "ServiceUnavailable", Reason.TRANSIENT),
        (500, "InternalError", Reason.TRANSIENT),
        (502, "BadGateway", Reason.TRANSIENT),
        (504, "GatewayTimeout", Reason.TRANSIENT),
        (418, "Teapot", Reason.OTHER),
    ],
)
def test_injected_server_errors(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server, status: int, code: str, reason: Reason
) -> None:
    with provider.open(target) as session:
        session.put("snaps/t.jpg", b"t")
        server.faults.fail("GET", "t.jpg", status=status, code=code)
        with pytest.raises(StorageError) as err:
            session.get("snaps/t.jpg")
        assert (err.value.reason, err.value.code, err.value.status) == (reason, code, status)
        assert err.value.request_id is not None and err.value.request_id.startswith("FAULT")
        assert session.get("snaps/t.jpg").read() == b"t"  # times=1, and botocore did not retry
    assert server.faults.count("GET", "t.jpg") == 2


def test_wrong_region_after_botocore_redirect(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    """botocore follows one S3 301 itself (asks the bucket's region, re-signs); a second 301 surfaces."""
    with provider.open(target) as session:
        session.put("snaps/r.jpg", b"r")
        server.faults.fail("GET", "r.jpg", status=301, code="PermanentRedirect", times=2)
        with pytest.raises(StorageError) as err:
            session.get("snaps/r.jpg")
    assert (err.value.reason, err.value.code, err.value.status) == (
        Reason.WRONG_REGION,
        "PermanentRedirect",
        301,
    )
    assert server.faults.count("GET", "r.jpg") == 2


def test_injected_head_errors_have_status_only(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server
) -> None:
    with provider.open(target) as session:
        server.faults.fail("HEAD", target.bucket, status=503)
        with pytest.raises(StorageError) as err:
            session.head_bucket()
        assert (err.value.reason, err.value.code) == (Reason.TRANSIENT, "503")  # no body: SlowDown is lost
        server.faults.fail("HEAD", target.bucket, status=429)
        with pytest.raises(StorageError) as err:
            session.head_bucket()
        assert err.value.reason == Reason.THROTTLED


def test_network_closed_port(provider: S3Provider, make_target: MakeTarget) -> None:
    target = make_target(endpoint=f"http://127.0.0.1:{_free_port()}")
    with provider.open(target) as session:
        for call in (
            session.head_bucket,
            lambda: session.get("snaps/a.jpg"),
            lambda: session.put("snaps/a.jpg", b"x"),
            lambda: session.list_page("", None, 1),
        ):
            with pytest.raises(StorageError) as err:
                call()
            assert err.value.reason == Reason.NETWORK and err.value.retryable
            _assert_no_secret(err.value, target)


def test_network_error_mid_body(
    provider: S3Provider, target: StorageTarget, server: LocalS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read timeout while streaming surfaces from the chunk iterator as a StorageError."""
    real_config = provider_module.Config  # type: ignore[attr-defined]

    def short_read_timeout(**kwargs: Any) -> Any:
        return real_config(**{**kwargs, "read_timeout": 0.3})

    monkeypatch.setattr(provider_module, "Config", short_read_timeout)
    with provider.open(target) as session:
        session.put("snaps/slow.jpg", b"s" * 100_000)
        server.faults.slow("slow.jpg", 5)
        with session.get("snaps/slow.jpg") as stream, pytest.raises(StorageError) as err:
            stream.read()
    server.faults.clear()
    assert err.value.reason == Reason.NETWORK and err.value.operation == "get"
    assert err.value.__cause__ is not None


# -- synthesized: reasons moto cannot produce ------------------------------------------------

TARGET = StorageTarget(
    scheme="s3",
    bucket="bkt",
    region="us-east-1",
    credentials=Credentials.of("AKIAEXAMPLE", "s3cr3t-VALUE", "sts-T0KEN"),
)


def _client_error(code: str, status: int, message: str = "", op: str = "GetObject") -> ClientError:
    return ClientError(
        cast(
            Any,
            {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "RID1"},
            },
        ),
        op,
    )


@pytest.mark.parametrize(
    ("exc", "operation", "reason"),
    [
        (_client_error("PermanentRedirect", 301), "get", Reason.WRONG_REGION),
        (_client_error("301", 301, op="HeadBucket"), "head_bucket", Reason.WRONG_REGION),
        (
            _client_error(
                "AuthorizationHeaderMalformed", 400, "the region 'us-east-1' is wrong; expecting 'eu-west-1'"
            ),
            "get",
            Reason.WRONG_REGION,
        ),
        (_client_error("AuthorizationHeaderMalformed", 400, "bad date"), "get", Reason.OTHER),
        (_client_error("IllegalLocationConstraintException", 400), "put", Reason.WRONG_REGION),
        (_client_error("Throttling", 400), "list", Reason.THROTTLED),
        (_client_error("RequestTimeout", 400), "put", Reason.TRANSIENT),
        (_client_error("ExpiredToken", 400), "get", Reason.UNKNOWN_ACCESS_KEY),
        (_client_error("404", 404, op="HeadBucket"), "head_bucket", Reason.BUCKET_MISSING),
        (_client_error("404", 404, op="HeadObject"), "get", Reason.NOT_FOUND),
        (_client_error("403", 403, op="HeadBucket"), "head_bucket", Reason.PERMISSION_DENIED),
        (EndpointConnectionError(endpoint_url="http://x"), "get", Reason.NETWORK),
        (ConnectTimeoutError(endpoint_url="http://x"), "get", Reason.NETWORK),
        (ReadTimeoutError(endpoint_url="http://x"), "get", Reason.NETWORK),
        (ConnectionClosedError(endpoint_url="http://x"), "put", Reason.NETWORK),
        (ParamValidationError(report="bad key"), "put", Reason.OTHER),
    ],
)
def test_translate_error(exc: Exception, operation: str, reason: Reason) -> None:
    err = translate_error(exc, operation, TARGET, "k.jpg")
    assert err.reason == reason and err.operation == operation and err.provider == "s3"


def test_translate_error_redacts_credentials() -> None:
    leaky = _client_error("AccessDenied", 403, "key AKIAEXAMPLE secret s3cr3t-VALUE token sts-T0KEN")
    err = translate_error(leaky, "get", TARGET, "k.jpg")
    text = str(err)
    assert "s3cr3t-VALUE" not in text and "sts-T0KEN" not in text and "AKIAEXAMPLE" not in text
    assert (err.code, err.status, err.request_id) == ("AccessDenied", 403, "RID1")
    assert (
        text == "s3 get: permission_denied: s3://bkt/k.jpg: key *** secret *** token *** "
        "(code=AccessDenied, status=403, request_id=RID1)"
    )
