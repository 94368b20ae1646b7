"""LocalCOSServer, proven with the official `qcloud_cos` SDK over real HTTP.

Every assertion is on behaviour the SDK (or a plain HTTP client) observes: codes, statuses,
bytes, CRCs, pages. The signature verifier is also checked against the vendor's own worked
examples, so the SDK and the verifier cannot share a mistake unnoticed.
"""

from __future__ import annotations

import logging
import time
import types
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import crcmod
import pytest
import qcloud_cos.cos_auth
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosClientError, CosServiceError
from rtcsnap.errors import ConfigurationError
from rtcsnap.testing.cosserver import (
    GUESSED,
    TRACE_ID,
    UNKNOWN_KEY_CODE,
    LocalCOSServer,
    http_string,
    signature,
)
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap.testing.secret_scan import assert_no_secret

from tests.cos.conftest import cos_bucket_name

BODY = bytes(range(256)) * 600  # 150 KB: several chunks, more than one read

crc64: Callable[[bytes], int] = crcmod.mkCrcFun(
    0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF
)


def service_error(call: Callable[[], Any]) -> CosServiceError:
    with pytest.raises(CosServiceError) as err:
        call()
    return err.value


def code(call: Callable[[], Any]) -> tuple[str, int]:
    err = service_error(call)
    return err.get_error_code(), err.get_status_code()


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class Tamper:
    """A requests session that rewrites each request *after* the SDK signed it."""

    def __init__(self, change: Callable[[requests.PreparedRequest], None]) -> None:
        self.session = requests.Session()
        send = self.session.send

        def tampered(prepared: requests.PreparedRequest, **kw: Any) -> requests.Response:
            change(prepared)
            return send(prepared, **kw)

        self.session.send = tampered  # type: ignore[method-assign,assignment]


@pytest.fixture
def admin(cos_server: LocalCOSServer) -> CosS3Client:
    return cos_server.client()


# -- the signature algorithm -------------------------------------------------------------------


def test_signature_matches_the_vendors_upload_example() -> None:
    """The PUT example of COS's "Request Signature" page (API doc 436/7778), every intermediate."""
    headers = {
        "content-length": "13",
        "content-md5": "mQ%2FfVh815F3k6TAUm8m0eg%3D%3D",
        "content-type": "text%2Fplain",
        "date": "Thu%2C%2016%20May%202019%2006%3A45%3A51%20GMT",
        "host": "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
        "x-cos-acl": "private",
        "x-cos-grant-read": "uin%3D%22100000000011%22",
    }
    http = http_string("PUT", "/exampleobject(腾讯云)", {}, headers)
    assert http.startswith("put\n/exampleobject(腾讯云)\n\ncontent-length=13&content-md5=")
    times = "1557989151;1557996351"
    assert signature("BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz", times, times, http) == (
        "3b8851a11a569213c17ba8fa7dcf2abec6935172"
    )


def test_signature_matches_the_vendors_download_example() -> None:
    """The GET example of the same page: signed URL parameters, sorted."""
    params = {
        "response-content-type": "application%2Foctet-stream",
        "response-cache-control": "max-age%3D600",
    }
    headers = {
        "date": "Thu%2C%2016%20May%202019%2006%3A55%3A53%20GMT",
        "host": "examplebucket-1250000000.cos.ap-beijing.myqcloud.com",
    }
    http = http_string("GET", "/exampleobject(腾讯云)", params, headers)
    times = "1557989753;1557996953"
    assert signature("BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz", times, times, http) == (
        "01681b8c9d798a678e43b685a9f1bba0f6c0e012"
    )


# -- a good admin key ----------------------------------------------------------------------------


def test_bucket_lifecycle_through_the_sdk(cos_server: LocalCOSServer, admin: CosS3Client) -> None:
    name = cos_bucket_name()
    admin.create_bucket(Bucket=name)
    assert lower(admin.head_bucket(Bucket=name))["x-cos-bucket-region"] == cos_server.region
    assert admin.bucket_exists(Bucket=name)
    admin.delete_bucket(Bucket=name)
    assert not admin.bucket_exists(Bucket=name)
    assert code(lambda: admin.head_bucket(Bucket=name)) == ("NoSuchResource", 404)  # the SDK's own


def test_bucket_names_without_an_appid_are_refused(cos_server: LocalCOSServer, admin: CosS3Client) -> None:
    assert code(lambda: admin.create_bucket(Bucket="snapshots")) == ("InvalidBucketName", 400)
    with pytest.raises(ConfigurationError, match="NAME-APPID"):
        cos_server.create_bucket("snapshots")


def test_put_head_get_delete(admin: CosS3Client, cos_bucket: str, tmp_path: Path) -> None:
    key = "dir/snap 1 (腾讯).jpg"
    put = lower(admin.put_object(Bucket=cos_bucket, Body=BODY, Key=key))
    assert put["x-cos-hash-crc64ecma"] == str(crc64(BODY)) and put["x-cos-request-id"]
    head = lower(admin.head_object(Bucket=cos_bucket, Key=key))
    assert (int(head["content-length"]), head["x-cos-hash-crc64ecma"], head["etag"]) == (
        len(BODY),
        str(crc64(BODY)),
        put["etag"],
    )
    got = admin.get_object(Bucket=cos_bucket, Key=key)
    assert lower(got)["x-cos-hash-crc64ecma"] == str(crc64(BODY))
    raw = got["Body"].get_raw_stream()
    chunks = list(iter(lambda: raw.read(64 * 1024), b""))
    assert len(chunks) > 1 and b"".join(chunks) == BODY
    admin.get_object(Bucket=cos_bucket, Key=key)["Body"].get_stream_to_file(str(tmp_path / "a.jpg"))
    assert (tmp_path / "a.jpg").read_bytes() == BODY
    admin.delete_object(Bucket=cos_bucket, Key=key)
    assert not admin.object_exists(Bucket=cos_bucket, Key=key)


BIG = bytes(range(251)) * 10_000  # 2.5 MB: with PartSize=1 (MB) download_file goes ranged


def test_the_sdks_own_crc_check_accepts_the_header(
    admin: CosS3Client, cos_bucket: str, tmp_path: Path
) -> None:
    """``download_file(EnableCRC=True)`` compares the reassembled file with the HEAD's
    x-cos-hash-crc64ecma — but only on its ranged path (objects above PartSize MB)."""
    admin.put_object(Bucket=cos_bucket, Body=BIG, Key="crc")
    dest = tmp_path / "crc"
    admin.download_file(Bucket=cos_bucket, Key="crc", DestFilePath=str(dest), PartSize=1, EnableCRC=True)
    assert dest.read_bytes() == BIG


def test_the_sdks_crc_check_catches_a_flipped_byte(
    cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str, tmp_path: Path
) -> None:
    admin.put_object(Bucket=cos_bucket, Body=BIG, Key="flip")
    cos_server.faults.corrupt("flip", times=1)  # one ranged part
    with pytest.raises(CosClientError, match="crc"):
        admin.download_file(
            Bucket=cos_bucket, Key="flip", DestFilePath=str(tmp_path / "f"), PartSize=1, EnableCRC=True
        )


def test_streamed_upload_without_length(admin: CosS3Client, cos_bucket: str) -> None:
    """A generator body goes out chunked; Transfer-Encoding is signed; the CRC is of what arrived."""
    parts = (BODY[i : i + 40000] for i in range(0, len(BODY), 40000))
    assert lower(admin.put_object(Bucket=cos_bucket, Body=parts, Key="chunked"))[
        "x-cos-hash-crc64ecma"
    ] == str(crc64(BODY))
    assert admin.get_object(Bucket=cos_bucket, Key="chunked")["Body"].get_raw_stream().read() == BODY


def test_crc_of_objects_stored_by_someone_else(admin: CosS3Client, cos_bucket: str) -> None:
    """A second server shares moto's objects but not the first one's remembered CRCs."""
    admin.put_object(Bucket=cos_bucket, Body=BODY, Key="shared")
    with LocalCOSServer() as other:
        assert lower(other.client().head_object(Bucket=cos_bucket, Key="shared"))[
            "x-cos-hash-crc64ecma"
        ] == str(crc64(BODY))


def test_list_objects_pages_with_a_key_valued_next_marker(admin: CosS3Client, cos_bucket: str) -> None:
    keys = sorted(f"p/{i:02d} 腾讯%+.jpg" for i in range(7))
    for k in keys:
        admin.put_object(Bucket=cos_bucket, Body=k.encode(), Key=k)
    admin.put_object(Bucket=cos_bucket, Body=b"x", Key="other")
    seen: list[str] = []
    marker, pages = "", 0
    while True:
        page = admin.list_objects(Bucket=cos_bucket, Prefix="p/", Marker=marker, MaxKeys=2)
        pages += 1
        contents = page.get("Contents", [])
        assert len(contents) <= 2 and page["Prefix"] == "p/"
        assert all(int(o["Size"]) == len(o["Key"].encode()) for o in contents)  # Size: a string
        seen += [o["Key"] for o in contents]
        if page["IsTruncated"] == "false":
            assert "NextMarker" not in page
            break
        assert page["IsTruncated"] == "true" and page["NextMarker"] == contents[-1]["Key"]
        marker = page["NextMarker"]
    assert pages == 4 and seen == keys


def test_a_truncated_page_has_a_next_marker_with_a_delimiter_too(admin: CosS3Client, cos_bucket: str) -> None:
    """(moto counts only keys against MaxKeys and repeats CommonPrefixes on every page; COS
    counts both — the provider never lists with a delimiter.)"""
    for k in ("d/a/1", "d/a/2", "d/c", "d/e", "d/f"):
        admin.put_object(Bucket=cos_bucket, Body=b"v", Key=k)
    page = admin.list_objects(Bucket=cos_bucket, Prefix="d/", Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/a/"]
    assert [o["Key"] for o in page["Contents"]] == ["d/c", "d/e"]
    assert page["IsTruncated"] == "true" and page["NextMarker"] == "d/e"


def test_the_sdk_through_an_http_proxy(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    """A client with a real-looking Endpoint and no IP: the server is its HTTP proxy (the way a
    COS-compatible custom domain is tested without DNS)."""
    client = CosS3Client(
        CosConfig(
            Region=cos_server.region,
            SecretId=cos_server.admin.access_key,
            SecretKey=cos_server.admin.secret_key,
            Scheme="http",
            Endpoint=cos_server.virtual_domain,
            Proxies={"http": cos_server.endpoint},
        ),
        retry=0,
        session=requests.Session(),
    )
    client.put_object(Bucket=cos_bucket, Body=b"proxied", Key="px")
    assert client.get_object(Bucket=cos_bucket, Key="px")["Body"].get_raw_stream().read() == b"proxied"
    assert cos_server.faults.count("GET", f"/{cos_bucket}/px") == 1


# -- bad credentials -----------------------------------------------------------------------------


def test_wrong_secret(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    admin.put_object(Bucket=cos_bucket, Body=b"v", Key="k")
    bad = cos_server.client((cos_server.admin.access_key, "not-the-secret-at-all"))
    assert code(lambda: bad.get_object(Bucket=cos_bucket, Key="k")) == ("SignatureDoesNotMatch", 403)
    assert code(lambda: bad.list_objects(Bucket=cos_bucket)) == ("SignatureDoesNotMatch", 403)
    head = service_error(lambda: bad.head_object(Bucket=cos_bucket, Key="k"))  # no body: the header says
    assert (head.get_status_code(), head.get_error_code()) == (403, "SignatureDoesNotMatch")
    assert head.get_request_id() not in ("", "Unknown")


def test_unknown_key(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    unknown = cos_server.client(("AKIDUNKNOWN00000000000000", "whatever-secret-value"))
    assert code(lambda: unknown.put_object(Bucket=cos_bucket, Body=b"v", Key="k")) == (UNKNOWN_KEY_CODE, 403)
    assert UNKNOWN_KEY_CODE == "InvalidAccessKeyId"


def test_anonymous_request_is_denied(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    anonymous = CosS3Client(
        CosConfig(
            Region=cos_server.region,
            Anonymous=True,
            Scheme="http",
            Endpoint=cos_server.virtual_domain,
            IP=cos_server.host,
            Port=cos_server.port,
        ),
        retry=0,
    )
    assert code(lambda: anonymous.list_objects(Bucket=cos_bucket)) == ("AccessDenied", 403)


@pytest.mark.parametrize(
    "auth",
    ["q-sign-algorithm=md5&q-ak=x", "Bearer token", "q-sign-algorithm=sha1&q-ak=x&q-sign-time=soon&q-key-time=1;2"
     "&q-header-list=&q-url-param-list=&q-signature=00"],
    ids=["md5", "not-cos", "bad-time"],
)  # fmt: skip
def test_a_malformed_authorization(cos_server: LocalCOSServer, cos_bucket: str, auth: str) -> None:
    r = requests.get(cos_server.endpoint + "/k", headers={"Host": f"{cos_bucket}.{cos_server.virtual_domain}",
                                                          "Authorization": auth}, timeout=10)  # fmt: skip
    code, status, message = GUESSED["malformed"]
    assert (r.status_code, r.headers["x-cos-error-code"], r.headers["x-cos-error-message"]) == (
        status,
        code,
        message,
    )
    assert ET.fromstring(r.content).findtext("Code") == code


def test_requests_tampered_after_signing(
    cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str
) -> None:
    """A signature covers the path, the signed headers and the signed parameters."""
    admin.put_object(Bucket=cos_bucket, Body=b"a", Key="a.txt")
    admin.put_object(Bucket=cos_bucket, Body=b"b", Key="b.txt")

    def path(p: requests.PreparedRequest) -> None:
        p.url = (p.url or "").replace("/a.txt", "/b.txt")

    def meta(p: requests.PreparedRequest) -> None:
        p.headers["x-cos-meta-who"] = "someone-else"

    def prefix(p: requests.PreparedRequest) -> None:
        p.url = (p.url or "").replace("prefix=a", "prefix=b")

    key = cos_server.admin
    thief = cos_server.client(key, session=Tamper(path).session)
    assert code(lambda: thief.get_object(Bucket=cos_bucket, Key="a.txt")) == ("SignatureDoesNotMatch", 403)
    writer = cos_server.client(key, session=Tamper(meta).session)

    def put() -> Any:
        return writer.put_object(Bucket=cos_bucket, Body=b"x", Key="a.txt", Metadata={"x-cos-meta-who": "me"})

    assert code(put) == ("SignatureDoesNotMatch", 403)
    lister = cos_server.client(key, session=Tamper(prefix).session)
    assert code(lambda: lister.list_objects(Bucket=cos_bucket, Prefix="a")) == ("SignatureDoesNotMatch", 403)
    assert admin.get_object(Bucket=cos_bucket, Key="a.txt")["Body"].get_raw_stream().read() == b"a"
    # the same requests, untampered, pass: what failed above was the change, not the request
    admin.put_object(Bucket=cos_bucket, Body=b"m", Key="m.txt", Metadata={"x-cos-meta-who": "me"})
    assert lower(admin.head_object(Bucket=cos_bucket, Key="m.txt"))["x-cos-meta-who"] == "me"
    assert [o["Key"] for o in admin.list_objects(Bucket=cos_bucket, Prefix="a")["Contents"]] == ["a.txt"]


@pytest.mark.parametrize(
    ("shift", "answer"),
    [(-20000, GUESSED["expired"][:2]), (3600, GUESSED["not_yet_valid"][:2])],
    ids=["expired", "not-yet-valid"],
)
def test_the_sign_time_window_is_checked(
    admin: CosS3Client, cos_bucket: str, monkeypatch: pytest.MonkeyPatch, shift: int, answer: tuple[str, int]
) -> None:
    """The SDK signs for [now - 60 s, now + 10,000 s]; a clock far off makes that window miss now."""
    real = time.time
    monkeypatch.setattr(qcloud_cos.cos_auth, "time", types.SimpleNamespace(time=lambda: real() + shift))
    assert code(lambda: admin.list_objects(Bucket=cos_bucket)) == answer
    monkeypatch.setattr(qcloud_cos.cos_auth, "time", types.SimpleNamespace(time=lambda: real() + 600))
    assert admin.list_objects(Bucket=cos_bucket)["IsTruncated"] == "false"  # within MAX_SKEW


def test_a_security_token_is_signed(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    """No STS here: any token passes, but it is part of the signature like any x-cos-* header."""
    with_token = cos_server.client(Token="sts-token-0123456789")
    with_token.put_object(Bucket=cos_bucket, Body=b"t", Key="t")

    def swap(p: requests.PreparedRequest) -> None:
        p.headers["x-cos-security-token"] = "another-token-000000"

    swapped = cos_server.client(Token="sts-token-0123456789", session=Tamper(swap).session)
    assert code(lambda: swapped.get_object(Bucket=cos_bucket, Key="t")) == ("SignatureDoesNotMatch", 403)


def test_presigned_url(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    """Signature in the query. The SDK signs the URL's host, which is the IP in IP mode, so the
    URL is made without the host signed and the request names the bucket in Host."""
    admin.put_object(Bucket=cos_bucket, Body=BODY, Key="p.jpg")
    admin.put_object(Bucket=cos_bucket, Body=b"q", Key="q.jpg")
    host = {"Host": f"{cos_bucket}.{cos_server.virtual_domain}"}
    url = admin.get_presigned_url(Bucket=cos_bucket, Key="p.jpg", Method="GET", SignHost=False)
    got = requests.get(url, headers=host, timeout=10)
    assert (got.status_code, got.content, got.headers["x-cos-hash-crc64ecma"]) == (
        200,
        BODY,
        str(crc64(BODY)),
    )
    forged = requests.get(url.replace("/p.jpg", "/q.jpg"), headers=host, timeout=10)
    assert (forged.status_code, forged.headers["x-cos-error-code"]) == (403, "SignatureDoesNotMatch")


def test_error_answers_are_cos_shaped(
    cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str
) -> None:
    """The XML body with every element COS documents, the same code in a header, the request id."""
    url = admin.get_presigned_url(Bucket=cos_bucket, Key="missing.jpg", Method="GET", SignHost=False)
    host = {"Host": f"{cos_bucket}.{cos_server.virtual_domain}"}
    r = requests.get(url, headers=host, timeout=10)
    root = ET.fromstring(r.content)
    assert root.tag == "Error" and [c.tag for c in root] == [
        "Code",
        "Message",
        "Resource",
        "RequestId",
        "TraceId",
    ]
    assert (r.status_code, root.findtext("Code"), r.headers["x-cos-error-code"]) == (
        404,
        "NoSuchKey",
        "NoSuchKey",
    )
    assert (
        root.findtext("RequestId") == r.headers["x-cos-request-id"] and root.findtext("TraceId") == TRACE_ID
    )
    assert root.findtext("Resource") == f"{cos_bucket}.cos.{cos_server.region}.rtcsnap.invalid/missing.jpg"
    head = requests.head(url.replace("GET", "HEAD"), headers=host, timeout=10)
    assert head.status_code == 403 and head.headers["Content-Length"] == "0"  # signed for GET, not HEAD
    assert head.headers["x-cos-error-code"] == "SignatureDoesNotMatch" and head.content == b""


# -- what a key may do -----------------------------------------------------------------------------


def test_write_only_key(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    writer = cos_server.client(cos_server.key(["Write"]))
    assert lower(writer.put_object(Bucket=cos_bucket, Body=BODY, Key="w"))["x-cos-hash-crc64ecma"] == str(
        crc64(BODY)
    )
    assert code(lambda: writer.get_object(Bucket=cos_bucket, Key="w")) == ("AccessDenied", 403)
    assert code(lambda: writer.list_objects(Bucket=cos_bucket)) == ("AccessDenied", 403)
    assert code(lambda: writer.delete_object(Bucket=cos_bucket, Key="w")) == ("AccessDenied", 403)
    assert code(lambda: writer.head_object(Bucket=cos_bucket, Key="w")) == ("AccessDenied", 403)
    assert code(lambda: writer.head_bucket(Bucket=cos_bucket)) == ("AccessDenied", 403)  # as SeaweedFS
    assert code(lambda: writer.create_bucket(Bucket=cos_bucket_name())) == ("AccessDenied", 403)
    assert admin.get_object(Bucket=cos_bucket, Key="w")["Body"].get_raw_stream().read() == BODY


def test_read_list_key(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    admin.put_object(Bucket=cos_bucket, Body=b"data", Key="r")
    reader = cos_server.client(cos_server.key(["Read", "List"]))
    assert reader.get_object(Bucket=cos_bucket, Key="r")["Body"].get_raw_stream().read() == b"data"
    assert [o["Key"] for o in reader.list_objects(Bucket=cos_bucket)["Contents"]] == ["r"]
    assert reader.bucket_exists(Bucket=cos_bucket)
    assert code(lambda: reader.put_object(Bucket=cos_bucket, Body=b"new", Key="r")) == ("AccessDenied", 403)
    assert code(lambda: reader.delete_object(Bucket=cos_bucket, Key="r")) == ("AccessDenied", 403)


def test_key_limited_to_one_bucket(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    other = cos_server.create_bucket(cos_bucket_name())
    scoped = cos_server.client(cos_server.key(["Write"], bucket=cos_bucket))
    scoped.put_object(Bucket=cos_bucket, Body=b"1", Key="x")
    assert code(lambda: scoped.put_object(Bucket=other, Body=b"1", Key="x")) == ("AccessDenied", 403)


# -- missing things and other regions ------------------------------------------------------------


def test_missing_bucket_and_key(admin: CosS3Client, cos_bucket: str) -> None:
    missing = cos_bucket_name()
    assert code(lambda: admin.get_object(Bucket=missing, Key="k")) == ("NoSuchBucket", 404)
    assert code(lambda: admin.list_objects(Bucket=missing)) == ("NoSuchBucket", 404)
    assert code(lambda: admin.head_bucket(Bucket=missing)) == ("NoSuchResource", 404)
    assert code(lambda: admin.get_object(Bucket=cos_bucket, Key="nope")) == ("NoSuchKey", 404)
    assert code(lambda: admin.head_object(Bucket=cos_bucket, Key="nope")) == ("NoSuchResource", 404)


def test_a_bucket_answers_only_in_its_region(
    cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str
) -> None:
    admin.put_object(Bucket=cos_bucket, Body=b"v", Key="k")
    elsewhere = cos_server.client(Region="ap-beijing", Endpoint="cos.ap-beijing.rtcsnap.invalid")
    assert code(lambda: elsewhere.get_object(Bucket=cos_bucket, Key="k")) == GUESSED["other_region"][:2]


# -- faults --------------------------------------------------------------------------------------


def test_injected_503_then_success(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    admin.put_object(Bucket=cos_bucket, Body=b"ok", Key="f.jpg")
    cos_server.faults.fail("GET", "f.jpg", status=503, times=1, code="SlowDown")
    err = service_error(lambda: admin.get_object(Bucket=cos_bucket, Key="f.jpg"))
    assert (err.get_error_code(), err.get_status_code(), err.get_request_id()[:5]) == (
        "SlowDown",
        503,
        "FAULT",
    )
    assert admin.get_object(Bucket=cos_bucket, Key="f.jpg")["Body"].get_raw_stream().read() == b"ok"
    assert cos_server.faults.count("GET", f"/{cos_bucket}/f.jpg") == 2  # paths as LocalS3Server's


def test_an_injected_head_error_carries_its_code(
    cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str
) -> None:
    cos_server.faults.fail("HEAD", "", status=503, times=1, code="ServiceUnavailable")
    assert code(lambda: admin.head_bucket(Bucket=cos_bucket)) == ("ServiceUnavailable", 503)


def test_reset_connection(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    cos_server.faults.reset("PUT", "r.jpg")
    with pytest.raises(CosClientError):
        admin.put_object(Bucket=cos_bucket, Body=b"x", Key="r.jpg")
    admin.put_object(Bucket=cos_bucket, Body=b"x", Key="r.jpg")
    assert cos_server.faults.count("PUT", "r.jpg") == 2, "retry=0: one request per call"


def test_dropped_next_marker(cos_server: LocalCOSServer, admin: CosS3Client, cos_bucket: str) -> None:
    for i in range(3):
        admin.put_object(Bucket=cos_bucket, Body=b"v", Key=f"n/{i}")
    cos_server.faults.drop_next_token()
    page = admin.list_objects(Bucket=cos_bucket, Prefix="n/", MaxKeys=2)
    assert page["IsTruncated"] == "true" and "NextMarker" not in page


def test_works_while_moto_auth_mode_is_on(admin: CosS3Client, cos_bucket: str) -> None:
    """moto's SigV4 checking is process-global (LocalS3Server.enable_auth): the layer re-signs for moto."""
    with LocalS3Server() as s3:
        s3.enable_auth()
        assert s3.auth_enabled
        admin.put_object(Bucket=cos_bucket, Body=BODY, Key="auth/k 1")
        assert admin.get_object(Bucket=cos_bucket, Key="auth/k 1")["Body"].get_raw_stream().read() == BODY
        assert [o["Key"] for o in admin.list_objects(Bucket=cos_bucket, Prefix="auth/")["Contents"]] == [
            "auth/k 1"
        ]
        admin.delete_object(Bucket=cos_bucket, Key="auth/k 1")


# -- secrets -------------------------------------------------------------------------------------------


def test_secret_never_in_logs_or_errors(
    cos_server: LocalCOSServer, cos_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = cos_server.key(["Read"])
    errors = [
        service_error(
            lambda: cos_server.client((key.access_key, "wrong-secret-123456")).get_object(
                Bucket=cos_bucket, Key="k"
            )
        ),
        service_error(lambda: cos_server.client(key).put_object(Bucket=cos_bucket, Body=b"v", Key="k")),
        service_error(lambda: cos_server.client(key).get_object(Bucket=cos_bucket, Key="missing")),
    ]
    assert [e.get_error_code() for e in errors] == ["SignatureDoesNotMatch", "AccessDenied", "NoSuchKey"]
    texts = [caplog.text, *map(str, errors), repr(key), repr(cos_server.admin)]
    assert_no_secret(*texts, where="server logs and errors")
    with pytest.raises(AssertionError):  # the scan itself would see it
        assert_no_secret(f"log line {key.secret_key}")


@pytest.fixture(autouse=True)
def _no_leftover_proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """requests honours http_proxy: a developer's proxy must not reroute the local server."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    yield
