"""LocalKodoServer, proven with the official `qiniu` SDK over real HTTP.

The server's verifier (`rtcsnap.testing.kodo_auth`) is written from Qiniu's definitions; the
SDK's own signer is the independent oracle, and the vendor's test vectors pin the algorithms.
Every assertion is on what the SDK (or a plain HTTP client) observes: statuses, Kodo's error
texts, bytes, hashes, pages.
"""

from __future__ import annotations

import io
import json
import random
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import qiniu
import requests
from qiniu import Auth, BucketManager, QiniuMacAuth
from qiniu.http import ResponseInfo
from qiniu.services.storage.uploaders import FormUploader
from qiniu.utils import etag_stream
from rtcsnap.testing import kodo_auth, new_bucket_name
from rtcsnap.testing.kodoserver import (
    DENIED_ERROR,
    UNKNOWN_KEY_ERROR,
    LocalKodoServer,
    decode_marker,
    encode_marker,
)

BODY = bytes(range(256)) * 400  # 100 KB
UNKNOWN = ("QNAKUNKNOWN00000000000", "whatever-secret-00000")


def put(server: LocalKodoServer, creds: tuple[str, str] | None, bucket: str, key: str, data: bytes,
        token: str | None = None, **kw: Any) -> tuple[Any, ResponseInfo]:  # fmt: skip
    """An upload as a user makes it: ``put_data`` with a token from the key pair, the server's region."""
    auth = Auth(*(creds or server.admin_credentials))
    up = token or auth.upload_token(bucket, key)
    ret, info = qiniu.put_data(up, key, data, regions=[server.region_object()], **kw)
    return ret, info


def manager(server: LocalKodoServer, creds: tuple[str, str] | None = None) -> BucketManager:
    return server.client(creds).bucket_manager


def answer(info: ResponseInfo) -> tuple[int, str]:
    """(status, Kodo's error text) as the SDK reports them."""
    assert info.req_id, "every Kodo answer carries X-Reqid (else the SDK reports connect_failed)"
    return info.status_code, json.loads(info.text_body)["error"]


def http_answer(resp: requests.Response) -> tuple[int, str]:
    assert resp.headers.get("X-Reqid")
    return resp.status_code, resp.json()["error"]


# -- the algorithms: vendor vectors, and the SDK as oracle ----------------------------------------


def test_signatures_match_the_vendors_own_vectors() -> None:
    """qiniu/python-sdk tests/cases/test_auth.py (ak ``abcdefghklmnopq``, sk ``1234567890``; ``ak``/``sk``)."""
    assert kodo_auth.sign("1234567890", "test") == "mSNBTR7uS2crJsyFr2Amwv1LaYg="
    assert kodo_auth.sign("1234567890", kodo_auth.qbox_data("?go=1", None, b"test")) == (
        "cFyRVoWrE3IugPIMP5YJFTO-O-Y="
    )
    assert kodo_auth.sign("1234567890", kodo_auth.qbox_data("?go=1", kodo_auth.FORM, b"test")) == (
        "svWRNcacOE-YMsc70nuIYdaa1e4="
    )
    headers = [("X-Qiniu-Bbb", "BBB"), ("X-Qiniu-Aaa", "DDD"), ("X-Qiniu-", "a"), ("X-Qiniu", "b")]
    data = kodo_auth.mac_data(
        "GET",
        "/mkfile/sdf.jpg?s=er3&df",
        "upload.qiniup.com",
        kodo_auth.FORM,
        headers,
        b"name=test&language=go",
    )
    assert kodo_auth.sign("sk", data) == "PUFPWsEUIpk_dzUvvxTTmwhp3p4="
    data = kodo_auth.mac_data(
        "GET", "", "upload.qiniup.com", "application/json", headers, b'{"name": "test"}'
    )
    assert kodo_auth.sign("sk", data) == "DhNA1UCaBqSHCsQjMOLRfVn63GQ="


def _random_text(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def test_management_signature_equals_the_sdks_for_random_requests() -> None:
    rng = random.Random(8)
    safe = string.ascii_letters + string.digits + "-_.~/%="
    for _ in range(40):
        sk = _random_text(rng, string.ascii_letters, 20)
        path_query = "/" + _random_text(rng, safe, rng.randint(0, 30))
        if rng.random() < 0.5:
            path_query += "?" + _random_text(rng, safe + "&", rng.randint(1, 20))
        content_type = rng.choice([None, kodo_auth.FORM, "application/json", kodo_auth.OCTET])
        body = _random_text(rng, safe, rng.randint(0, 40)).encode()
        headers = {f"X-Qiniu-{_random_text(rng, string.ascii_letters, 5)}": _random_text(rng, safe, 6)}
        theirs = QiniuMacAuth("ak", sk).token_of_request(
            "POST", "h.example:81", f"http://h.example:81{path_query}", QiniuMacAuth("ak", sk).qiniu_headers(headers),
            content_type, body,
        )  # fmt: skip
        mine = kodo_auth.sign(sk, kodo_auth.mac_data("POST", path_query, "h.example:81", content_type,
                                                     headers.items(), body))  # fmt: skip
        assert theirs == f"ak:{mine}"
        qbox = Auth("ak", sk).token_of_request(f"http://h.example{path_query}", body.decode(), content_type)
        assert qbox == f"ak:{kodo_auth.sign(sk, kodo_auth.qbox_data(path_query, content_type, body))}"


def test_upload_and_download_tokens_parse_as_the_sdk_writes_them() -> None:
    auth = Auth("QNAKA", "secret-a")
    token = kodo_auth.parse_upload_token(auth.upload_token("bkt", "k/1.jpg", 60))
    assert token is not None and token.valid_for("secret-a") and not token.valid_for("secret-b")
    assert (token.bucket, token.scoped_key, token.access_key) == ("bkt", "k/1.jpg", "QNAKA")
    whole = kodo_auth.parse_upload_token(auth.upload_token("bkt"))
    assert whole is not None and whole.scoped_key is None
    url = auth.private_download_url("http://d.example/a%20b.jpg?imageView2/1", expires=60)
    signed, tok = kodo_auth.download_signed_part(url) or ("", "")
    assert tok == f"QNAKA:{kodo_auth.sign('secret-a', signed)}"
    assert signed.endswith("?imageView2/1&e=" + str(kodo_auth.deadline_of(signed)))
    assert kodo_auth.decode_entry(qiniu.entry("bkt", "a:b/c")) == ("bkt", "a:b/c")


def test_hashes_are_the_sdks_etag(kodo: LocalKodoServer, bucket: str) -> None:
    """One block, several 4 MiB blocks, and empty: the server's ``hash`` is what ``etag_stream`` says.
    (``put_data`` refuses empty bytes — "Must provide one of file_path or data" — a stream is fine.)"""
    uploader = FormUploader(bucket, regions=[kodo.region_object()], preferred_scheme="http")
    auth = Auth(*kodo.admin_credentials)
    for i, data in enumerate((b"", BODY, bytes(9 * 1024 * 1024 + 7))):
        token = auth.upload_token(bucket, f"h/{i}")
        ret, info = uploader.upload(key=f"h/{i}", data=io.BytesIO(data), up_token=token)
        assert info.status_code == 200 and ret["hash"] == etag_stream(io.BytesIO(data))


def test_markers_are_kodos_shape() -> None:
    assert kodo_auth.b64decode(encode_marker("a/b")) == b'{"c":0,"k":"a/b"}'
    assert decode_marker(encode_marker("é/x")) == "é/x"


# -- a good key ------------------------------------------------------------------------------------


def test_put_list_stat_download_delete(kodo: LocalKodoServer, bucket: str) -> None:
    c = kodo.client()
    keys = sorted(f"p/{i:02d} é.jpg" for i in range(5))
    for k in keys:
        ret, info = put(kodo, None, bucket, k, BODY + k.encode())
        assert (info.status_code, ret["key"]) == (200, k) and info.req_id
    put(kodo, None, bucket, "other", b"x")
    pages, marker = [], None
    while True:
        ret, eof, info = c.bucket_manager.list(bucket, prefix="p/", marker=marker, limit=2)
        assert info.status_code == 200
        pages.append([item["key"] for item in ret["items"]])
        marker = ret.get("marker")
        assert eof == (not marker)
        if eof:
            break
    assert pages == [keys[0:2], keys[2:4], keys[4:]]
    ret, info = c.bucket_manager.stat(bucket, keys[0])
    data = BODY + keys[0].encode()
    assert (ret["fsize"], ret["hash"]) == (len(data), etag_stream(io.BytesIO(data)))
    assert abs(ret["putTime"] / 10_000_000 - datetime.now().timestamp()) < 3600, "putTime counts 100 ns"
    resp = c.get(bucket, keys[0])  # Host: <bucket domain>, sent to the server
    assert resp.status_code == 200 and resp.content == data
    assert resp.headers["ETag"] == f'"{ret["hash"]}"' and resp.headers["X-Reqid"]
    proxied = requests.get(c.download_url(bucket, keys[1]), proxies={"http": kodo.endpoint}, timeout=10)
    assert proxied.content == BODY + keys[1].encode(), "the server as HTTP proxy works too"
    _, info = c.bucket_manager.delete(bucket, keys[0])
    assert info.status_code == 200
    assert answer(c.bucket_manager.stat(bucket, keys[0])[1]) == (612, "no such file or directory")
    assert http_answer(c.get(bucket, keys[0])) == (404, "Document not found")


def test_keys_with_awkward_characters_round_trip(kodo: LocalKodoServer, bucket: str) -> None:
    c = kodo.client()
    for key in ("/leading", "a//b", "sp ace+plus%25?q#h", "中文/键.jpg", "x:y"):
        assert put(kodo, None, bucket, key, key.encode())[0]["key"] == key
        assert c.bucket_manager.stat(bucket, key)[0]["fsize"] == len(key.encode())
        assert c.get(bucket, key).content == key.encode(), key
    assert sorted(kodo.objects(bucket)) == sorted(
        ["/leading", "a//b", "sp ace+plus%25?q#h", "中文/键.jpg", "x:y"]
    )


def test_delimiter_groups_common_prefixes(kodo: LocalKodoServer, bucket: str) -> None:
    for k in ("a/1", "a/2", "b/1", "c"):
        kodo.put_file(bucket, k, b"v")
    ret, _, _ = manager(kodo).list(bucket, delimiter="/", limit=10)
    assert ret["commonPrefixes"] == ["a/", "b/"] and [i["key"] for i in ret["items"]] == ["c"]
    ret, eof, _ = manager(kodo).list(bucket, delimiter="/", limit=1)
    assert ret["commonPrefixes"] == ["a/"] and not eof
    rest, _, _ = manager(kodo).list(bucket, delimiter="/", marker=ret["marker"], limit=10)
    assert rest["commonPrefixes"] == ["b/"] and [i["key"] for i in rest["items"]] == ["c"]


def test_a_marker_that_is_not_kodos_is_640(kodo: LocalKodoServer, bucket: str) -> None:
    assert answer(manager(kodo).list(bucket, marker="not-a-marker")[2]) == (640, "invalid marker")


def test_uc_domains_buckets_and_mkbucket(kodo: LocalKodoServer) -> None:
    c = kodo.client()
    name = new_bucket_name("kodo")
    _, info = c.bucket_manager.mkbucketv3(name, "z0")
    assert info.status_code == 200
    assert c.bucket_manager.list_domains(name)[0] == [f"{name}.kodo.invalid"]
    assert kodo.target_options(name) == {"domain": f"http://{name}.kodo.invalid"}
    assert name in c.bucket_manager.buckets()[0]
    mine = kodo.key(["Read", "List"], bucket=name)
    assert manager(kodo, mine.credentials).buckets()[0] == [name], "a key sees only its buckets"
    assert (
        answer(manager(kodo, mine.credentials).mkbucketv3(new_bucket_name("kodo"), "z0")[1]) == DENIED_ERROR
    )
    assert answer(c.bucket_manager.list_domains("no-such-bucket-x")[1]) == (631, "no such bucket")


def test_qbox_signatures_are_accepted(kodo: LocalKodoServer, bucket: str) -> None:
    """The older ``QBox`` scheme (path?query, then a form body) still signs management calls."""
    kodo.put_file(bucket, "q", b"qbox")
    url = f"{kodo.endpoint}/stat/{qiniu.entry(bucket, 'q')}"
    ret, info = qiniu.http._post_with_auth(url, None, Auth(*kodo.admin_credentials))
    assert info.status_code == 200 and ret["fsize"] == 4
    _, info = qiniu.http._post_with_auth(url, None, Auth(kodo.admin.access_key, "wrong-secret"))
    assert answer(info) == (401, "bad token")


def test_server_side_seeding_is_visible(kodo: LocalKodoServer, bucket: str) -> None:
    digest = kodo.put_file(bucket, "seed/1.jpg", b"seeded", mime="image/jpeg")
    ret, _ = manager(kodo).stat(bucket, "seed/1.jpg")
    assert (ret["hash"], ret["mimeType"]) == (digest, "image/jpeg")
    resp = kodo.client().get(bucket, "seed/1.jpg")
    assert (resp.content, resp.headers["Content-Type"]) == (b"seeded", "image/jpeg")


# -- upload tokens -----------------------------------------------------------------------------------


def test_a_bucket_scope_is_insert_only_and_a_key_scope_may_overwrite(
    kodo: LocalKodoServer, bucket: str
) -> None:
    auth = Auth(*kodo.admin_credentials)
    assert put(kodo, None, bucket, "k", b"one", token=auth.upload_token(bucket))[1].status_code == 200
    assert put(kodo, None, bucket, "k", b"one", token=auth.upload_token(bucket))[1].status_code == 200
    assert answer(put(kodo, None, bucket, "k", b"two", token=auth.upload_token(bucket))[1]) == (
        614,
        "file exists",
    )
    assert put(kodo, None, bucket, "k", b"two")[1].status_code == 200, "bucket:key scope overwrites"
    assert kodo.objects(bucket)["k"] == b"two"
    other = auth.upload_token(bucket, "other-key")
    assert answer(put(kodo, None, bucket, "k", b"3", token=other)[1]) == (403, "key doesn't match scope")
    prefix = auth.upload_token(bucket, "dir/", policy={"isPrefixalScope": 1})
    assert put(kodo, None, bucket, "dir/x", b"p", token=prefix)[1].status_code == 200


def test_expired_tampered_and_oversized_upload_tokens(kodo: LocalKodoServer, bucket: str) -> None:
    auth = Auth(*kodo.admin_credentials)
    expired = auth.upload_token(bucket, "k", expires=-10)
    assert answer(put(kodo, None, bucket, "k", b"v", token=expired)[1]) == (401, "token out of date")
    ak, sig, policy = auth.upload_token(bucket, "k").split(":")
    forged = kodo_auth.b64decode(policy).replace(bucket.encode(), b"elsewhere")
    tampered = f"{ak}:{sig}:{kodo_auth.encode_entry(forged.decode())}"
    assert answer(put(kodo, None, bucket, "k", b"v", token=tampered)[1]) == (401, "bad token")
    small = auth.upload_token(bucket, "k", policy={"fsizeLimit": 3})
    assert put(kodo, None, bucket, "k", b"four", token=small)[1].status_code == 413


def test_a_crc32_that_does_not_match_the_body_is_406(kodo: LocalKodoServer, bucket: str) -> None:
    uploader = FormUploader(bucket, regions=[kodo.region_object()], preferred_scheme="http")
    token = Auth(*kodo.admin_credentials).upload_token(bucket, "c")
    _, info = uploader.upload(key="c", data=io.BytesIO(b"data"), up_token=token, crc32_int=12345)
    assert info.status_code == 406 and "c" not in kodo.objects(bucket)
    _, info = uploader.upload(key="c", data=io.BytesIO(b"data"), up_token=token)  # the SDK's own crc32
    assert info.status_code == 200


def test_an_upload_to_a_bucket_of_another_region_is_incorrect_region(kodo: LocalKodoServer) -> None:
    north = kodo.create_bucket(new_bucket_name("kodo"), region="cn-north-1")
    status, text = answer(put(kodo, None, north, "k", b"v")[1])
    assert status == 400 and text.startswith("incorrect region") and "up-z1" in text


# -- bad credentials -------------------------------------------------------------------------------


def test_wrong_secret_is_bad_token_everywhere(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "k", b"v")
    wrong = (kodo.admin.access_key, "not-the-secret-at-all")
    bad = manager(kodo, wrong)
    assert answer(bad.stat(bucket, "k")[1]) == (401, "bad token")
    assert answer(bad.list(bucket)[2]) == (401, "bad token")
    assert answer(bad.delete(bucket, "k")[1]) == (401, "bad token")
    assert answer(bad.list_domains(bucket)[1]) == (401, "bad token")
    assert answer(put(kodo, wrong, bucket, "k2", b"v")[1]) == (401, "bad token")
    assert http_answer(kodo.client(wrong).get(bucket, "k")) == (401, "bad token")
    assert json.loads(bad.stat(bucket, "k")[1].text_body)["error_code"] == "BadToken"
    assert kodo.objects(bucket) == {"k": b"v"}


def test_unknown_key_is_told_apart(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "k", b"v")
    stranger = manager(kodo, UNKNOWN)
    assert answer(stranger.stat(bucket, "k")[1]) == UNKNOWN_KEY_ERROR
    assert answer(stranger.list(bucket)[2]) == UNKNOWN_KEY_ERROR
    assert answer(put(kodo, UNKNOWN, bucket, "k2", b"v")[1]) == UNKNOWN_KEY_ERROR
    assert http_answer(kodo.client(UNKNOWN).get(bucket, "k")) == UNKNOWN_KEY_ERROR
    assert UNKNOWN_KEY_ERROR == (401, "app/accesskey is not found")


def test_a_signature_opens_only_the_request_it_signed(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "a", b"a")
    kodo.put_file(bucket, "b", b"b")
    auth = QiniuMacAuth(*kodo.admin_credentials)
    url = f"{kodo.endpoint}/stat/{qiniu.entry(bucket, 'a')}"
    prepared = requests.Request("POST", url, auth=qiniu.auth.QiniuMacRequestsAuth(auth)).prepare()
    assert requests.Session().send(prepared, timeout=10).status_code == 200
    prepared.url = f"{kodo.endpoint}/stat/{qiniu.entry(bucket, 'b')}"
    assert http_answer(requests.Session().send(prepared, timeout=10)) == (401, "bad token")
    c = kodo.client()
    swapped = c.download_url(bucket, "a").replace("/a?", "/b?")
    assert http_answer(c.fetch(swapped)) == (401, "bad token")


@pytest.mark.parametrize("minutes", [-60, 20])
def test_a_skewed_qiniu_date_is_refused(
    kodo: LocalKodoServer, bucket: str, monkeypatch: pytest.MonkeyPatch, minutes: int
) -> None:
    real = datetime

    class Skewed(datetime):
        @classmethod
        def utcnow(cls) -> Skewed:  # the SDK stamps X-Qiniu-Date with utcnow()
            now = real.now(UTC) + timedelta(minutes=minutes)
            return cls(*now.timetuple()[:6])

    monkeypatch.setattr(qiniu.auth, "datetime", Skewed)
    assert answer(manager(kodo).list(bucket)[2]) == (403, "request time too skewed")
    monkeypatch.setattr(qiniu.auth, "datetime", real)
    assert manager(kodo).list(bucket)[2].status_code == 200


def test_download_tokens_expire_and_are_required(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "k", b"v")
    c = kodo.client()
    assert http_answer(c.fetch(c.download_url(bucket, "k", expires=-5))) == (401, "token out of date")
    assert http_answer(c.fetch(f"{kodo.domain_url(bucket)}/k")) == (401, "download token not specified")
    assert c.fetch(c.download_url(bucket, "k")).content == b"v"


# -- what a key may do -------------------------------------------------------------------------------


def test_write_only_key(kodo: LocalKodoServer, bucket: str) -> None:
    writer = kodo.key(["Write"]).credentials
    assert put(kodo, writer, bucket, "w", BODY)[1].status_code == 200
    m = manager(kodo, writer)
    assert answer(m.stat(bucket, "w")[1]) == DENIED_ERROR
    assert answer(m.list(bucket)[2]) == DENIED_ERROR
    assert answer(m.delete(bucket, "w")[1]) == DENIED_ERROR
    assert http_answer(kodo.client(writer).get(bucket, "w")) == DENIED_ERROR
    assert kodo.client().get(bucket, "w").content == BODY


def test_read_list_key(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "r", b"data")
    reader = kodo.key(["Read", "List"]).credentials
    m = manager(kodo, reader)
    assert [i["key"] for i in m.list(bucket)[0]["items"]] == ["r"]
    assert m.stat(bucket, "r")[0]["fsize"] == 4
    assert kodo.client(reader).get(bucket, "r").content == b"data"
    assert answer(put(kodo, reader, bucket, "r", b"new")[1]) == DENIED_ERROR
    assert answer(m.delete(bucket, "r")[1]) == DENIED_ERROR
    assert kodo.objects(bucket) == {"r": b"data"}


def test_a_key_bound_to_one_bucket(kodo: LocalKodoServer, bucket: str) -> None:
    other = kodo.create_bucket(new_bucket_name("kodo"))
    scoped = kodo.key(["Admin"], bucket=bucket).credentials
    assert manager(kodo, scoped).list(bucket)[2].status_code == 200
    assert answer(manager(kodo, scoped).list(other)[2]) == DENIED_ERROR
    assert answer(put(kodo, scoped, other, "k", b"v")[1]) == DENIED_ERROR


def test_missing_bucket_is_631(kodo: LocalKodoServer) -> None:
    m = manager(kodo)
    assert answer(m.stat("no-such-bucket-1", "k")[1]) == (631, "no such bucket")
    assert answer(m.list("no-such-bucket-1")[2]) == (631, "no such bucket")
    assert answer(put(kodo, None, "no-such-bucket-1", "k", b"v")[1]) == (631, "no such bucket")


# -- every answer, faults ------------------------------------------------------------------------------


def test_every_answer_carries_x_reqid(kodo: LocalKodoServer) -> None:
    for method, path in (("GET", "/nope"), ("POST", "/stat/%%%"), ("GET", "/list"), ("PUT", "/")):
        resp = requests.request(method, kodo.endpoint + path, timeout=10)
        assert resp.status_code >= 400 and resp.headers.get("X-Reqid"), (method, path)
        assert resp.json()["error"]


def test_faults_see_object_paths_and_answer_as_kodo(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "snaps/f.jpg", BODY)
    c = kodo.client()
    kodo.faults.fail("GET", "snaps/f.jpg", status=503, times=1)
    assert c.get(bucket, "snaps/f.jpg").status_code == 503
    kodo.faults.fail("POST", "snaps/f.jpg", status=573, times=1, code="TooManyRequests", message="too many")
    _, info = c.bucket_manager.stat(bucket, "snaps/f.jpg")
    assert answer(info) == (573, "too many"), "an injected error is a Kodo answer, not a connection failure"
    assert c.bucket_manager.stat(bucket, "snaps/f.jpg")[1].status_code == 200
    put(kodo, None, bucket, "snaps/g.jpg", b"g")
    assert kodo.faults.count("GET", "snaps/f.jpg") == 1
    assert kodo.faults.count("POST", f"/stat/{bucket}/snaps/f.jpg") == 2
    assert kodo.faults.count("POST", f"/{bucket}/snaps/g.jpg") == 1, "the upload, under its object path"
    kodo.faults.corrupt("snaps/f.jpg", times=1)
    flipped = c.get(bucket, "snaps/f.jpg")
    assert flipped.content != BODY and len(flipped.content) == len(BODY)
    assert etag_stream(io.BytesIO(flipped.content)) != flipped.headers["ETag"].strip('"')


def test_a_reset_connection_is_a_network_failure_for_the_sdk(kodo: LocalKodoServer, bucket: str) -> None:
    fresh = LocalKodoServer().start()  # a port no session of the provider ever configured
    try:
        fresh.create_bucket(bucket)
        fresh.faults.reset("POST", f"/stat/{bucket}/k")
        _, info = manager(fresh).stat(bucket, "k")
        assert info.status_code == -1 and info.connect_failed()
        assert fresh.faults.count("POST", "/stat/") == 1
    finally:
        fresh.stop()


def _sdk_calls(c: Any, bucket: str) -> list[Callable[[], Any]]:
    return [lambda: c.bucket_manager.list(bucket), lambda: c.bucket_manager.stat(bucket, "x")]


def test_the_client_talks_to_this_server_only(kodo: LocalKodoServer, bucket: str) -> None:
    """`client()` sets no process-wide default: a second server's client keeps its own host."""
    other = LocalKodoServer().start()
    try:
        other.create_bucket(bucket)
        before = kodo.faults.count()
        for call in _sdk_calls(other.client(), bucket):
            call()
        assert kodo.faults.count() == before and other.faults.count() == 2
        assert qiniu.config.is_customized_default("default_uc_host") is False
    finally:
        other.stop()


def test_uploads_leave_no_spooled_form_files_open(kodo: LocalKodoServer, bucket: str) -> None:
    """The server parses each upload's multipart form (twice: to route it, then to store it); the
    parts are temp files that must be closed, or every later test collects ResourceWarnings."""
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        for i in range(3):
            ret, info = put(kodo, None, bucket, f"spool/{i}.jpg", BODY)
            assert info.status_code == 200 and ret["key"] == f"spool/{i}.jpg"
        gc.collect()
    assert [str(w.message) for w in seen if "SpooledTemporaryFile" in str(w.message)] == []
