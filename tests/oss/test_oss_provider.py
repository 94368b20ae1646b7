"""rtcsnap-oss beyond the contract suite: targets, StorageConfig, credentials, regions, retries,
checksums, isolation and the write-only RTC key."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import oss2
import pytest
from oss2 import exceptions as oe
from rtcsnap import Reason, StorageError
from rtcsnap.errors import ConfigurationError, RtcSnapError
from rtcsnap.providers.contract import Checksum, ObjectInfo
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.storage import download, verify
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import FAST
from rtcsnap.testing.ossserver import LocalOSSServer
from rtcsnap_oss import OssProvider
from rtcsnap_oss.endpoint import Region
from rtcsnap_oss.errors import translate

from tests.conftest import run_cli
from tests.oss.conftest import oss_target

ENV = ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def resolved(
    url: str, creds: tuple[str, str] | None = ("LTAIEXAMPLE", "secret-example-0000")
) -> StorageTarget:
    ak, sk = creds if creds else (None, None)
    return OssProvider().resolve(StorageTarget.parse(url, access_key=ak, secret_key=sk))


def config_error(url: str) -> str:
    with pytest.raises(ConfigurationError) as err:
        resolved(url)
    return str(err.value)


# -- targets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ab", "Upper-case", "under_score", "ends-with-", "-starts", "x" * 64])
def test_a_bad_bucket_name_names_the_field_and_rule(name: str) -> None:
    text = config_error(f"oss://{name}?region=oss-cn-hangzhou")
    assert f"bucket {name!r}" in text and "3-63 characters" in text and "not ending with a hyphen" in text


def test_region_is_required_and_must_be_in_the_table() -> None:
    assert "needs ?region=" in config_error("oss://bkt-1")
    text = config_error("oss://bkt-1?region=oss-xx-nowhere")
    assert "'region'" in text and "valid: oss-cn-hangzhou, oss-cn-shanghai" in text


@pytest.mark.parametrize(("option", "value"), [("signature", "v2"), ("addressing", "virtual")])
def test_option_values_are_checked(option: str, value: str) -> None:
    text = config_error(f"oss://bkt-1?region=oss-cn-hangzhou&{option}={value}")
    assert f"target option {option!r}" in text and repr(value) in text


def test_unknown_options_are_refused_naming_the_known_ones() -> None:
    text = config_error("oss://bkt-1?region=oss-cn-hangzhou&adressing=path")
    assert "'adressing'" in text and "signature" in text and "addressing" in text


@pytest.mark.parametrize("spelling", ["oss-cn-shenzhen", "cn-shenzhen", "OSS-CN-SHENZHEN", "7"])
def test_both_region_spellings_mean_one_region(spelling: str) -> None:
    region = Region.of(spelling)
    assert (region.id, region.signing, region.code) == ("oss-cn-shenzhen", "cn-shenzhen", 7)
    assert region.default_endpoint == "https://oss-cn-shenzhen.aliyuncs.com"


def test_the_default_endpoint_and_v4_scope_come_from_the_region() -> None:
    with OssProvider().open(resolved("oss://bkt-1/p?region=cn-shenzhen")) as s:
        assert (s.bucket.endpoint, s.bucket.region) == ("https://oss-cn-shenzhen.aliyuncs.com", "cn-shenzhen")
        assert isinstance(s.bucket.auth, oss2.ProviderAuthV4) and s.bucket.enable_crc is False
        assert s.bucket._make_url("bkt-1", "k") == "https://bkt-1.oss-cn-shenzhen.aliyuncs.com/k"


@pytest.mark.parametrize(
    ("addressing", "url"),
    [
        ("auto", "https://bkt-1.oss.example.invalid/a%2Fb"),
        ("path", "https://oss.example.invalid/bkt-1/a%2Fb"),
        ("cname", "https://oss.example.invalid/a%2Fb"),
    ],
)
def test_addressing(addressing: str, url: str) -> None:
    t = resolved(
        f"oss://bkt-1?region=oss-cn-hangzhou&endpoint=https://oss.example.invalid&addressing={addressing}"
    )
    with OssProvider().open(t) as s:
        assert s.bucket._make_url("bkt-1", "a/b") == url


def test_an_endpoint_oss2_cannot_use_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="endpoint"):
        OssProvider().open(
            resolved("oss://bkt-1?region=oss-cn-hangzhou&endpoint=http://127.0.0.1:9/some/path")
        )


def test_the_entry_point_serves_the_oss_scheme() -> None:
    manager = ProviderManager()
    manager.load_entry_points()
    provider = manager.for_scheme("oss")
    assert type(provider).__name__ == "OssProvider" and (provider.storage_type, provider.vendor) == (2, 1)
    assert provider.thread_safe_sessions is False and "checksum:crc64ecma" in provider.capabilities.names()


# -- StorageConfig --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "code"), [("oss-cn-shenzhen", 7), ("cn-hangzhou", 0), ("ap-southeast-6", 23)]
)
def test_storage_config_is_the_spec_shape(region: str, code: int) -> None:
    t = resolved(f"oss://snaps-bkt/rooms?region={region}", ("LTAIRTCWRITER", "rtc-writer-secret-00"))
    wire = OssProvider().storage_config(t).to_wire(mask_secrets=False)
    assert wire == {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 1,
            "Region": code,
            "Bucket": "snaps-bkt",
            "AccessKey": "LTAIRTCWRITER",
            "SecretKey": "rtc-writer-secret-00",
        },
    }


def test_a_region_rtc_does_not_support_opens_sessions_but_makes_no_storage_config() -> None:
    t = resolved("oss://old-bkt?region=oss-ap-southeast-3")  # code 16: not supported (spec §9 #4)
    with OssProvider().open(t) as s:
        assert s.region.code == 16
    with pytest.raises(RtcSnapError, match="16"):
        OssProvider().storage_config(t)


def test_target_round_trips_from_a_storage_config() -> None:
    provider = OssProvider()
    back = provider.target_for(provider.storage_config(resolved("oss://bkt-1?region=cn-qingdao")))
    assert (back.bucket, back.region) == ("bkt-1", "oss-cn-qingdao")
    assert back.credentials is not None and back.credentials.access_key == "LTAIEXAMPLE"


def test_storage_config_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"OSS_ACCESS_KEY_ID": "LTAICLIKEY", "OSS_ACCESS_KEY_SECRET": "cli-secret-value-0000"}
    r = run_cli("storage-config", "oss://snaps-bkt?region=oss-cn-beijing", env=env)
    assert r.returncode == 0, r.stderr
    custom = json.loads(r.stdout)["CustomConfig"]
    assert (custom["Vendor"], custom["Region"], custom["Bucket"]) == (1, 3, "snaps-bkt")
    assert custom["SecretKey"] == "******", "masked unless --show-secrets"
    bad = run_cli("storage-config", "oss://snaps-bkt?region=oss-mars-1", env=env)
    assert bad.returncode == 2 and "oss-mars-1" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


# -- credentials ----------------------------------------------------------------------------------


def test_credentials_explicit_then_the_oss_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "oss://bkt-1?region=oss-cn-hangzhou"
    assert resolved(url, None).credentials is None
    monkeypatch.setenv("OSS_ACCESS_KEY_ID", "LTAIFROMENV")
    monkeypatch.setenv("OSS_ACCESS_KEY_SECRET", "secret-from-env-00000")
    creds = resolved(url, None).credentials
    assert creds is not None and (creds.access_key, creds.source) == ("LTAIFROMENV", "env:OSS_ACCESS_KEY_ID")
    explicit = resolved(url, ("LTAIEXPLICIT", "explicit-secret-0000")).credentials
    assert explicit is not None and explicit.access_key == "LTAIEXPLICIT"
    with pytest.raises(ConfigurationError, match="OSS_ACCESS_KEY_ID"):
        monkeypatch.delenv("OSS_ACCESS_KEY_ID")
        OssProvider().open(resolved(url, None))


def test_an_sts_token_signs_through_stsauth(
    oss_server: LocalOSSServer, monkeypatch: pytest.MonkeyPatch, sig: str
) -> None:
    server = oss_server
    bucket = server.create_bucket(new_bucket_name("oss"))
    monkeypatch.setenv("OSS_ACCESS_KEY_ID", server.admin.access_key)
    monkeypatch.setenv("OSS_ACCESS_KEY_SECRET", server.admin.secret_key)
    monkeypatch.setenv("OSS_SESSION_TOKEN", "sts-token-for-test-000")
    t = OssProvider().resolve(oss_target(server, bucket, None, signature=sig))
    with OssProvider().open(t) as s:
        assert isinstance(s.bucket.auth, oss2.StsAuth) and s.bucket.auth.auth_version() == sig
        s.put("snaps/sts.jpg", b"via sts")
        assert s.get("snaps/sts.jpg").read() == b"via sts"
    with pytest.raises(ConfigurationError, match="STS session token"):
        OssProvider().storage_config(t)


@pytest.fixture(params=["v4", "v1"])
def sig(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- verify: the write-only key, wrong regions, the network -----------------------------------------


def test_write_only_key_is_fit_for_rtc_only(oss_server: LocalOSSServer, sig: str) -> None:
    server = oss_server
    bucket = server.create_bucket(new_bucket_name("oss"))
    report = verify(oss_target(server, bucket, server.key(["Write"]).credentials, signature=sig), retry=FAST)
    assert report.fit_for_rtc and not report.fit_for_retrieval
    rows = {p.capability: (p.status, p.reason) for p in report.probes}
    assert rows["reachable"] == ("failed", Reason.PERMISSION_DENIED)  # GetBucketInfo needs more than Write
    assert rows["write"] == ("ok", None) and rows["read"] == ("failed", Reason.PERMISSION_DENIED)


def test_a_wrong_region_is_wrong_region_with_v4_and_with_v1(oss_server: LocalOSSServer) -> None:
    """V4: the service refuses a scope of another region (LocalOSSServer.WRONG_ENDPOINT). V1 signs
    no region: GetBucketInfo's Location, compared by head_bucket, still says it."""
    server = oss_server
    bucket = server.create_bucket(new_bucket_name("oss"))
    for sig in ("v4", "v1"):
        t = oss_target(server, bucket, server.admin_credentials, region="oss-cn-shanghai", signature=sig)
        report = verify(t, retry=FAST)
        assert report.reason == Reason.WRONG_REGION, (sig, report.probes)
        assert not report.fit_for_rtc
    with OssProvider().open(OssProvider().resolve(t)) as s, pytest.raises(StorageError) as err:
        s.head_bucket()
    assert "oss-cn-hangzhou" in err.value.message and "oss-cn-shanghai" in err.value.message


def test_an_unreachable_endpoint_is_network() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the probe: nothing listens there
    url = f"oss://bkt-1?region=oss-cn-hangzhou&endpoint=http://127.0.0.1:{port}"
    report = verify(resolved(url), retry=FAST)
    assert report.reason == Reason.NETWORK
    assert f"127.0.0.1:{port}" in report.probe("reachable").detail


# -- retries are core's ------------------------------------------------------------------------------


def test_every_primitive_sends_one_request_per_attempt(oss_server: LocalOSSServer) -> None:
    """oss2's `Bucket` calls never retry (only its iterators do): with one core attempt, a 503 or
    a reset costs one request, for every primitive the provider uses."""
    server = oss_server
    t = OssProvider().resolve(
        oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    )
    with OssProvider().open(t) as s:
        s.put("snaps/one.jpg", b"1")
        calls: list[tuple[str, str, Any]] = [
            ("GET", "", s.head_bucket),
            ("PUT", "two.jpg", lambda: s.put("snaps/two.jpg", b"2")),
            ("GET", "", lambda: s.list_page("snaps/", None, 10)),
            ("HEAD", "one.jpg", lambda: s.stat("snaps/one.jpg")),
            ("GET", "one.jpg", lambda: s.get("snaps/one.jpg").read()),
            ("DELETE", "one.jpg", lambda: s.delete("snaps/one.jpg")),
        ]
        for method, key, call in calls:
            for inject, reason in (
                (server.faults.fail, Reason.THROTTLED),
                (server.faults.reset, Reason.NETWORK),
            ):
                server.faults.clear()
                inject(method, key)
                with pytest.raises(StorageError) as err:
                    call()
                assert err.value.reason == reason, (method, key)
                assert server.faults.count(method, key) == 1, (method, key, inject.__name__)


def test_a_page_larger_than_oss_allows_is_asked_as_1000(oss_server: LocalOSSServer) -> None:
    server = oss_server
    t = OssProvider().resolve(
        oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    )
    with OssProvider().open(t) as s:
        s.put("snaps/a", b"a")
        assert [o.key for o in s.list_page("snaps/", None, 5000).items] == ["snaps/a"]


def test_no_process_global_sdk_state_is_touched(oss_server: LocalOSSServer) -> None:
    before = {k: getattr(oss2.defaults, k) for k in dir(oss2.defaults) if not k.startswith("_")}
    server = oss_server
    t = OssProvider().resolve(
        oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    )
    with OssProvider().open(t) as a, OssProvider().open(t) as b:
        assert a.bucket.session is not b.bucket.session
        assert a.bucket.session.session is not b.bucket.session.session, "a connection pool per session"
        a.put("snaps/x", b"x")
        assert b.get("snaps/x").read() == b"x"
    assert {k: getattr(oss2.defaults, k) for k in before} == before


# -- checksums -----------------------------------------------------------------------------------


def test_downloads_are_crc64_verified_and_resumable(oss_server: LocalOSSServer, tmp_path: Path) -> None:
    server = oss_server
    t = oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    client = server.bucket(t.bucket)
    for i in range(5):
        client.put_object(f"snaps/{i}.jpg", bytes([i]) * 3000)
    used: set[str | None] = set()
    report = download(
        t, tmp_path, retry=FAST, progress=lambda ev: used.add(ev.checksum) if ev.kind == "done" else None
    )
    assert report.ok and len(report.downloaded) == 5 and report.unverified == [] and used == {"crc64ecma"}
    again = download(t, tmp_path, retry=FAST)
    assert again.downloaded == [] and len(again.skipped) == 5


def test_what_a_get_says_about_checksums(oss_server: LocalOSSServer) -> None:
    server = oss_server
    t = OssProvider().resolve(
        oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    )
    with OssProvider().open(t) as s:
        put = s.put("snaps/n.jpg", b"normal")
        info = s.stat("snaps/n.jpg")
        assert dict(info.checksums) == {
            "crc64ecma": put.checksums["crc64ecma"],
            "md5": (put.etag or "").lower(),
        }
        assert s.checksum(info) == Checksum("crc64ecma", put.checksums["crc64ecma"])
        md5_only = ObjectInfo("k", 6, info.etag, checksums={"md5": info.checksums["md5"]})
        assert s.checksum(md5_only) == Checksum("md5", info.checksums["md5"])
        appendable = ObjectInfo("k", 6, "0123456789ABCDEF0123456789ABCDEF")  # 32 hex, but no MD5
        assert s.checksum(appendable) is None


def test_a_multipart_objects_etag_is_not_offered_as_md5(oss_server: LocalOSSServer) -> None:
    server = oss_server
    t = OssProvider().resolve(
        oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    )
    raw = server.bucket(t.bucket)
    upload = raw.init_multipart_upload("snaps/multi.bin").upload_id
    part = raw.upload_part("snaps/multi.bin", upload, 1, b"m" * 1000)
    raw.complete_multipart_upload("snaps/multi.bin", upload, [oss2.models.PartInfo(1, part.etag)])
    with OssProvider().open(t) as s:
        info = s.stat("snaps/multi.bin")
        assert "-" in (info.etag or "") and set(info.checksums) == {"crc64ecma"}
        [listed] = s.list_page("snaps/multi", None, 10).items
        assert "md5" not in listed.checksums


def test_a_put_the_service_stored_differently_is_refused(
    oss_server: LocalOSSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the SDK's CRC off the provider compares the CRC64 the service reports for a PUT."""
    server = oss_server
    t = OssProvider().resolve(
        oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    )
    with OssProvider().open(t) as s:
        assert s.put("snaps/ok.jpg", b"o" * 3000).checksums["crc64ecma"]
        real = s.bucket.put_object

        def stored_otherwise(*args: Any, **kw: Any) -> Any:
            result = real(*args, **kw)
            result.crc = 12345  # what a server that received other bytes would say
            return result

        monkeypatch.setattr(s.bucket, "put_object", stored_otherwise)
        with pytest.raises(StorageError) as err:
            s.put("snaps/bad.jpg", b"b" * 3000)
    assert err.value.reason == Reason.CHECKSUM_MISMATCH and err.value.retryable


def test_a_flipped_byte_is_a_checksum_mismatch(oss_server: LocalOSSServer, tmp_path: Path) -> None:
    server = oss_server
    t = oss_target(server, server.create_bucket(new_bucket_name("oss")), server.admin_credentials)
    server.bucket(t.bucket).put_object("snaps/x.jpg", b"x" * 5000)
    server.faults.corrupt("snaps/x.jpg", times=None)
    report = download(t, tmp_path, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [("snaps/x.jpg", Reason.CHECKSUM_MISMATCH)]
    assert not (tmp_path / "x.jpg").exists()


# -- error translation -------------------------------------------------------------------------------


def _server_error(status: int, code: str, message: str, **details: str) -> oe.ServerError:
    return oe.ServerError(
        status, {"x-oss-request-id": "RID1"}, b"", {"Code": code, "Message": message, **details}
    )


@pytest.mark.parametrize(
    ("exc", "operation", "reason"),
    [
        (_server_error(403, "SignatureDoesNotMatch", "no"), "get", Reason.BAD_SECRET),
        (_server_error(403, "InvalidAccessKeyId", "no"), "get", Reason.UNKNOWN_ACCESS_KEY),
        (_server_error(403, "SecurityTokenExpired", "old"), "put", Reason.UNKNOWN_ACCESS_KEY),
        (_server_error(403, "AccessDenied", "You have no right"), "get", Reason.PERMISSION_DENIED),
        (_server_error(403, "AccessDenied", "… must be addressed using the specified endpoint …"), "get", Reason.WRONG_REGION),
        (_server_error(403, "PermanentRedirect", "… must be addressed using the specified endpoint …"), "get", Reason.WRONG_REGION),
        (_server_error(400, "PublicEndpointForbidden", "public endpoint"), "put", Reason.WRONG_REGION),
        (_server_error(404, "NoSuchBucket", "gone"), "get", Reason.BUCKET_MISSING),
        (_server_error(404, "", ""), "head_bucket", Reason.BUCKET_MISSING),
        (_server_error(404, "", ""), "stat", Reason.NOT_FOUND),
        (_server_error(503, "ServiceUnavailable", "busy"), "get", Reason.TRANSIENT),
        (oe.InconsistentError("crc", "RID2"), "get", Reason.CHECKSUM_MISMATCH),
        (oe.RequestError(ConnectionError("refused")), "get", Reason.NETWORK),
        (oe.ClientError("The bucket_name is invalid"), "get", Reason.OTHER),
    ],
)  # fmt: skip
def test_translation(exc: BaseException, operation: str, reason: Reason) -> None:
    err = translate(exc, operation, "oss://bkt-1/k", "http://127.0.0.1:1")
    assert err.reason == reason and err.provider == "oss" and err.operation == operation
    assert err.message.startswith("oss://bkt-1/k: ")


def test_translation_keeps_code_status_request_id_and_hints() -> None:
    wrong = translate(
        _server_error(
            403,
            "AccessDenied",
            "must be addressed using the specified endpoint",
            Endpoint="oss-cn-x.aliyuncs.com",
        ),
        "get",
        "oss://b/k",
        "e",
    )
    assert (wrong.code, wrong.status, wrong.request_id) == ("AccessDenied", 403, "RID1")
    assert "oss-cn-x.aliyuncs.com" in wrong.message
    public = translate(_server_error(400, "PublicEndpointForbidden", "no"), "put", "oss://b/k", "e")
    assert "addressing=cname" in public.message
    network = translate(oe.RequestError(ConnectionError("refused")), "get", "oss://b/k", "http://127.0.0.1:1")
    assert "http://127.0.0.1:1" in network.message
