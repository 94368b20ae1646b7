"""rtcsnap-kodo beyond the contract suite: targets, StorageConfig, credentials, the SDK's retries
and process-wide state, downloads through the bucket domain, and what verify tells apart."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import qiniu
import requests
from qiniu.http.region import ServiceName
from rtcsnap import ConfigurationError, Reason, StorageError, ValidationError
from rtcsnap.storage import download, iter_objects, upload, verify
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import FAST
from rtcsnap.testing.kodoserver import LocalKodoServer
from rtcsnap.testing.wsgiserver import InProcessServer
from rtcsnap_kodo import KodoProvider, KodoSession
from rtcsnap_kodo.errors import reason_for, without_tokens
from rtcsnap_kodo.provider import _info, url_path

from tests.conftest import run_cli
from tests.kodo.conftest import target_for

PROVIDER = KodoProvider()


def session(target: StorageTarget) -> KodoSession:
    return PROVIDER.open(PROVIDER.resolve(target))


# -- targets -------------------------------------------------------------------------------------


def test_the_domain_must_be_an_http_url_and_names_its_rule() -> None:
    with pytest.raises(ConfigurationError) as err:
        PROVIDER.resolve(StorageTarget.parse("kodo://b?region=cn-east-1&domain=cdn.example.com/x"))
    assert "'domain'" in str(err.value) and "http(s):// URL" in str(err.value)
    ok = PROVIDER.resolve(StorageTarget.parse("kodo://b?region=cn-east-1&domain=https://cdn.example.com"))
    assert PROVIDER.field(ok, "domain") == "https://cdn.example.com"


def test_unknown_options_and_endpoint_paths_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"'zone'.*known: region, endpoint, domain"):
        PROVIDER.resolve(StorageTarget.parse("kodo://b?region=cn-east-1&zone=z0"))
    with pytest.raises(ConfigurationError, match="has a path"):
        PROVIDER.resolve(StorageTarget.parse("kodo://b?region=cn-east-1&endpoint=http://127.0.0.1:9/kodo"))


def test_a_region_outside_the_table_names_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as err:
        PROVIDER.resolve(StorageTarget.parse("kodo://b?region=us-north-1"))
    assert "us-north-1" in str(err.value)
    assert all(r in str(err.value) for r in ("cn-east-1", "cn-east-2", "cn-north-1", "cn-south-1"))
    # with an endpoint the session works anywhere, but RTC cannot be told the region
    t = PROVIDER.resolve(StorageTarget.parse("kodo://b?region=us-north-1&endpoint=http://127.0.0.1:9",
                                             access_key="AK", secret_key="sk-000000"))  # fmt: skip
    with pytest.raises(ValidationError) as config_err:
        PROVIDER.storage_config(t)
    assert "us-north-1" in str(config_err.value) and "cn-east-1" in str(config_err.value)


def test_without_region_or_endpoint_a_session_cannot_pick_hosts() -> None:
    t = StorageTarget.parse("kodo://b", access_key="AK", secret_key="sk-00000000")
    with pytest.raises(ConfigurationError, match="region required; use one of cn-east-1"):
        session(t)


def test_real_hosts_are_one_https_host_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an endpoint: the region's hosts, the first of each only (a second would be an SDK failover)."""
    s = session(StorageTarget.parse("kodo://b?region=cn-north-1", access_key="AK", secret_key="sk-000000"))
    services = s.hosts.region.services
    assert s.hosts.scheme == "https" and s.manager.preferred_scheme == "https"
    assert {
        sn: [e.host for e in services[sn]] for sn in (ServiceName.UP, ServiceName.RS, ServiceName.UC)
    } == {
        ServiceName.UP: ["upload-z1.qiniup.com"],
        ServiceName.RS: ["rs-z1.qiniuapi.com"],
        ServiceName.UC: ["uc.qiniuapi.com"],
    }
    assert all(len(v) <= 1 for v in services.values())


# -- StorageConfig and credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "code"), [("cn-east-1", 0), ("cn-east-2", 1), ("cn-north-1", 2), ("cn-south-1", 3)]
)
def test_storage_config_is_the_spec_shape(region: str, code: int) -> None:
    t = StorageTarget.parse(
        f"kodo://snaps-bkt/rooms?region={region}", access_key="QNAKCFG", secret_key="sk-cfg-0000"
    )
    wire = PROVIDER.storage_config(PROVIDER.resolve(t)).to_wire()
    assert wire == {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 4, "Region": code, "Bucket": "snaps-bkt", "AccessKey": "QNAKCFG", "SecretKey": "sk-cfg-0000",
        },
    }  # fmt: skip
    back = PROVIDER.target_for(PROVIDER.storage_config(PROVIDER.resolve(t)))
    assert (back.bucket, back.region, back.credentials.access_key) == ("snaps-bkt", region, "QNAKCFG")  # type: ignore[union-attr]


def test_credentials_come_from_the_qiniu_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    t = StorageTarget.parse("kodo://b?region=cn-east-1")
    assert PROVIDER.resolve(t).credentials is None
    with pytest.raises(ConfigurationError, match="QINIU_ACCESS_KEY/QINIU_SECRET_KEY"):
        session(t)
    monkeypatch.setenv("QINIU_ACCESS_KEY", "QNAKENV")
    monkeypatch.setenv("QINIU_SECRET_KEY", "secret-from-env-0000")
    creds = PROVIDER.resolve(t).credentials
    assert creds is not None and (creds.access_key, creds.source) == ("QNAKENV", "env:QINIU_ACCESS_KEY")
    explicit = StorageTarget.parse(
        "kodo://b?region=cn-east-1", access_key="QNAKX", secret_key="sk-explicit-0"
    )
    assert PROVIDER.resolve(explicit).credentials.access_key == "QNAKX"  # type: ignore[union-attr]


def test_storage_config_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"QINIU_ACCESS_KEY": "QNAKCLI", "QINIU_SECRET_KEY": "sk-cli-000000"}
    r = run_cli(
        "storage-config", "kodo://snaps-bkt?region=cn-north-1", "--show-secrets", env=env, shows_secrets=True
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["CustomConfig"] == {
        "Vendor": 4, "Region": 2, "Bucket": "snaps-bkt", "AccessKey": "QNAKCLI", "SecretKey": "sk-cli-000000",
    }  # fmt: skip
    bad = run_cli("storage-config", "kodo://snaps-bkt?region=eu-west-1", env=env)
    assert bad.returncode == 2 and "cn-east-1" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


# -- the SDK's retries are off ---------------------------------------------------------------------


def test_a_broken_listing_connection_is_sent_once(kodo: LocalKodoServer, bucket: str) -> None:
    """The SDK's shared session retries a GET whose connection broke (connection_retries=3);
    a provider session's hosts get a retry-less adapter, so core's policy is the only retry."""
    s = session(target_for(kodo, bucket))
    kodo.faults.reset("GET", "/list")
    with pytest.raises(StorageError) as err:
        s.list_page("", None, 10)
    assert err.value.reason == Reason.NETWORK
    assert kodo.faults.count("GET", "/list") == 1


def test_without_the_provider_the_sdk_would_have_retried(bucket: str) -> None:
    """The same fault against the bare SDK, on a server no provider session configured: the
    trap `rtcsnap_kodo.hosts.no_sdk_retries` closes is real (1 try + 3 urllib3 retries)."""
    with LocalKodoServer() as fresh:
        fresh.create_bucket(bucket)
        fresh.faults.reset("GET", "/list", times=None)
        _, _, info = fresh.client().bucket_manager.list(bucket)
        assert info.status_code == -1
        assert fresh.faults.count("GET", "/list") == 1 + qiniu.config.get_default("connection_retries")


@pytest.mark.parametrize("status", [503, 573, 599])
def test_each_failed_call_is_one_request(kodo: LocalKodoServer, bucket: str, status: int) -> None:
    s = session(target_for(kodo, bucket))
    kodo.put_file(bucket, "snaps/x.jpg", b"x")
    expected = Reason.THROTTLED if status == 573 else Reason.TRANSIENT
    for method, substring, call in (
        ("POST", f"/stat/{bucket}/snaps/x.jpg", lambda: s.stat("snaps/x.jpg")),
        ("POST", f"/{bucket}/snaps/y.jpg", lambda: s.put("snaps/y.jpg", b"y")),
        ("GET", "/list", lambda: s.list_page("snaps/", None, 5)),
        ("GET", "snaps/x.jpg", lambda: s.get("snaps/x.jpg").close()),
        ("POST", f"/delete/{bucket}/snaps/x.jpg", lambda: s.delete("snaps/x.jpg")),
    ):
        kodo.faults.clear()
        kodo.faults.fail(method, substring, status=status, times=None)
        with pytest.raises(StorageError) as err:
            call()
        assert (err.value.reason, err.value.status) == (expected, status), substring
        assert kodo.faults.count(method, substring) == 1, substring


# -- process-wide SDK state --------------------------------------------------------------------------


def test_two_sessions_never_share_credentials_or_hosts(kodo: LocalKodoServer, bucket: str) -> None:
    """qiniu.set_default is process-wide; the sessions give the SDK their hosts per call instead."""
    customized = dict(qiniu.config._is_customized_default)
    reader = kodo.key(["Read", "List"])
    with LocalKodoServer() as other:
        other_bucket = other.create_bucket(bucket)
        writer = other.key(["Write"])  # unknown to `kodo`: a request signed with it there would fail
        a = session(target_for(kodo, bucket, reader.credentials))
        b = session(target_for(other, other_bucket, writer.credentials))
        dead = session(target_for(kodo, bucket, writer.credentials).replace(endpoint="http://127.0.0.2:9"))
        assert a.auth.get_access_key() == reader.access_key and b.auth.get_access_key() == writer.access_key
        assert {e.host for es in a.hosts.region.services.values() for e in es} == {kodo.endpoint[7:]}
        assert {e.host for es in b.hosts.region.services.values() for e in es} == {other.endpoint[7:]}
        kodo.faults.clear()
        b.put("snaps/b.jpg", b"b")  # the writer's upload lands on the other server only
        kodo.put_file(bucket, "snaps/a.jpg", b"a")
        assert [o.key for o in a.list_page("snaps/", None, 10).items] == ["snaps/a.jpg"]
        assert other.objects(other_bucket) == {"snaps/b.jpg": b"b"} and "snaps/b.jpg" not in kodo.objects(
            bucket
        )
        assert kodo.faults.count("POST") == 0, "b's upload never reached a's server"
        with pytest.raises(StorageError) as err:
            dead.list_page("snaps/", None, 10)
        assert err.value.reason == Reason.NETWORK and "127.0.0.2:9" in str(err.value)
        assert [o.key for o in a.list_page("snaps/", None, 10).items] == ["snaps/a.jpg"], "a still lists"
    assert qiniu.config._is_customized_default == customized, "no qiniu.set_default was called"
    assert qiniu.config.get_default("connection_retries") == 3, "the application's SDK settings are untouched"


def test_only_the_endpoint_is_ever_contacted(
    kodo: LocalKodoServer, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every connection of verify, upload, listing and download (the domain looked up through uc,
    the GETs sent with the bucket domain as Host) goes to 127.0.0.1 — no *.qiniuapi.com, no DNS."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    t = target_for(kodo, bucket, domain="")  # no domain: uc's v2/domains names it
    kodo.faults.clear()
    report = verify(t, retry=FAST)
    assert report.fit_for_rtc and report.fit_for_retrieval, report.probes
    upload(t, "snaps/1.jpg", b"one", retry=FAST)
    assert download(t, tmp_path, retry=FAST).downloaded == ["snaps/1.jpg"]
    assert looked_up and set(looked_up) == {"127.0.0.1"}
    assert kodo.faults.count("POST", "/v2/domains") >= 1


# -- downloads ---------------------------------------------------------------------------------------


def test_the_domain_is_looked_up_when_the_target_has_none(kodo: LocalKodoServer, bucket: str) -> None:
    kodo.put_file(bucket, "snaps/a.jpg", b"abc")
    with session(target_for(kodo, bucket, domain="")) as s:
        with s.get("snaps/a.jpg") as stream:
            assert stream.read() == b"abc"
            assert stream.info.checksums["qetag"] == stream.info.etag
        with s.get("snaps/a.jpg") as stream:
            assert stream.read() == b"abc"
    assert kodo.faults.count("POST", "/v2/domains") == 1, "asked once per session"


def test_a_bucket_without_a_domain_says_how_to_name_one(kodo: LocalKodoServer) -> None:
    bare = kodo.create_bucket(new_bucket_name("kodo"), domain="")
    kodo.put_file(bare, "snaps/a.jpg", b"a")
    with session(target_for(kodo, bare)) as s, pytest.raises(StorageError) as err:
        s.get("snaps/a.jpg")
    assert "no download domain" in str(err.value) and "?domain=" in str(err.value)


def test_a_custom_https_domain_is_reached_through_the_endpoint(kodo: LocalKodoServer) -> None:
    name = new_bucket_name("kodo")
    kodo.create_bucket(name, domain=f"cdn-{name}.example.com")
    kodo.put_file(name, "snaps/a.jpg", b"cdn")
    with session(target_for(kodo, name, domain=f"https://cdn-{name}.example.com")) as s:
        assert s.get("snaps/a.jpg").read() == b"cdn"


def test_awkward_keys_and_empty_objects(kodo: LocalKodoServer, bucket: str) -> None:
    with session(target_for(kodo, bucket)) as s:
        for key in ("/lead", "a//b", "sp ace+%25?#", "中文.jpg", "empty"):
            data = b"" if key == "empty" else key.encode()
            info = s.put(key, data)
            assert info.checksums["qetag"] == s.stat(key).checksums["qetag"]
            with s.get(key) as stream:
                assert stream.read() == data and stream.info.size == len(data)
    assert url_path("/lead") == "%2Flead" and url_path("a b/c") == "a%20b/c"


def test_a_flipped_byte_fails_the_qetag(kodo: LocalKodoServer, bucket: str, tmp_path: Path) -> None:
    t = target_for(kodo, bucket)
    kodo.put_file(bucket, "snaps/x.jpg", b"x" * 5000)
    kodo.faults.corrupt("snaps/x.jpg", times=None)
    report = download(t, tmp_path, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [("snaps/x.jpg", Reason.CHECKSUM_MISMATCH)]
    kodo.faults.clear()
    again = download(t, tmp_path, retry=FAST)
    assert again.ok and again.unverified == [] and (tmp_path / "x.jpg").read_bytes() == b"x" * 5000


def test_a_body_cut_short_is_retried_by_core(kodo: LocalKodoServer, bucket: str, tmp_path: Path) -> None:
    t = target_for(kodo, bucket)
    kodo.put_file(bucket, "snaps/t.jpg", b"t" * 50_000)
    kodo.faults.truncate("snaps/t.jpg", times=1)
    report = download(t, tmp_path, retry=FAST)
    assert report.ok and (tmp_path / "t.jpg").read_bytes() == b"t" * 50_000
    assert kodo.faults.count("GET", "snaps/t.jpg") == 2, "the cut GET and core's one retry"


def test_only_qetags_the_bytes_decide_are_checksums() -> None:
    v1 = "FvfDvB2AjgRzKt9nmWXMw0ynrjRB"  # 0x16: one block
    v2 = "nvfDvB2AjgRzKt9nmWXMw0ynrjRB"  # 0x9E: v2 parts of unknown sizes
    assert _info("k", {"hash": v1, "fsize": 9, "putTime": 17_000_000_000_000_000}).checksums == {"qetag": v1}
    info = _info("k", {"hash": v2, "fsize": 9})
    assert info.checksums == {} and info.etag == v2
    assert _info("k", {"putTime": 17_000_000_000_000_000}).last_modified.year == 2023  # type: ignore[union-attr]


def test_a_put_kodo_stored_differently_is_refused(
    kodo: LocalKodoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session(target_for(kodo, bucket)) as s:
        real = s.uploader.upload

        def stored_otherwise(*args: Any, **kwargs: Any) -> Any:
            ret, info = real(*args, **kwargs)
            return {**ret, "hash": "FvfDvB2AjgRzKt9nmWXMw0ynrjRB"}, info

        monkeypatch.setattr(s.uploader, "upload", stored_otherwise)
        with pytest.raises(StorageError) as err:
            s.put("snaps/bad.jpg", b"b" * 3000)
    assert err.value.reason == Reason.CHECKSUM_MISMATCH


# -- what verify tells apart ---------------------------------------------------------------------------


def test_write_only_key_is_fit_for_rtc_only(kodo: LocalKodoServer, bucket: str) -> None:
    writer = kodo.key(["Write"])
    report = verify(target_for(kodo, bucket, writer.credentials), retry=FAST)
    assert report.fit_for_rtc and not report.fit_for_retrieval and report.write_only
    assert report.probe("reachable").reason == Reason.PERMISSION_DENIED
    assert report.leftover_probe is not None, "a write-only key cannot delete its probe"


def test_a_bucket_of_another_region_is_wrong_region(kodo: LocalKodoServer) -> None:
    north = kodo.create_bucket(new_bucket_name("kodo"), region="cn-north-1")
    report = verify(target_for(kodo, north), retry=FAST)
    assert report.reason == Reason.WRONG_REGION and report.probe("write").reason == Reason.WRONG_REGION


class _NotKodo(InProcessServer):
    """Answers everything ``200 {}`` without X-Reqid, as a plain web server would."""

    def __init__(self) -> None:
        super().__init__()
        self.app = self._app

    @staticmethod
    def _app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]


def test_an_endpoint_that_is_not_kodo_is_wrong_endpoint(kodo: LocalKodoServer, bucket: str) -> None:
    with _NotKodo() as other:
        t = target_for(kodo, bucket).replace(endpoint=other.endpoint)
        report = verify(t, retry=FAST)
        assert report.reason == Reason.WRONG_REGION
        with session(t) as s, pytest.raises(StorageError) as err:
            s.put("k", b"v")
    assert err.value.reason == Reason.WRONG_REGION and "not a Kodo service" in str(err.value)


def test_an_unreachable_endpoint_is_network(kodo: LocalKodoServer, bucket: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = verify(target_for(kodo, bucket).replace(endpoint=f"http://127.0.0.1:{port}"), retry=FAST)
    assert report.reason == Reason.NETWORK


def test_throttling_is_retried_by_core(kodo: LocalKodoServer, bucket: str) -> None:
    t = target_for(kodo, bucket)
    kodo.put_file(bucket, "snaps/t.jpg", b"t")
    kodo.faults.fail("GET", "/list", status=573, times=2, code="TooManyRequests")
    assert [o.key for o in iter_objects(t, retry=FAST)] == ["snaps/t.jpg"]
    assert kodo.faults.count("GET", "/list") == 3


@pytest.mark.parametrize(
    ("status", "text", "operation", "reason"),
    [
        (401, "bad token", "get", Reason.BAD_SECRET),
        (401, "app/accesskey is not found", "put", Reason.UNKNOWN_ACCESS_KEY),
        (612, "app/accesskey is not found", "get", Reason.UNKNOWN_ACCESS_KEY),  # uc's documented answer
        (401, "token out of date", "put", Reason.OTHER),
        (403, "request time too skewed", "list", Reason.OTHER),
        (403, "permission denied", "list", Reason.PERMISSION_DENIED),
        (419, "user disabled", "put", Reason.PERMISSION_DENIED),
        (400, "incorrect region, please use up-z1.qiniup.com", "put", Reason.WRONG_REGION),
        (631, "no such bucket", "stat", Reason.BUCKET_MISSING),
        (612, "no such file or directory", "stat", Reason.NOT_FOUND),
        (404, "Document not found", "get", Reason.NOT_FOUND),
        (404, "", "head_bucket", Reason.BUCKET_MISSING),
        (406, "crc32 not match", "put", Reason.CHECKSUM_MISMATCH),
        (573, "", "get", Reason.THROTTLED),
        (599, "", "get", Reason.TRANSIENT),
        (640, "invalid marker", "list", Reason.OTHER),
    ],
)
def test_kodo_answers_map_to_reasons(status: int, text: str, operation: str, reason: Reason) -> None:
    assert reason_for(status, text, operation) == reason


def test_download_tokens_never_reach_messages(kodo: LocalKodoServer, bucket: str) -> None:
    s = session(target_for(kodo, bucket).replace(endpoint="http://127.0.0.1:9"))
    url, _ = s._signed("snaps/a.jpg")
    token = url.rpartition("token=")[2]
    err = s.translate(requests.ConnectionError(f"Max retries exceeded with url: {url}"), "get", "snaps/a.jpg")
    assert token not in str(err) and "token=…" in str(err)
    assert without_tokens("a?e=1&token=AK:sig b") == "a?e=1&token=… b"


def test_every_bad_credential_is_told_apart_by_verify(kodo: LocalKodoServer, bucket: str) -> None:
    reasons = set()
    for t in (
        target_for(kodo, bucket, (kodo.admin.access_key, "wrong-secret-000000")),
        target_for(kodo, bucket, ("QNAKUNKNOWN000000000", "whatever-secret-000")),
        target_for(kodo, bucket).replace(bucket=new_bucket_name("gone")),
    ):
        reasons.add(verify(t, retry=FAST).reason)
    assert reasons == {Reason.BAD_SECRET, Reason.UNKNOWN_ACCESS_KEY, Reason.BUCKET_MISSING}
