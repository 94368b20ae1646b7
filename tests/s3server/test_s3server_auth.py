"""Auth mode: moto checks SigV4 against IAM-issued keys, over real HTTP with boto3."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from rtcsnap.testing.s3server import LocalS3Server

PUT_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def auth_server() -> Iterator[LocalS3Server]:
    """Own module scope: auth is process-wide and is switched off (if we were last) at teardown."""
    with LocalS3Server() as srv:
        srv.enable_auth()
        yield srv


@pytest.fixture
def auth_bucket(auth_server: LocalS3Server) -> str:
    return auth_server.create_bucket(f"auth-{uuid.uuid4().hex[:12]}")


def _code(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = err.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def test_admin_key_works(auth_server: LocalS3Server, auth_bucket: str) -> None:
    assert auth_server.auth_enabled
    ak, _ = auth_server.admin_credentials
    assert ak.startswith("AKIA") and ak != "testing"
    s3 = auth_server.s3()
    s3.put_object(Bucket=auth_bucket, Key="a", Body=b"1")
    assert s3.get_object(Bucket=auth_bucket, Key="a")["Body"].read() == b"1"
    s3.head_bucket(Bucket=auth_bucket)


def test_wrong_secret_is_signature_does_not_match(auth_server: LocalS3Server, auth_bucket: str) -> None:
    ak, _ = auth_server.admin_credentials
    s3 = auth_server.s3((ak, "not-the-secret"))
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=auth_bucket)
    assert _code(err) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=auth_bucket)
    assert _code(err) == ("403", 403)  # HEAD has no body: botocore only sees the status


def test_unknown_key_is_invalid_access_key_id(auth_server: LocalS3Server, auth_bucket: str) -> None:
    s3 = auth_server.s3(("AKIAUNKNOWNUNKNOWN00", "whatever"))
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=auth_bucket, Key="x", Body=b"1")
    assert _code(err) == ("InvalidAccessKeyId", 403)


def test_put_only_user(auth_server: LocalS3Server, auth_bucket: str) -> None:
    writer = auth_server.create_user(f"writer-{uuid.uuid4().hex[:6]}", PUT_ONLY)
    s3 = auth_server.s3(writer)
    s3.put_object(Bucket=auth_bucket, Key="w.jpg", Body=b"jpeg")
    for call in (
        lambda: s3.get_object(Bucket=auth_bucket, Key="w.jpg"),
        lambda: s3.list_objects_v2(Bucket=auth_bucket),
        lambda: s3.delete_object(Bucket=auth_bucket, Key="w.jpg"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert _code(err) == ("AccessDenied", 403)
    # the admin sees what the writer wrote
    assert auth_server.s3().get_object(Bucket=auth_bucket, Key="w.jpg")["Body"].read() == b"jpeg"


def test_create_user_twice_adds_a_key(auth_server: LocalS3Server) -> None:
    name = f"twice-{uuid.uuid4().hex[:6]}"
    first = auth_server.create_user(name, PUT_ONLY)
    second = auth_server.create_user(name, PUT_ONLY)
    assert first[0] != second[0]


def test_missing_bucket(auth_server: LocalS3Server) -> None:
    s3 = auth_server.s3()
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="no-such-bucket-rtcsnap", Key="k")
    assert _code(err) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket="no-such-bucket-rtcsnap")
    assert _code(err) == ("404", 404)


def test_auth_mode_is_shared_by_every_server(auth_server: LocalS3Server, auth_bucket: str) -> None:
    """moto's switch is process-global: a plain server is checked too and signs with the same admin."""
    with LocalS3Server() as plain:
        assert plain.auth_enabled
        assert plain.admin_credentials == auth_server.admin_credentials
        with pytest.raises(ClientError) as err:
            plain.s3(("testing", "testing")).list_objects_v2(Bucket=auth_bucket)
        assert _code(err) == ("InvalidAccessKeyId", 403)
        assert plain.enable_auth() == auth_server.admin_credentials  # joins, same admin
    # plain.stop() left auth mode, but auth_server still holds it
    assert auth_server.auth_enabled
    auth_server.s3().head_bucket(Bucket=auth_bucket)


def test_auth_goes_off_with_the_last_holder() -> None:
    with LocalS3Server() as a, LocalS3Server() as b:
        before = a.auth_enabled  # True here: the module's auth_server (and maybe others) hold it
        ka = a.enable_auth()
        assert b.enable_auth() == ka
        a.disable_auth()
        assert b.auth_enabled
        b.disable_auth()
        assert b.auth_enabled == before
