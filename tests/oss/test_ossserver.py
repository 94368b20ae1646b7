"""LocalOSSServer, proven with the official `oss2` SDK over real HTTP, for signature V4 and V1.

The signature functions are checked against Aliyun's own test vectors (its V2 Python SDK's
signer tests, shared by its Swift/Kotlin/C++ SDKs); every other assertion is on what the SDK
observes: exact codes and statuses, bytes, CRCs, pages, headers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import crcmod
import oss2
import pytest
import requests
from oss2 import exceptions as oe
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.dialect import hmac_sha1_signature
from rtcsnap.testing.ossserver import (
    SUBRESOURCES,
    WRONG_ENDPOINT,
    LocalOSSServer,
    canonical_request_v4,
    canonical_resource,
    signature_v4,
    string_to_sign_v1,
)
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap.testing.secret_scan import assert_no_secret

BODY = bytes(range(256)) * 600  # 150 KB
SIGS = ["v4", "v1"]
KEYS = ["dir/snap 1.jpg", "a/ü+&=%41.jpg"]  # a '/' arrives as %2F; '+', '%' and UTF-8 stay themselves

crc64: Callable[[bytes], int] = crcmod.mkCrcFun(
    0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF
)


def oss_error(call: Callable[[], Any]) -> oe.OssError:
    with pytest.raises(oe.OssError) as err:
        call()
    return err.value


def code(call: Callable[[], Any]) -> tuple[str, int]:
    err = oss_error(call)
    return err.code, err.status


@pytest.fixture
def server(local_oss: LocalOSSServer) -> Iterator[LocalOSSServer]:
    local_oss.faults.clear()
    yield local_oss
    local_oss.faults.clear()


@pytest.fixture
def bucket(server: LocalOSSServer) -> str:
    return server.create_bucket(new_bucket_name("oss"))


@pytest.fixture(params=SIGS)
def sig(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def admin(server: LocalOSSServer, bucket: str, sig: str) -> Any:
    return server.bucket(bucket, signature=sig)


# -- the signature algorithms, against Aliyun's vectors -------------------------------------------

_V4_QUERY = [("param1", "value1"), ("+param1", "value3"), ("|param1", "value4")]
_V4_QUERY += [("+param2", ""), ("|param2", ""), ("param2", "")]
_V4_HEADERS = {"x-oss-head1": "value", "abc": "value", "zabc": "value", "xyz": "value"}


def _iso(seconds: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


@pytest.mark.parametrize(
    ("seconds", "extra", "additional", "expected"),
    [
        (1702743657, {}, [], "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"),
        (1702784856, {"x-oss-security-token": "token"}, [], "b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"),
        (1702747512, {}, ["abc", "zabc"], "4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f"),
    ],
)  # fmt: skip
def test_v4_header_signature_matches_aliyuns_vectors(
    seconds: int, extra: dict[str, str], additional: list[str], expected: str
) -> None:
    """aliyun/alibabacloud-oss-python-sdk-v2 tests/unit/signer/test_v4.py (ak/sk, PUT
    bucket/1234+-/123/1.txt, cn-hangzhou): XYZ unsigned, abc/zabc only as AdditionalHeaders."""
    when = _iso(seconds)
    headers = _V4_HEADERS | {"content-type": "text/plain", "x-oss-content-sha256": "UNSIGNED-PAYLOAD"}
    headers |= {"x-oss-date": when, **extra}
    canonical = canonical_request_v4("PUT", "bucket", "1234+-/123/1.txt", _V4_QUERY, headers, additional)
    assert signature_v4("sk", when, "cn-hangzhou", canonical) == expected


@pytest.mark.parametrize(
    ("seconds", "token", "expected"),
    [
        (1702781677, None, "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"),
        (1702785388, "token", "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"),
    ],
)
def test_v4_presigned_signature_matches_aliyuns_vectors(
    seconds: int, token: str | None, expected: str
) -> None:
    when = _iso(seconds)
    query = [*_V4_QUERY, ("x-oss-signature-version", "OSS4-HMAC-SHA256"), ("x-oss-date", when)]
    query += [
        ("x-oss-expires", "599"),
        ("x-oss-credential", f"ak/{when[:8]}/cn-hangzhou/oss/aliyun_v4_request"),
    ]
    query += [("x-oss-security-token", token)] if token else []
    headers = _V4_HEADERS | {"content-type": "application/octet-stream"}
    canonical = canonical_request_v4("PUT", "bucket", "1234+-/123/1.txt", query, headers, [])
    assert signature_v4("sk", when, "cn-hangzhou", canonical) == expected


def test_v1_signatures_match_aliyuns_vectors() -> None:
    """aliyun/alibabacloud-oss-python-sdk-v2 tests/unit/signer/test_v1.py (ak/sk)."""
    date = "Wed, 28 Dec 2022 10:27:41 GMT"
    put = {"content-md5": "eB5eJF1ptWaXm4bijSPyxw==", "content-type": "text/html", "x-oss-date": date}
    put |= {"x-oss-meta-author": "alice", "x-oss-meta-magic": "abracadabra"}
    to_sign = string_to_sign_v1("PUT", put, canonical_resource("examplebucket", "nelson", []), date)
    assert to_sign.endswith("x-oss-meta-magic:abracadabra\n/examplebucket/nelson")
    assert hmac_sha1_signature("sk", to_sign) == "kSHKmLxlyEAKtZPkJhG9bZb5k7M="
    query = [("resourceGroup", ""), ("non-resousce", "null")]  # only sub-resources are signed
    bucket_get = string_to_sign_v1(
        "GET", {"x-oss-date": date}, canonical_resource("examplebucket", "", query), date
    )
    assert bucket_get.endswith("\n/examplebucket/?resourceGroup")
    assert hmac_sha1_signature("sk", bucket_get) == "vkQmfuUDyi1uDi3bKt67oemssIs="
    url = string_to_sign_v1(
        "GET", {}, canonical_resource("bucket", "key", [("versionId", "versionId")]), "1699807420"
    )
    assert hmac_sha1_signature("sk", url) == "dcLTea+Yh9ApirQ8o8dOPqtvJXQ="
    sts = canonical_resource("bucket", "key+123", [("versionId", "versionId"), ("security-token", "token")])
    assert (
        hmac_sha1_signature("sk", string_to_sign_v1("GET", {}, sts, "1699808204"))
        == "jzKYRrM5y6Br0dRFPaTGOsbrDhY="
    )


def test_signed_subresources_are_the_sdks() -> None:
    """The V1 sub-resource list is data the SDK tracks with the service: an oss2 upgrade that
    changes it must change ours."""
    assert oss2.auth.ProviderAuth._subresource_key_set == SUBRESOURCES
    assert "continuation-token" in SUBRESOURCES and "prefix" not in SUBRESOURCES


# -- a good admin key ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_put_head_get_delete(admin: Any, key: str, tmp_path: Path) -> None:
    put = admin.put_object(key, BODY)  # enable_crc: the SDK compares its CRC64 with the server's
    assert (put.crc, put.etag) == (crc64(BODY), _md5(BODY))  # OSS ETags are upper-case hex
    head = admin.head_object(key)
    assert (head.content_length, head.server_crc, head.etag, head.object_type) == (
        len(BODY),
        crc64(BODY),
        put.etag,
        "Normal",
    )
    got = admin.get_object(key)
    assert got.read() == BODY and got.server_crc == crc64(BODY) and got.client_crc == crc64(BODY)
    admin.get_object_to_file(key, str(tmp_path / "out"))  # checks the CRC at the end
    assert (tmp_path / "out").read_bytes() == BODY
    assert [o.key for o in oss2.ObjectIteratorV2(admin)] == [key]
    assert admin.delete_object(key).status == 204
    assert code(lambda: admin.head_object(key)) == ("NoSuchKey", 404)


def test_list_objects_v2_pages(admin: Any) -> None:
    """oss2 sends ``continuation-token=``, ``delimiter=`` and ``start-after=`` empty on every page
    (signed, for V1 as a bare ``?continuation-token``), and needs ``<Type>`` in each item."""
    keys = sorted(f"p/{i:02d}" for i in range(7))
    for k in keys:
        admin.put_object(k, k.encode())
    admin.put_object("other", b"x")
    seen: list[str] = []
    token, pages = "", 0
    while True:
        page = admin.list_objects_v2(prefix="p/", max_keys=2, continuation_token=token)
        pages += 1
        assert len(page.object_list) <= 2
        for obj in page.object_list:
            assert (obj.size, obj.type, obj.etag) == (len(obj.key), "Normal", _md5(obj.key.encode()))
            assert obj.owner is None, "no Owner without fetch-owner"
        seen += [obj.key for obj in page.object_list]
        if not page.is_truncated:
            break
        token = page.next_continuation_token
        assert token
    assert pages == 4 and seen == keys
    owned = admin.list_objects_v2(prefix="p/", max_keys=1, fetch_owner=True).object_list[0]
    assert owned.owner is not None and owned.owner.id
    assert [o.key for o in oss2.ObjectIteratorV2(admin, prefix="p/", max_keys=3)] == keys


def test_list_objects_v1_pages_with_a_key_as_next_marker(admin: Any) -> None:
    keys = sorted(f"m/{i}" for i in range(5))
    for k in keys:
        admin.put_object(k, b"v")
    seen: list[str] = []
    marker, pages = "", 0
    while True:
        page = admin.list_objects(prefix="m/", max_keys=2, marker=marker)
        pages += 1
        seen += [o.key for o in page.object_list]
        if not page.is_truncated:
            break
        assert page.next_marker == page.object_list[-1].key  # a key, as OSS gives it
        marker = page.next_marker
    assert pages == 3 and seen == keys


def test_bucket_info_location_and_lifecycle(server: LocalOSSServer, sig: str) -> None:
    name = new_bucket_name("oss")
    made = server.bucket(name, signature=sig)
    assert made.create_bucket().status == 200
    info = made.get_bucket_info()
    assert (info.name, info.location, info.extranet_endpoint) == (
        name,
        "oss-cn-hangzhou",
        "oss-cn-hangzhou.aliyuncs.com",
    )
    assert info.creation_date and made.get_bucket_location().location == "oss-cn-hangzhou"
    assert made.delete_bucket().status == 204
    assert code(made.get_bucket_info) == ("NoSuchBucket", 404)


def test_every_answer_carries_a_request_id(admin: Any) -> None:
    assert admin.put_object("rid", b"1").request_id
    assert admin.get_object("rid").request_id
    assert oss_error(lambda: admin.get_object("nope")).request_id


# -- bad credentials -----------------------------------------------------------------------------


def test_wrong_secret(server: LocalOSSServer, admin: Any, bucket: str, sig: str) -> None:
    admin.put_object("k", b"v")
    bad = server.bucket(bucket, (server.admin.access_key, "not-the-secret-at-all"), signature=sig)
    err = oss_error(lambda: bad.get_object("k"))
    assert (type(err), err.code, err.status) == (oe.SignatureDoesNotMatch, "SignatureDoesNotMatch", 403)
    assert err.details["OSSAccessKeyId"] == server.admin.access_key and err.details["StringToSign"]
    assert "x-oss-err" not in err.headers, "a GET error carries its code in the body"
    assert code(lambda: bad.list_objects_v2()) == ("SignatureDoesNotMatch", 403)
    assert code(lambda: bad.get_bucket_info()) == ("SignatureDoesNotMatch", 403)
    head = oss_error(lambda: bad.head_object("k"))  # no body: the code comes from x-oss-err
    assert (head.code, head.status, head.body, head.headers["Content-Length"]) == (
        "SignatureDoesNotMatch",
        403,
        b"",
        "0",
    )
    assert b"<Code>SignatureDoesNotMatch</Code>" in base64.b64decode(head.headers["x-oss-err"])


def test_unknown_key(server: LocalOSSServer, bucket: str, sig: str) -> None:
    unknown = server.bucket(bucket, ("LTAIUNKNOWN0000000000000", "whatever-secret-value"), signature=sig)
    err = oss_error(lambda: unknown.put_object("k", b"v"))
    assert (type(err), err.code, err.status) == (oe.ServerError, "InvalidAccessKeyId", 403)
    assert err.message == "The OSS Access Key Id you provided does not exist in our records."
    assert code(lambda: unknown.head_object("k")) == ("InvalidAccessKeyId", 403)


def _rewrite_requests(
    monkeypatch: pytest.MonkeyPatch, client: Any, change: Callable[..., dict[str, Any]]
) -> None:
    """Alter what goes on the wire after oss2 signed it: `change(url=…, **kwargs)` returns the
    request's keyword arguments, ``url`` included."""
    session = client.session.session
    send = session.request

    def altered(method: str, url: str, **kw: Any) -> Any:
        new = change(url=url, **kw)
        return send(method, new.pop("url"), **new)

    monkeypatch.setattr(session, "request", altered)


def test_a_request_altered_after_signing_is_refused(
    server: LocalOSSServer, admin: Any, bucket: str, sig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.put_object("a.txt", b"a")
    admin.put_object("b.txt", b"b")
    thief = server.bucket(bucket, signature=sig)
    _rewrite_requests(monkeypatch, thief, lambda url, **kw: {**kw, "url": url.replace("/a.txt", "/b.txt")})
    assert code(lambda: thief.get_object("a.txt")) == ("SignatureDoesNotMatch", 403)
    meta = server.bucket(bucket, signature=sig)
    _rewrite_requests(
        monkeypatch,
        meta,
        lambda url, **kw: {**kw, "url": url, "headers": {**kw["headers"], "x-oss-meta-who": "eve"}},
    )
    assert code(lambda: meta.put_object("a.txt", b"x")) == ("SignatureDoesNotMatch", 403)
    assert admin.get_object("a.txt").read() == b"a"


def test_the_empty_continuation_token_is_signed(
    server: LocalOSSServer, bucket: str, sig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping oss2's empty ``continuation-token=`` in transit breaks the signature (V1: it is a
    sub-resource; V4: every parameter is signed): the server checks what was signed, and drops it
    only on its way to moto."""
    lister = server.bucket(bucket, signature=sig)

    def without_token(url: str, **kw: Any) -> dict[str, Any]:
        kw["params"] = {k: v for k, v in kw["params"].items() if k != "continuation-token"}
        return {**kw, "url": url}

    _rewrite_requests(monkeypatch, lister, without_token)
    assert code(lambda: lister.list_objects_v2()) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("minutes", [-60, 20])
def test_skewed_clock(
    server: LocalOSSServer, admin: Any, sig: str, minutes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    if sig == "v1":
        monkeypatch.setattr(oss2.auth.utils, "http_date", lambda: when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    else:
        fake = type("Skewed", (dt.datetime,), {"utcnow": classmethod(lambda cls: when)})
        monkeypatch.setattr(oss2.auth, "datetime", fake)
    assert code(lambda: admin.get_object("k")) == ("RequestTimeTooSkewed", 403)
    monkeypatch.undo()
    assert code(lambda: admin.get_object("k")) == ("NoSuchKey", 404)


def test_an_sts_token_is_signed(
    server: LocalOSSServer, bucket: str, sig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StsAuth sends ``x-oss-security-token`` (signed like any x-oss-* header; not validated here)."""
    sts = server.bucket(bucket, signature=sig, session_token="sts-token-value")
    assert sts.put_object("sts", b"1").status == 200
    forged = server.bucket(bucket, signature=sig, session_token="sts-token-value")
    _rewrite_requests(
        monkeypatch,
        forged,
        lambda url, **kw: {**kw, "url": url, "headers": {**kw["headers"], "x-oss-security-token": "other"}},
    )
    assert code(lambda: forged.get_object("sts")) == ("SignatureDoesNotMatch", 403)


def test_other_signature_schemes_and_anonymous_requests(server: LocalOSSServer, admin: Any) -> None:
    url = f"{server.endpoint}/{admin.bucket_name}/k"
    v2 = requests.get(url, headers={"Authorization": "OSS2 AccessKeyId:x,Signature:y"}, timeout=10)
    assert (v2.status_code, _xml_code(v2)) == (400, "InvalidArgument")
    anonymous = requests.get(url, timeout=10)
    assert (anonymous.status_code, _xml_code(anonymous), anonymous.headers["x-oss-request-id"] != "") == (
        403,
        "AccessDenied",
        True,
    )


# -- what a key may do -----------------------------------------------------------------------------


def test_write_only_key(server: LocalOSSServer, admin: Any, bucket: str, sig: str) -> None:
    writer = server.bucket(bucket, server.key(["Write"]), signature=sig)
    assert writer.put_object("w", BODY).crc == crc64(BODY)
    for call in (
        lambda: writer.get_object("w"),
        lambda: writer.list_objects_v2(),
        lambda: writer.delete_object("w"),
        lambda: writer.head_object("w"),
        writer.get_bucket_info,
        lambda: server.bucket(new_bucket_name("oss"), server.key(["Write"]), signature=sig).create_bucket(),
    ):
        assert code(call) == ("AccessDenied", 403)
    assert admin.get_object("w").read() == BODY


def test_read_list_key(server: LocalOSSServer, admin: Any, bucket: str, sig: str) -> None:
    admin.put_object("r", b"data")
    reader = server.bucket(bucket, server.key(["Read", "List"]), signature=sig)
    assert reader.get_object("r").read() == b"data"
    assert [o.key for o in reader.list_objects_v2().object_list] == ["r"]
    assert reader.get_bucket_info().location == server.region
    assert code(lambda: reader.put_object("r", b"new")) == ("AccessDenied", 403)
    assert code(lambda: reader.delete_object("r")) == ("AccessDenied", 403)
    assert admin.get_object("r").read() == b"data"


def test_key_limited_to_one_bucket(server: LocalOSSServer, bucket: str) -> None:
    other = server.create_bucket(new_bucket_name("oss"))
    key = server.key(["Write"], bucket=bucket)
    assert server.bucket(bucket, key).put_object("x", b"1").status == 200
    assert code(lambda: server.bucket(other, key).put_object("x", b"1")) == ("AccessDenied", 403)


# -- missing things and other regions --------------------------------------------------------------


def test_missing_bucket_and_key(server: LocalOSSServer, admin: Any, sig: str) -> None:
    gone = server.bucket(new_bucket_name("gone"), signature=sig)
    for call in (
        lambda: gone.get_object("k"),
        gone.list_objects_v2,
        gone.get_bucket_info,
        lambda: gone.head_object("k"),
    ):
        assert code(call) == ("NoSuchBucket", 404)  # HEAD included: real OSS puts it in x-oss-err
    assert type(oss_error(lambda: gone.get_object("k"))) is oe.NoSuchBucket
    assert code(lambda: admin.get_object("nope")) == ("NoSuchKey", 404)
    assert type(oss_error(lambda: admin.head_object("nope"))) is oe.NoSuchKey  # x-oss-err names it


def test_a_v4_scope_of_another_region_is_sent_to_the_buckets_endpoint(
    server: LocalOSSServer, bucket: str
) -> None:
    wrong = server.bucket(bucket, region="cn-shanghai")
    err = oss_error(lambda: wrong.get_object("k"))
    assert (err.code, err.status, err.message) == WRONG_ENDPOINT
    assert err.details["Endpoint"] == "oss-cn-hangzhou.aliyuncs.com"
    assert code(lambda: wrong.head_object("k")) == (WRONG_ENDPOINT[0], 403)
    prefixed = server.bucket(bucket, region="oss-cn-hangzhou")  # the table's spelling is no V4 region
    assert code(lambda: prefixed.get_object("k"))[0] == WRONG_ENDPOINT[0]
    assert code(lambda: server.bucket(bucket, signature="v1").get_object("k")) == ("NoSuchKey", 404)


def test_buckets_remember_their_region(server: LocalOSSServer) -> None:
    name = server.create_bucket(new_bucket_name("oss"), region="cn-shanghai")
    there = server.bucket(name, region="cn-shanghai")
    assert there.get_bucket_info().location == "oss-cn-shanghai"
    assert there.put_object("k", b"1").status == 200
    made = server.bucket(new_bucket_name("oss"), region="cn-beijing")
    made.create_bucket()
    assert made.get_bucket_info().location == "oss-cn-beijing"
    assert code(lambda: server.bucket(made.bucket_name).get_object("k"))[0] == WRONG_ENDPOINT[0]


# -- CRC64 ------------------------------------------------------------------------------------------


def test_the_sdks_crc_check_catches_a_flipped_byte(
    server: LocalOSSServer, admin: Any, tmp_path: Path
) -> None:
    admin.put_object("flip", BODY)
    server.faults.corrupt("flip", times=1)
    with pytest.raises(oe.InconsistentError):
        admin.get_object_to_file("flip", str(tmp_path / "flip"))
    got = admin.get_object("flip")
    assert got.read() == BODY and got.client_crc == got.server_crc


def test_crc_of_objects_stored_by_someone_else(admin: Any, bucket: str) -> None:
    """Another server shares moto's objects, not the first one's remembered CRCs: HEAD and GET
    still carry the object's CRC (computed once from the stored bytes)."""
    admin.put_object("shared", BODY)
    with LocalOSSServer() as other:
        assert other.bucket(bucket).head_object("shared").server_crc == crc64(BODY)
        assert other.bucket(bucket).get_object("shared").read() == BODY


def test_seeded_objects_list_and_read_like_uploaded_ones(
    server: LocalOSSServer, admin: Any, bucket: str
) -> None:
    etag = server.put_object(bucket, "seeded/1.bin", b"seeded")
    assert etag == _md5(b"seeded").lower()
    assert [(o.key, o.etag) for o in admin.list_objects_v2(prefix="seeded/").object_list] == [
        ("seeded/1.bin", _md5(b"seeded"))
    ]
    assert admin.head_object("seeded/1.bin").server_crc == crc64(b"seeded")


# -- faults ---------------------------------------------------------------------------------------


def test_injected_errors_are_oss_shaped(server: LocalOSSServer, admin: Any, bucket: str) -> None:
    admin.put_object("f.jpg", b"ok")
    server.faults.fail("GET", "f.jpg", status=503, times=1, code="ServiceUnavailable")
    err = oss_error(lambda: admin.get_object("f.jpg"))
    assert (err.code, err.status, err.request_id.startswith("FAULT")) == ("ServiceUnavailable", 503, True)
    server.faults.fail("HEAD", "f.jpg", status=503, times=1, code="ServiceUnavailable")
    assert code(lambda: admin.head_object("f.jpg")) == ("ServiceUnavailable", 503)  # via x-oss-err
    assert admin.get_object("f.jpg").read() == b"ok"
    assert server.faults.count("GET", f"/{bucket}/f.jpg") == 2


def test_reset_connection_is_a_request_error(server: LocalOSSServer, admin: Any) -> None:
    server.faults.reset("PUT", "r.jpg")
    assert type(oss_error(lambda: admin.put_object("r.jpg", b"x"))) is oe.RequestError
    assert admin.put_object("r.jpg", b"x").status == 200


# -- presigned URLs, moto auth mode -----------------------------------------------------------------


def test_presigned_urls(
    server: LocalOSSServer, admin: Any, bucket: str, sig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.put_object("p.jpg", BODY)
    admin.put_object("q.jpg", b"q")
    got = requests.get(admin.sign_url("GET", "p.jpg", 300), timeout=10)
    assert (got.status_code, got.content, got.headers["x-oss-hash-crc64ecma"]) == (
        200,
        BODY,
        str(crc64(BODY)),
    )
    forged = requests.get(admin.sign_url("GET", "p.jpg", 300).replace("/p.jpg", "/q.jpg"), timeout=10)
    assert (forged.status_code, _xml_code(forged)) == (403, "SignatureDoesNotMatch")
    writer = server.bucket(bucket, server.key(["Write"]), signature=sig)
    assert _xml_code(requests.get(writer.sign_url("GET", "p.jpg", 300), timeout=10)) == "AccessDenied"
    put = requests.put(writer.sign_url("PUT", "u.jpg", 300), data=b"uploaded", timeout=10)
    assert put.status_code == 200 and admin.get_object("u.jpg").read() == b"uploaded"
    if sig == "v1":
        expired_url = admin.sign_url("GET", "p.jpg", -60)
    else:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=2)
        monkeypatch.setattr(
            oss2.auth, "datetime", type("Past", (dt.datetime,), {"utcnow": classmethod(lambda cls: past)})
        )
        expired_url = admin.sign_url("GET", "p.jpg", 3600)
    expired = requests.get(expired_url, timeout=10)
    assert (expired.status_code, _xml_code(expired)) == (403, "AccessDenied")
    assert "Request has expired" in expired.text


def test_works_while_moto_auth_mode_is_on(admin: Any) -> None:
    """moto's SigV4 checking is process-global (LocalS3Server.enable_auth): the layer re-signs for moto."""
    with LocalS3Server() as s3:
        s3.enable_auth()
        assert s3.auth_enabled
        assert admin.put_object("auth/k 1", BODY).crc == crc64(BODY)
        assert admin.get_object("auth/k 1").read() == BODY
        assert admin.head_object("auth/k 1").content_length == len(BODY)
        assert [o.key for o in admin.list_objects_v2(prefix="auth/").object_list] == ["auth/k 1"]
        assert admin.get_bucket_info().location == "oss-cn-hangzhou"
        assert admin.delete_object("auth/k 1").status == 204


# -- the client helpers and secrets ----------------------------------------------------------------


def test_client_is_a_bucket_factory(server: LocalOSSServer, bucket: str) -> None:
    key = server.key(["Write"])
    made = server.client(key, signature="v1")(bucket)
    assert (made.bucket_name, made.enable_crc, type(made.auth)) == (bucket, True, oss2.Auth)
    assert made.put_object("via-client", b"1").status == 200
    assert isinstance(server.client()(bucket).auth, oss2.ProviderAuthV4)


def test_secret_never_in_logs_or_errors(
    server: LocalOSSServer, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = server.key(["Read"])
    errors = [
        oss_error(lambda: server.bucket(bucket, (key.access_key, "wrong-secret-123456")).get_object("k")),
        oss_error(lambda: server.bucket(bucket, key).put_object("k", b"v")),
        oss_error(lambda: server.bucket(bucket, key).get_object("missing")),
    ]
    assert [e.code for e in errors] == ["SignatureDoesNotMatch", "AccessDenied", "NoSuchKey"]
    texts = [caplog.text, *map(str, errors), *(str(e.headers) for e in errors), repr(key), repr(server.admin)]
    assert_no_secret(*texts, where="server logs and errors")
    with pytest.raises(AssertionError):  # the scan itself would see it
        assert_no_secret(f"log line {key.secret_key}")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest().upper()


def _xml_code(resp: requests.Response) -> str:
    return resp.text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in resp.text else ""


def test_max_keys_is_at_most_1000(admin: Any) -> None:
    assert code(lambda: admin.list_objects_v2(max_keys=1001)) == ("InvalidArgument", 400)
    assert admin.list_objects_v2(max_keys=1000).is_truncated is False
