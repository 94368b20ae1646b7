"""LocalOBSServer, proven with the official `obs` SDK over real HTTP, in the three ways the SDK
reaches it: OBS signature virtual-host through the server as proxy, V2 and V4 path-style.

Every assertion is on behaviour the SDK observes: statuses, codes, bytes, CRC64s, pages.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import obs
import pytest
import requests
from obs import GetObjectHeader, PutObjectHeader
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.dialect import crc64, hmac_sha1_signature
from rtcsnap.testing.obsserver import (
    ANONYMOUS_CODE,
    CRC_MISMATCH_CODE,
    UNKNOWN_KEY_CODE,
    LocalOBSServer,
    http_now,
    v4_canonical_request,
    v4_signature,
)
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap.testing.secret_scan import assert_no_secret

from tests.obs.conftest import MODES

BODY = bytes(range(256)) * 600  # 150 KB: several reads of the streamed body
Resp = Any  # obs.model.GetResult: the SDK returns, never raises, on an HTTP error


def failed(resp: Resp) -> tuple[int, str | None]:
    assert resp.status >= 300, f"expected a failure, got {resp.status}"
    return resp.status, resp.errorCode


def head_code(resp: Resp) -> tuple[int, str | None, str | None]:
    """A HEAD error: the SDK's errorCode (None: no body) and the x-obs-error-code header."""
    return resp.status, resp.errorCode, dict(resp.header).get("error-code")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def admin(obs_server: LocalOBSServer, mode: str) -> Iterator[obs.ObsClient]:
    client = obs_server.client(signature=mode)
    yield client
    client.close()


# -- the signature definitions, against their published vectors -----------------------------------


def test_v2_signature_matches_the_published_example() -> None:
    """AWS's signature V2 documentation example (GET /johnsmith/photos/puppy.jpg); OBS's V2 is the
    same algorithm with ``x-obs-*`` headers."""
    to_sign = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg"
    assert (
        hmac_sha1_signature("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", to_sign)
        == "bWq2s1WEIj+Ydj0vQ697zp+IXMU="
    )


def test_v4_signature_matches_the_published_example() -> None:
    """AWS's SigV4 documentation example (GET /test.txt with a Range header)."""
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    headers = {
        "host": "examplebucket.s3.amazonaws.com",
        "range": "bytes=0-9",
        "x-amz-content-sha256": empty,
        "x-amz-date": "20130524T000000Z",
    }
    canonical = v4_canonical_request("GET", "/test.txt", [], headers, sorted(headers), empty)
    assert (
        v4_signature("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524T000000Z", "us-east-1", canonical)
        == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


# -- a good key ---------------------------------------------------------------------------------


def test_put_head_get_list_delete(admin: obs.ObsClient, bucket: str) -> None:
    put = admin.putContent(bucket, "dir/snap 1.jpg", BODY)
    assert put.status == 200 and put.body.etag.strip('"') == hashlib.md5(BODY).hexdigest()
    head = admin.getObjectMetadata(bucket, "dir/snap 1.jpg")
    assert (head.status, head.body.contentLength, head.body.etag) == (200, len(BODY), put.body.etag)
    got = admin.getObject(bucket, "dir/snap 1.jpg", loadStreamInMemory=False)
    chunks = []
    while chunk := got.body.response.read(40000):
        chunks.append(chunk)
    got.body.response.close()
    assert len(chunks) > 1 and b"".join(chunks) == BODY
    listed = admin.listObjects(bucket, prefix="dir/")
    assert [(o.key, o.size) for o in listed.body.contents] == [("dir/snap 1.jpg", len(BODY))]
    assert admin.deleteObject(bucket, "dir/snap 1.jpg").status == 204
    assert head_code(admin.getObjectMetadata(bucket, "dir/snap 1.jpg")) == (404, None, "NoSuchKey")


def test_bucket_lifecycle(admin: obs.ObsClient, obs_server: LocalOBSServer, mode: str) -> None:
    name = new_bucket_name("obs")
    assert admin.createBucket(name).status == 200
    head = admin.headBucket(name)
    location = "bucket-location" if mode == "obs" else "bucket-region"  # the SDK's own header names
    assert head.status == 200 and dict(head.header)[location] == obs_server.region
    assert admin.deleteBucket(name).status == 204
    assert head_code(admin.headBucket(name)) == (404, None, "NoSuchBucket")


def test_listing_pages_with_key_markers(admin: obs.ObsClient, bucket: str) -> None:
    """OBS documents NextMarker on every truncated page, as the last key listed (no delimiter needed)."""
    keys = sorted(f"p/{i:02d}" for i in range(5))
    for k in keys:
        admin.putContent(bucket, k, k.encode())
    admin.putContent(bucket, "other", b"x")
    seen: list[str] = []
    marker, pages = None, 0
    while True:
        page = admin.listObjects(bucket, prefix="p/", max_keys=2, marker=marker).body
        pages += 1
        seen += [o.key for o in page.contents]
        assert all(o.size == 4 and o.etag for o in page.contents)
        if not page.is_truncated:
            break
        assert page.next_marker == page.contents[-1].key
        marker = page.next_marker
    assert pages == 3 and seen == keys


def test_crc64_attached_on_upload_is_checked_and_returned(
    obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str
) -> None:
    put = admin.putContent(bucket, "crc.bin", BODY, headers=PutObjectHeader(isAttachCrc64=True))
    assert put.status == 200 and int(put.body.crc64) == int(crc64(BODY))
    head = admin.getObjectMetadata(bucket, "crc.bin")
    assert head.body.crc64 == crc64(BODY)
    got = admin.getObject(bucket, "crc.bin", loadStreamInMemory=True, isAttachCrc64=True)  # the SDK checks it
    assert got.body.buffer == BODY and got.body.crc64 == crc64(BODY)
    obs_server.faults.corrupt("crc.bin", times=1)
    with pytest.raises(Exception, match="Consistency check failed"):
        admin.getObject(bucket, "crc.bin", loadStreamInMemory=True, isAttachCrc64=True)
    wrong = admin.putContent(bucket, "crc.bin", b"other bytes", headers=PutObjectHeader(crc64="12345"))
    assert failed(wrong) == (400, CRC_MISMATCH_CODE)
    assert admin.getObject(bucket, "crc.bin", loadStreamInMemory=True).body.buffer == BODY, "not stored"
    admin.putContent(bucket, "plain.bin", BODY)
    assert admin.getObjectMetadata(bucket, "plain.bin").body.crc64 is None, (
        "no CRC64 unless uploaded with one"
    )


def test_ranged_get_carries_no_whole_object_crc(admin: obs.ObsClient, bucket: str) -> None:
    admin.putContent(bucket, "r.bin", BODY, headers=PutObjectHeader(isAttachCrc64=True))
    part = admin.getObject(bucket, "r.bin", headers=GetObjectHeader(range="0-9"), loadStreamInMemory=True)
    assert (part.status, part.body.buffer, part.body.crc64) == (206, BODY[:10], None)


# -- bad credentials ----------------------------------------------------------------------------


def test_wrong_secret(obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str, mode: str) -> None:
    admin.putContent(bucket, "k", b"v")
    bad = obs_server.client((obs_server.admin.access_key, "not-the-secret-at-all"), signature=mode)
    assert failed(bad.getObject(bucket, "k")) == (403, "SignatureDoesNotMatch")
    assert failed(bad.listObjects(bucket)) == (403, "SignatureDoesNotMatch")
    assert failed(bad.putContent(bucket, "k", b"x")) == (403, "SignatureDoesNotMatch")
    head = bad.getObjectMetadata(bucket, "k")
    assert head_code(head) == (403, None, "SignatureDoesNotMatch")  # no body: the header says it
    assert head.requestId and dict(head.header)["content-length"] == "0"
    assert admin.getObject(bucket, "k", loadStreamInMemory=True).body.buffer == b"v"


def test_unknown_key(obs_server: LocalOBSServer, bucket: str, mode: str) -> None:
    unknown = obs_server.client(("AKLTUNKNOWN0000000000000", "whatever-secret-value"), signature=mode)
    assert failed(unknown.putContent(bucket, "k", b"v")) == (403, UNKNOWN_KEY_CODE)
    assert head_code(unknown.headBucket(bucket)) == (403, None, UNKNOWN_KEY_CODE)
    assert UNKNOWN_KEY_CODE == "InvalidAccessKeyId"


def test_a_request_changed_after_signing_is_refused(
    obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature covers the key path and the signed headers: a request sent for another key,
    or with a metadata header added, does not pass."""
    admin.putContent(bucket, "a.txt", b"a")
    admin.putContent(bucket, "b.txt", b"b")
    thief = obs_server.client(signature="obs")
    send = thief._send_request

    def other_path(server: str, method: str, path: str, header: dict[str, str], *a: Any, **kw: Any) -> Any:
        return send(server, method, path.replace("/a.txt", "/b.txt"), header, *a, **kw)

    monkeypatch.setattr(thief, "_send_request", other_path)
    assert failed(thief.getObject(bucket, "a.txt")) == (403, "SignatureDoesNotMatch")

    def extra_header(server: str, method: str, path: str, header: dict[str, str], *a: Any, **kw: Any) -> Any:
        return send(server, method, path, {**header, "x-obs-meta-who": "someone-else"}, *a, **kw)

    monkeypatch.setattr(thief, "_send_request", extra_header)
    assert failed(thief.putContent(bucket, "a.txt", b"x")) == (403, "SignatureDoesNotMatch")
    assert admin.getObject(bucket, "a.txt", loadStreamInMemory=True).body.buffer == b"a"


@pytest.mark.parametrize("minutes", [-60, 20])
def test_skewed_date(admin: obs.ObsClient, bucket: str, mode: str, minutes: int) -> None:
    """The signed date (``x-obs-date``/``x-amz-date``, which then replaces Date) must be within 15 minutes."""
    name = "x-obs-date" if mode == "obs" else "x-amz-date"

    def date(offset: float) -> str:
        if mode != "v4":
            return http_now(offset)
        import time

        return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + offset))

    skewed = admin.getObject(bucket, "k", extensionHeaders={name: date(minutes * 60)})
    assert failed(skewed) == (403, "RequestTimeTooSkewed")
    near = admin.headBucket(bucket, extensionHeaders={name: date((10 if minutes > 0 else -10) * 60)})
    assert near.status == 200


# -- what a key may do ---------------------------------------------------------------------------


def test_write_only_key(obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str, mode: str) -> None:
    writer = obs_server.client(obs_server.key(["Write"]), signature=mode)
    assert writer.putContent(bucket, "w", BODY).status == 200
    assert failed(writer.getObject(bucket, "w")) == (403, "AccessDenied")
    assert failed(writer.listObjects(bucket)) == (403, "AccessDenied")
    assert failed(writer.deleteObject(bucket, "w")) == (403, "AccessDenied")
    assert head_code(writer.getObjectMetadata(bucket, "w")) == (403, None, "AccessDenied")
    assert head_code(writer.headBucket(bucket)) == (403, None, "AccessDenied")  # as SeaweedFS does
    assert failed(writer.createBucket(new_bucket_name("obs"))) == (403, "AccessDenied")
    assert admin.getObject(bucket, "w", loadStreamInMemory=True).body.buffer == BODY


def test_read_list_key(obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str, mode: str) -> None:
    admin.putContent(bucket, "r", b"data")
    reader = obs_server.client(obs_server.key(["Read", "List"]), signature=mode)
    assert reader.getObject(bucket, "r", loadStreamInMemory=True).body.buffer == b"data"
    assert [o.key for o in reader.listObjects(bucket).body.contents] == ["r"]
    assert reader.headBucket(bucket).status == 200
    assert failed(reader.putContent(bucket, "r", b"new")) == (403, "AccessDenied")
    assert failed(reader.deleteObject(bucket, "r")) == (403, "AccessDenied")


def test_key_limited_to_one_bucket(obs_server: LocalOBSServer, bucket: str) -> None:
    other = obs_server.create_bucket(new_bucket_name("obs"))
    scoped = obs_server.client(obs_server.key(["Write"], bucket=bucket))
    assert scoped.putContent(bucket, "x", b"1").status == 200
    assert failed(scoped.putContent(other, "x", b"1")) == (403, "AccessDenied")


# -- missing things -----------------------------------------------------------------------------


def test_missing_bucket_and_key(admin: obs.ObsClient, bucket: str) -> None:
    missing = new_bucket_name("gone")
    assert failed(admin.getObject(missing, "k")) == (404, "NoSuchBucket")
    assert failed(admin.listObjects(missing)) == (404, "NoSuchBucket")
    assert head_code(admin.headBucket(missing)) == (404, None, "NoSuchBucket")
    assert head_code(admin.getObjectMetadata(missing, "k")) == (404, None, "NoSuchBucket")
    assert failed(admin.getObject(bucket, "nope")) == (404, "NoSuchKey")
    assert head_code(admin.getObjectMetadata(bucket, "nope")) == (404, None, "NoSuchKey")


# -- faults -------------------------------------------------------------------------------------


def test_injected_error_is_obs_shaped(obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str) -> None:
    admin.putContent(bucket, "f.jpg", b"ok")
    obs_server.faults.fail("GET", "f.jpg", status=503, times=1, code="ServiceUnavailable")
    resp = admin.getObject(bucket, "f.jpg")
    assert failed(resp) == (503, "ServiceUnavailable") and resp.requestId.startswith("FAULT")
    assert admin.getObject(bucket, "f.jpg", loadStreamInMemory=True).body.buffer == b"ok"
    assert obs_server.faults.count("GET", f"/{bucket}/f.jpg") == 2  # paths as LocalS3Server's: /bucket/key
    obs_server.faults.fail("HEAD", "f.jpg", status=503, code="SlowDown")
    assert head_code(admin.getObjectMetadata(bucket, "f.jpg")) == (503, None, "SlowDown")


def test_reset_connection_escapes_as_a_socket_error(
    obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str
) -> None:
    obs_server.faults.reset("PUT", "r.jpg")
    with pytest.raises(OSError):  # the SDK lets socket errors escape (sdk-lab §5)
        admin.putContent(bucket, "r.jpg", b"x")
    assert admin.putContent(bucket, "r.jpg", b"x").status == 200


# -- signed URLs, moto auth mode ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["obs", "v2"])
def test_signed_url(obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str, mode: str) -> None:
    """V2 query-string signatures (``AccessKeyId`` for OBS, ``AWSAccessKeyId`` for AWS V2)."""
    admin.putContent(bucket, "p.jpg", BODY)
    admin.putContent(bucket, "q.jpg", b"q")
    proxies = {"http": obs_server.endpoint}
    url = admin.createSignedUrl("GET", bucket, "p.jpg", expires=300).signedUrl
    assert ("AccessKeyId=" if mode == "obs" else "AWSAccessKeyId=") in url
    got = requests.get(url, proxies=proxies, timeout=10)
    assert (got.status_code, got.content) == (200, BODY)
    forged = requests.get(url.replace("/p.jpg", "/q.jpg"), proxies=proxies, timeout=10)
    assert (forged.status_code, forged.headers["x-obs-error-code"]) == (403, "SignatureDoesNotMatch")
    writer = obs_server.client(obs_server.key(["Write"]), signature=mode)
    denied = requests.get(
        writer.createSignedUrl("GET", bucket, "p.jpg").signedUrl, proxies=proxies, timeout=10
    )
    assert (denied.status_code, denied.headers["x-obs-error-code"]) == (403, "AccessDenied")
    expired = requests.get(
        admin.createSignedUrl("GET", bucket, "p.jpg", expires=-10).signedUrl, proxies=proxies, timeout=10
    )
    assert (expired.status_code, expired.headers["x-obs-error-code"]) == (403, "AccessDenied")


def test_works_while_moto_auth_mode_is_on(admin: obs.ObsClient, bucket: str) -> None:
    """moto's SigV4 checking is process-global (LocalS3Server.enable_auth): the layer re-signs for moto."""
    with LocalS3Server() as s3:
        s3.enable_auth()
        assert s3.auth_enabled
        assert (
            admin.putContent(bucket, "auth/k 1", BODY, headers=PutObjectHeader(isAttachCrc64=True)).status
            == 200
        )
        assert admin.getObject(bucket, "auth/k 1", loadStreamInMemory=True).body.buffer == BODY
        assert admin.getObjectMetadata(bucket, "auth/k 1").body.contentLength == len(BODY)
        assert [o.key for o in admin.listObjects(bucket, prefix="auth/").body.contents] == ["auth/k 1"]
        assert admin.deleteObject(bucket, "auth/k 1").status == 204


# -- secrets ----------------------------------------------------------------------------------------


def test_secret_never_in_logs_or_errors(
    obs_server: LocalOBSServer, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = obs_server.key(["Read"])
    answers = [
        obs_server.client((key.access_key, "wrong-secret-123456")).getObject(bucket, "k"),
        obs_server.client(key).putContent(bucket, "k", b"v"),
        obs_server.client(key).getObject(bucket, "missing"),
    ]
    assert [r.errorCode for r in answers] == ["SignatureDoesNotMatch", "AccessDenied", "NoSuchKey"]
    texts = [caplog.text, *(str(r.body) + str(r.header) + str(r.errorMessage) for r in answers), repr(key)]
    assert_no_secret(*texts, where="server logs and errors")
    with pytest.raises(AssertionError):  # the scan itself would see it
        assert_no_secret(f"log line {key.secret_key}")


def test_sub_resources_are_signed(
    obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``?acl`` is part of what V2 signs (and of V4's query): a request for another sub-resource
    under the same signature fails; one with a changed listing parameter is no longer the
    request V4 signed either."""
    admin.putContent(bucket, "s.txt", b"s")
    acl = admin.getObjectAcl(bucket, "s.txt")
    assert acl.status == 200 and acl.body.owner
    send = admin._send_request

    def other_sub_resource(
        server: str, method: str, path: str, header: dict[str, str], *a: Any, **kw: Any
    ) -> Any:
        return send(server, method, path.replace("?acl", "?tagging"), header, *a, **kw)

    monkeypatch.setattr(admin, "_send_request", other_sub_resource)
    assert failed(admin.getObjectAcl(bucket, "s.txt")) == (403, "SignatureDoesNotMatch")

    def other_prefix(server: str, method: str, path: str, header: dict[str, str], *a: Any, **kw: Any) -> Any:
        return send(server, method, path.replace("prefix=s", "prefix=x"), header, *a, **kw)

    monkeypatch.setattr(admin, "_send_request", other_prefix)
    listed = admin.listObjects(bucket, prefix="s")
    if mode == "v4":
        assert failed(listed) == (403, "SignatureDoesNotMatch")
    else:  # V2 signs sub-resources only: prefix, marker and max-keys are not covered
        assert listed.status == 200 and listed.body.contents == []


def test_an_unsigned_request_is_refused(
    obs_server: LocalOBSServer, admin: obs.ObsClient, bucket: str
) -> None:
    admin.putContent(bucket, "anon.jpg", b"a")
    got = requests.get(f"{obs_server.endpoint}/{bucket}/anon.jpg", timeout=10)
    assert (got.status_code, got.headers["x-obs-error-code"]) == (403, ANONYMOUS_CODE)
    assert got.headers["x-obs-request-id"] and b"<Code>AccessDenied</Code>" in got.content
