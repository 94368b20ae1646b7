"""LocalTOSServer, proven with the official `tos` SDK over real HTTP (the proxy trick).

Every assertion is on behaviour the SDK observes: exact codes and statuses, bytes, CRCs, pages.
"""

from __future__ import annotations

import datetime as dt
import logging
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import crcmod
import pytest
import requests
import tos
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap.testing.secret_scan import assert_no_secret
from rtcsnap.testing.tosserver import UNKNOWN_KEY_CODE, LocalTOSServer, canonical_request, signature
from tos.exceptions import TosClientError, TosServerError
from tos.models2 import GenericInput

BODY = bytes(range(256)) * 600  # 150 KB: above the SDK's 64 KB Expect: 100-continue threshold


crc64: Callable[[bytes], int] = crcmod.mkCrcFun(
    0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF
)


def server_error(call: Callable[[], Any]) -> TosServerError:
    with pytest.raises(TosServerError) as err:
        call()
    return err.value


def code(call: Callable[[], Any]) -> tuple[str, int]:
    err = server_error(call)
    return err.code, err.status_code


@pytest.fixture
def server(local_tos: LocalTOSServer) -> Iterator[LocalTOSServer]:
    local_tos.faults.clear()
    yield local_tos
    local_tos.faults.clear()


@pytest.fixture
def bucket(server: LocalTOSServer) -> str:
    return server.create_bucket(new_bucket_name("tos"))


@pytest.fixture
def admin(server: LocalTOSServer) -> Any:
    return server.client()


# -- the signature algorithm -------------------------------------------------------------------


def test_signature_matches_the_vendors_own_vector() -> None:
    """The presigned-URL vector in volcengine/ve-tos-python-sdk tests/test_auth.py (ak/sk, 2021-01-01)."""
    query = [
        ("X-Tos-Algorithm", "TOS4-HMAC-SHA256"),
        ("X-Tos-Credential", "ak/20210101/beijing/tos/request"),
        ("X-Tos-Date", "20210101T000000Z"),
        ("X-Tos-Expires", "86400"),
        ("X-Tos-SignedHeaders", "host"),
    ]
    canonical = canonical_request("GET", "/key", query, {"host": "bkt.tos-cn-beijing.volces.com"}, ["host"])
    assert (
        signature("sk", "20210101T000000Z", "beijing", canonical)
        == "b87788cb98d1a5a91a046d20eb212ffc22cf7cd4c1d4e9bd2d15a989afb97d2f"
    )


# -- a good admin key ----------------------------------------------------------------------------


def test_bucket_lifecycle_through_the_sdk(server: LocalTOSServer, admin: Any) -> None:
    name = new_bucket_name("tos")
    assert admin.create_bucket(name).status_code == 200
    assert admin.head_bucket(name).region == server.region
    assert admin.delete_bucket(name).status_code == 204
    assert server_error(lambda: admin.head_bucket(name)).status_code == 404


def test_put_head_get_delete(admin: Any, bucket: str, tmp_path: Path) -> None:
    put = admin.put_object(bucket, "dir/snap 1.jpg", content=BODY)  # enable_crc: the SDK checks the CRC
    assert put.hash_crc64_ecma == crc64(BODY)
    head = admin.head_object(bucket, "dir/snap 1.jpg")
    assert (head.content_length, head.hash_crc64_ecma, head.etag) == (len(BODY), crc64(BODY), put.etag)
    got = admin.get_object(bucket, "dir/snap 1.jpg")
    chunks = list(got)  # iteration ends with the SDK's CRC comparison against the header
    assert len(chunks) > 1 and b"".join(chunks) == BODY and got.hash_crc64_ecma == crc64(BODY)
    admin.get_object_to_file(bucket, "dir/snap 1.jpg", str(tmp_path / "out.jpg"))
    assert (tmp_path / "out.jpg").read_bytes() == BODY
    assert admin.delete_object(bucket, "dir/snap 1.jpg").status_code == 204
    assert server_error(lambda: admin.head_object(bucket, "dir/snap 1.jpg")).status_code == 404


def test_streamed_upload_without_length(admin: Any, bucket: str) -> None:
    """A generator body goes out chunked (no Content-Length); the CRC is still of what arrived."""
    put = admin.put_object(
        bucket, "chunked", content=(BODY[i : i + 40000] for i in range(0, len(BODY), 40000))
    )
    assert put.hash_crc64_ecma == crc64(BODY)
    assert admin.get_object(bucket, "chunked").read() == BODY


def test_crc_of_objects_stored_by_someone_else(admin: Any, bucket: str) -> None:
    """A second server shares moto's objects but not the first one's remembered CRCs: HEAD and GET
    still carry the object's CRC (computed from the stored bytes)."""
    admin.put_object(bucket, "shared", content=BODY)
    with LocalTOSServer() as other:
        assert other.client().head_object(bucket, "shared").hash_crc64_ecma == crc64(BODY)
        assert b"".join(other.client().get_object(bucket, "shared")) == BODY


def test_sdk_crc_check_catches_a_flipped_byte(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    """The CRC header is the stored object's: a byte flipped in transit fails the SDK's check."""
    admin.put_object(bucket, "flip", content=BODY)
    server.faults.corrupt("flip", times=1)
    with pytest.raises(TosClientError, match="crc"):
        list(admin.get_object(bucket, "flip"))
    assert b"".join(admin.get_object(bucket, "flip")) == BODY


def test_list_objects_type2_pages(admin: Any, bucket: str) -> None:
    keys = sorted(f"p/{i:02d}" for i in range(7))
    for k in keys:
        admin.put_object(bucket, k, content=k.encode())
    admin.put_object(bucket, "other", content=b"x")
    seen: list[str] = []
    token, pages = None, 0
    while True:
        page = admin.list_objects_type2(
            bucket, prefix="p/", max_keys=2, list_only_once=True, continuation_token=token
        )
        pages += 1
        assert len(page.contents) <= 2 and page.key_count == len(page.contents)
        for obj in page.contents:
            assert (obj.size, obj.hash_crc64_ecma) == (len(obj.key), crc64(obj.key.encode()))
        seen += [obj.key for obj in page.contents]
        if not page.is_truncated:
            break
        assert page.next_continuation_token
        token = page.next_continuation_token
    assert pages == 4 and seen == keys


def test_list_objects_v1_pages_with_marker(admin: Any, bucket: str) -> None:
    keys = sorted(f"m/{i}" for i in range(5))
    for k in keys:
        admin.put_object(bucket, k, content=b"v")
    seen: list[str] = []
    marker, pages = None, 0
    while True:
        page = admin.list_objects(bucket, prefix="m/", max_keys=2, marker=marker)
        pages += 1
        seen += [obj.key for obj in page.contents]
        if not page.is_truncated:
            break
        assert page.next_marker == page.contents[-1].key  # a key, as TOS and S3 give it
        marker = page.next_marker
    assert pages == 3 and seen == keys
    assert page.contents[0].etag and page.contents[0].owner.id


# -- bad credentials -----------------------------------------------------------------------------


def test_wrong_secret(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    admin.put_object(bucket, "k", content=b"v")
    bad = server.client((server.admin.access_key, "not-the-secret-at-all"))
    assert code(lambda: bad.get_object(bucket, "k")) == ("SignatureDoesNotMatch", 403)
    assert code(lambda: bad.list_objects_type2(bucket, list_only_once=True)) == ("SignatureDoesNotMatch", 403)
    head = server_error(lambda: bad.head_object(bucket, "k"))  # not a client IO error: no body
    assert (head.status_code, head.header["Content-Length"], head.request_id != "") == (403, "0", True)


def test_unknown_key(server: LocalTOSServer, bucket: str) -> None:
    unknown = server.client(("AKLTUNKNOWN0000000000000", "whatever-secret-value"))
    assert code(lambda: unknown.put_object(bucket, "k", content=b"v")) == (UNKNOWN_KEY_CODE, 403)
    assert UNKNOWN_KEY_CODE == "InvalidAccessKeyId"


def test_request_tampered_after_signing(
    server: LocalTOSServer, admin: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signature valid for one key path does not open another."""
    admin.put_object(bucket, "a.txt", content=b"a")
    admin.put_object(bucket, "b.txt", content=b"b")
    thief = server.client()
    send = thief.session.request
    monkeypatch.setattr(
        thief.session, "request", lambda m, url, **kw: send(m, url.replace("/a.txt", "/b.txt"), **kw)
    )
    assert code(lambda: thief.get_object(bucket, "a.txt")) == ("SignatureDoesNotMatch", 403)
    headers = {"x-tos-meta-who": "someone-else"}
    monkeypatch.setattr(
        thief.session,
        "request",
        lambda m, url, **kw: send(m, url, **{**kw, "headers": {**kw["headers"], **headers}}),
    )
    assert code(lambda: thief.put_object(bucket, "a.txt", content=b"x", meta={"who": "me"})) == (
        "SignatureDoesNotMatch",
        403,
    )
    assert admin.get_object(bucket, "a.txt").read() == b"a"


@pytest.mark.parametrize("minutes", [-60, 20])
def test_skewed_date(admin: Any, bucket: str, minutes: int) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    assert code(lambda: admin.head_bucket(bucket, generic_input=GenericInput(request_date=when)))[1] == 403
    err = server_error(lambda: admin.get_object(bucket, "k", generic_input=GenericInput(request_date=when)))
    assert (err.code, err.status_code) == ("RequestTimeTooSkewed", 403)
    nearly = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10 if minutes > 0 else -10)
    assert admin.head_bucket(bucket, generic_input=GenericInput(request_date=nearly)).status_code == 200


# -- what a key may do -----------------------------------------------------------------------------


def test_write_only_key(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    writer = server.client(server.key(["Write"]))
    assert writer.put_object(bucket, "w", content=BODY).hash_crc64_ecma == crc64(BODY)
    assert code(lambda: writer.get_object(bucket, "w")) == ("AccessDenied", 403)
    assert code(lambda: writer.list_objects_type2(bucket, list_only_once=True)) == ("AccessDenied", 403)
    assert code(lambda: writer.list_objects(bucket)) == ("AccessDenied", 403)
    assert code(lambda: writer.delete_object(bucket, "w")) == ("AccessDenied", 403)
    assert server_error(lambda: writer.head_object(bucket, "w")).status_code == 403
    assert server_error(lambda: writer.head_bucket(bucket)).status_code == 403  # as SeaweedFS does
    assert code(lambda: writer.create_bucket(new_bucket_name("tos"))) == ("AccessDenied", 403)
    assert admin.get_object(bucket, "w").read() == BODY


def test_read_list_key(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    admin.put_object(bucket, "r", content=b"data")
    reader = server.client(server.key(["Read", "List"]))
    assert reader.get_object(bucket, "r").read() == b"data"
    assert [o.key for o in reader.list_objects_type2(bucket, list_only_once=True).contents] == ["r"]
    assert reader.head_bucket(bucket).status_code == 200
    assert code(lambda: reader.put_object(bucket, "r", content=b"new")) == ("AccessDenied", 403)
    assert code(lambda: reader.delete_object(bucket, "r")) == ("AccessDenied", 403)
    assert admin.get_object(bucket, "r").read() == b"data"


def test_key_limited_to_one_bucket(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    other = server.create_bucket(new_bucket_name("tos"))
    scoped = server.client(server.key(["Write"], bucket=bucket))
    assert scoped.put_object(bucket, "x", content=b"1").status_code == 200
    assert code(lambda: scoped.put_object(other, "x", content=b"1")) == ("AccessDenied", 403)


# -- missing things ------------------------------------------------------------------------------


def test_missing_bucket_and_key(admin: Any, bucket: str) -> None:
    missing = new_bucket_name("gone")
    assert code(lambda: admin.get_object(missing, "k")) == ("NoSuchBucket", 404)
    assert code(lambda: admin.list_objects_type2(missing, list_only_once=True)) == ("NoSuchBucket", 404)
    assert server_error(lambda: admin.head_bucket(missing)).status_code == 404
    assert code(lambda: admin.get_object(bucket, "nope")) == ("NoSuchKey", 404)
    assert server_error(lambda: admin.head_object(bucket, "nope")).status_code == 404


# -- faults --------------------------------------------------------------------------------------


def test_injected_503_then_success(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    admin.put_object(bucket, "f.jpg", content=b"ok")
    server.faults.fail("GET", "f.jpg", status=503, times=1, code="ExceedQPSLimit")
    assert code(lambda: admin.get_object(bucket, "f.jpg")) == ("ExceedQPSLimit", 503)
    assert admin.get_object(bucket, "f.jpg").read() == b"ok"
    assert server.faults.count("GET", f"/{bucket}/f.jpg") == 2  # paths as LocalS3Server's: /bucket/key


def test_reset_connection(server: LocalTOSServer, admin: Any, bucket: str) -> None:
    server.faults.reset("PUT", "r.jpg")
    with pytest.raises(TosClientError):
        admin.put_object(bucket, "r.jpg", content=b"x")
    assert admin.put_object(bucket, "r.jpg", content=b"x").status_code == 200


# -- presigned URLs, custom domain, moto auth mode ----------------------------------------------------


def _presigned(server: LocalTOSServer, admin: Any, bucket: str, key: str, **kw: Any) -> str:
    url: str = admin.pre_signed_url(tos.HttpMethodType.Http_Method_Get, bucket, key, **kw).signed_url
    return url


def test_presigned_url(
    server: LocalTOSServer, admin: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.put_object(bucket, "p.jpg", content=BODY)
    admin.put_object(bucket, "q.jpg", content=b"q")
    proxy = {"http": server.endpoint}
    url = _presigned(server, admin, bucket, "p.jpg")
    got = requests.get(url, proxies=proxy, timeout=10)
    assert (got.status_code, got.content, got.headers["x-tos-hash-crc64ecma"]) == (
        200,
        BODY,
        str(crc64(BODY)),
    )
    forged = requests.get(url.replace("/p.jpg", "/q.jpg"), proxies=proxy, timeout=10)
    assert (forged.status_code, forged.json()["Code"]) == (403, "SignatureDoesNotMatch")
    writer_url = _presigned(server, server.client(server.key(["Write"])), bucket, "p.jpg")
    assert requests.get(writer_url, proxies=proxy, timeout=10).json()["Code"] == "AccessDenied"
    past = type(
        "Past",
        (dt.datetime,),
        {"utcnow": classmethod(lambda cls: dt.datetime.utcnow() - dt.timedelta(hours=2))},
    )
    monkeypatch.setattr(tos.auth, "datetime", types.SimpleNamespace(datetime=past, timedelta=dt.timedelta))
    expired = requests.get(
        _presigned(server, admin, bucket, "p.jpg", expires=3600), proxies=proxy, timeout=10
    )
    assert (expired.status_code, expired.json()["Code"]) == (403, "AccessDenied")


def test_custom_domain(bucket: str) -> None:
    """``is_custom_domain=True``: no bucket in Host or path; the object lands in `default_bucket`."""
    with LocalTOSServer(default_bucket=bucket) as own:
        direct = own.client(custom_domain=True)
        assert direct.put_object(bucket, "cd.txt", content=b"custom").hash_crc64_ecma == crc64(b"custom")
        assert direct.get_object(bucket, "cd.txt").read() == b"custom"
        assert own.client().get_object(bucket, "cd.txt").read() == b"custom"  # the same object, vhost-style
        own.default_bucket = None
        assert code(lambda: direct.get_object(bucket, "cd.txt")) == ("InvalidRequest", 400)


def test_works_while_moto_auth_mode_is_on(admin: Any, bucket: str) -> None:
    """moto's SigV4 checking is process-global (LocalS3Server.enable_auth): the layer re-signs for moto."""
    with LocalS3Server() as s3:
        s3.enable_auth()
        assert s3.auth_enabled
        assert admin.put_object(bucket, "auth/k 1", content=BODY).hash_crc64_ecma == crc64(BODY)
        assert admin.get_object(bucket, "auth/k 1").read() == BODY
        assert admin.head_object(bucket, "auth/k 1").content_length == len(BODY)
        page = admin.list_objects_type2(
            bucket, prefix="auth/", max_keys=1, list_only_once=True, start_after="auth/"
        )
        assert [o.key for o in page.contents] == ["auth/k 1"]
        assert admin.delete_object(bucket, "auth/k 1").status_code == 204


# -- secrets -------------------------------------------------------------------------------------------


def test_secret_never_in_logs_or_errors(
    server: LocalTOSServer, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = server.key(["Read"])
    errors = [
        server_error(lambda: server.client((key.access_key, "wrong-secret-123456")).get_object(bucket, "k")),
        server_error(lambda: server.client(key).put_object(bucket, "k", content=b"v")),
        server_error(lambda: server.client(key).get_object(bucket, "missing")),
    ]
    assert [e.code for e in errors] == ["SignatureDoesNotMatch", "AccessDenied", "NoSuchKey"]
    texts = [caplog.text, *map(str, errors), *(str(e.header) for e in errors), repr(key), repr(server.admin)]
    assert_no_secret(*texts, where="server logs and errors")
    with pytest.raises(AssertionError):  # the scan itself would see it
        assert_no_secret(f"log line {key.secret_key}")
