"""rtcsnap-cos beyond the contract suite: target rules, StorageConfig, credentials, the SDK's
retries and shared state, error shapes, endpoints."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosClientError, CosServiceError
from rtcsnap import Reason, StorageError
from rtcsnap.errors import ChecksumMismatchError, ConfigurationError
from rtcsnap.regions import load_table
from rtcsnap.storage import verify
from rtcsnap.target import StorageTarget
from rtcsnap.testing import cosserver
from rtcsnap.testing.contract import FAST
from rtcsnap.testing.cosserver import LocalCOSServer
from rtcsnap_cos import CosProvider, CosSession
from rtcsnap_cos.errors import service_fields

from tests.conftest import run_cli
from tests.cos.conftest import cos_bucket_name, cos_target

ENV = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENV, "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def session_for(target: StorageTarget) -> CosSession:
    provider = CosProvider()
    return provider.open(provider.resolve(target))


@pytest.fixture
def session(cos_server: LocalCOSServer, cos_bucket: str) -> Iterator[CosSession]:
    with session_for(cos_target(cos_server, cos_bucket, cos_server.admin_credentials)) as s:
        yield s


def failure(call: Any) -> StorageError:
    with pytest.raises(StorageError) as err:
        call()
    return err.value


# -- the target, before any request ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field", "says"),
    [
        ("cos://snapshots?region=ap-guangzhou", "bucket", "NAME-APPID"),
        ("cos://Snaps-1250000000?region=ap-guangzhou", "bucket", "NAME-APPID"),
        ("cos://-snaps-1250000000?region=ap-guangzhou", "bucket", "not first or last"),
        ("cos://snaps--1250000000?region=ap-guangzhou", "bucket", "NAME-APPID"),
        ("cos://snaps_x-1250000000?region=ap-guangzhou", "bucket", "a-z, 0-9 and '-'"),
        (f"cos://{'a' * 20}-1250000000?region=ap-guangzhou", "bucket", "at most 30 characters"),
        ("cos://snaps-1250000000", "region", "ap-beijing, ap-nanjing"),
        ("cos://snaps-1250000000?region=us-east-1", "region", "valid: ap-beijing"),
        ("cos://snaps-1250000000?region=0", "region", "valid codes: 1-10"),
        ("cos://snaps-1250000000?region=ap-guangzhou&endpoint=http://h.example/x", "endpoint", "path"),
        ("cos://snaps-1250000000?region=ap-guangzhou&acl=private", "acl", "not understood"),
    ],
)
def test_bad_targets_are_refused_naming_the_field_and_rule(
    cos_server: LocalCOSServer, url: str, field: str, says: str
) -> None:
    if "endpoint=" not in url:  # aimed at the live server: nothing may reach it
        url += ("&" if "?" in url else "?") + f"endpoint={cos_server.endpoint}"
    t = StorageTarget.parse(url, access_key="AKID1", secret_key="secret-0000000000")
    before = cos_server.faults.count()
    with pytest.raises(ConfigurationError) as err:
        verify(t, retry=FAST)
    assert field in str(err.value) and says in str(err.value), str(err.value)
    assert cos_server.faults.count() == before, "refused before any request"


def test_the_longest_bucket_name_a_region_allows_is_accepted() -> None:
    """The 60-character domain rule of COS's naming conventions, exactly at the limit."""
    bucket = f"{'a' * 19}-1250000000"  # + .cos.ap-guangzhou.myqcloud.com = 60
    t = CosProvider().resolve(StorageTarget.parse(f"cos://{bucket}?region=ap-guangzhou"))
    assert t.bucket == bucket
    assert CosProvider().resolve(StorageTarget.parse(f"cos://{'a' * 21}-1250000000?region=ap-beijing")).bucket


# -- StorageConfig ----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", load_table("cos").entries, ids=lambda e: e.region)
def test_storage_config_is_the_spec_shape_for_every_region(entry: Any) -> None:
    provider = CosProvider()
    t = StorageTarget.parse(
        f"cos://snaps-1250000000/rooms?region={entry.region}",
        access_key="AKIDRTC",
        secret_key="rtc-secret-00000",
    )
    wire = provider.storage_config(provider.resolve(t)).to_wire()
    assert wire == {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 3,
            "Region": entry.code,
            "Bucket": "snaps-1250000000",
            "AccessKey": "AKIDRTC",
            "SecretKey": "rtc-secret-00000",
        },
    }
    assert 0 not in {e.code for e in load_table("cos").entries}, "COS has no Region 0"


def test_storage_config_refuses_a_session_token() -> None:
    provider = CosProvider()
    t = StorageTarget.parse("cos://snaps-1250000000?region=ap-shanghai", access_key="AKID", secret_key="s" * 16,
                            session_token="sts-token-000000")  # fmt: skip
    with pytest.raises(ConfigurationError, match="session token"):
        provider.storage_config(provider.resolve(t))


def test_storage_config_cli_is_the_spec_shape() -> None:
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDCLI", "TENCENTCLOUD_SECRET_KEY": "cli-secret-000000000"}
    r = run_cli("storage-config", "cos://snaps-1250000000/rooms?region=ap-hongkong", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "Type": 2,
        "CustomConfig": {"Vendor": 3, "Region": 10, "Bucket": "snaps-1250000000", "AccessKey": "******",
                         "SecretKey": "******"},
    }  # fmt: skip
    bad = run_cli("storage-config", "cos://snapshots?region=ap-hongkong", env=env)
    assert bad.returncode == 2 and "NAME-APPID" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_target_round_trips_from_a_storage_config() -> None:
    provider = CosProvider()
    t = provider.resolve(
        StorageTarget.parse(
            "cos://snaps-1250000000?region=ap-chengdu", access_key="AKID", secret_key="s" * 16
        )
    )
    back = provider.target_for(provider.storage_config(t))
    assert (back.bucket, back.region) == ("snaps-1250000000", "ap-chengdu")


# -- credentials --------------------------------------------------------------------------------------


def test_credentials_from_the_tencentcloud_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    t = StorageTarget.parse("cos://snaps-1250000000?region=ap-beijing")
    assert CosProvider().resolve(t).credentials is None
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDENV")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "secret-from-env-0000")
    monkeypatch.setenv("TENCENTCLOUD_SESSION_TOKEN", "token-from-env-0000")
    creds = CosProvider().resolve(t).credentials
    assert creds is not None and (creds.access_key, creds.source) == ("AKIDENV", "env:TENCENTCLOUD_SECRET_ID")
    assert creds.session_token is not None and creds.session_token.get_secret_value() == "token-from-env-0000"
    explicit = StorageTarget.parse(
        "cos://snaps-1250000000?region=ap-beijing", access_key="AKIDX", secret_key="x" * 16
    )
    assert CosProvider().resolve(explicit).credentials.access_key == "AKIDX"  # type: ignore[union-attr]


def test_no_credentials_says_where_to_put_them() -> None:
    t = CosProvider().resolve(StorageTarget.parse("cos://snaps-1250000000?region=ap-beijing"))
    with pytest.raises(ConfigurationError, match="TENCENTCLOUD_SECRET_ID"):
        CosProvider().open(t)


def test_a_session_token_reaches_the_server_signed(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    ak, sk = cos_server.admin_credentials
    url = cos_target(cos_server, cos_bucket, (ak, sk)).url
    t = StorageTarget.parse(url, access_key=ak, secret_key=sk, session_token="sts-token-0000000000")
    with session_for(t) as s:
        assert s.client.get_conf()._token == "sts-token-0000000000"
        s.put("snaps/t.jpg", b"token")  # the server checks x-cos-security-token is signed
        assert s.get("snaps/t.jpg").read() == b"token"


# -- the SDK's retries and shared state -------------------------------------------------------------


def test_sdk_retries_are_off(cos_server: LocalCOSServer, session: CosSession) -> None:
    session.put("snaps/r.jpg", b"r")
    cos_server.faults.fail("GET", "snaps/r.jpg", status=503, times=1)
    assert failure(lambda: session.get("snaps/r.jpg")).reason == Reason.THROTTLED
    assert cos_server.faults.count("GET", "snaps/r.jpg") == 1, "the SDK sent it once (retry=0)"
    cos_server.faults.reset("PUT", "snaps/cut.jpg")
    assert failure(lambda: session.put("snaps/cut.jpg", b"c")).reason == Reason.NETWORK
    assert cos_server.faults.count("PUT", "snaps/cut.jpg") == 1, "nor urllib3 (max_retries=0)"


def test_sessions_share_no_sdk_connection_pool(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    """CosS3Client's default is one class-level requests.Session for every client in the process."""
    t = cos_target(cos_server, cos_bucket, cos_server.admin_credentials)
    built_in = CosS3Client._CosS3Client__built_in_sessions
    with session_for(t) as a, session_for(t) as b:
        assert a.client._session is a.http and b.client._session is b.http and a.http is not b.http
        assert built_in is None or a.http is not built_in
        a.put("snaps/a.jpg", b"a")
        a.close()
        assert b.get("snaps/a.jpg").read() == b"a", "closing one session leaves the other working"


# -- errors, in every shape the SDK leaves them -------------------------------------------------------


def test_head_404s_are_told_apart_by_operation(cos_server: LocalCOSServer, session: CosSession) -> None:
    """The SDK turns every HEAD 404 into its own NoSuchResource: bucket or object is the call's."""
    assert failure(lambda: session.stat("snaps/none.jpg")).reason == Reason.NOT_FOUND
    gone = cos_target(cos_server, cos_bucket_name(), cos_server.admin_credentials)
    with session_for(gone) as s:
        err = failure(s.head_bucket)
    assert err.reason == Reason.BUCKET_MISSING and "in region ap-guangzhou" in err.message


def test_a_code_header_error_keeps_the_message_not_the_xml(session: CosSession) -> None:
    """With x-cos-error-code the SDK's message is the whole XML body; the provider reads it."""
    err = failure(lambda: session.get("snaps/none.jpg"))
    assert (err.reason, err.code, err.status) == (Reason.NOT_FOUND, "NoSuchKey", 404)
    assert "<Error>" not in err.message and "does not exist" in err.message and err.request_id


def test_a_body_only_error_is_read_from_the_xml(
    cos_server: LocalCOSServer, cos_bucket: str, session: CosSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the code header the SDK parses the XML body (Resource and all), or for a HEAD
    has nothing but the status."""
    monkeypatch.setattr(cosserver, "CODE_HEADERS_ON_EVERY_ERROR", False)
    err = failure(lambda: session.get("snaps/none.jpg"))
    assert (err.reason, err.code) == (Reason.NOT_FOUND, "NoSuchKey") and err.request_id
    assert "does not exist" in err.message
    bad = cos_target(cos_server, cos_bucket, (cos_server.admin.access_key, "wrong-secret-000000"))
    with session_for(bad) as s:
        denied = failure(s.head_bucket)
        wrong = failure(lambda: s.get("snaps/none.jpg"))
    assert (denied.reason, denied.status, denied.code) == (Reason.PERMISSION_DENIED, 403, None), (
        "a bare HEAD 403"
    )
    assert (wrong.reason, wrong.code) == (Reason.BAD_SECRET, "SignatureDoesNotMatch")


def test_service_fields_survive_a_headers_only_digest() -> None:
    """A HEAD error without x-cos-error-code: the SDK keeps the response headers as its digest
    and reports code and request id as "Unknown", though the request id is in a header."""
    exc = CosServiceError("HEAD", requests.structures.CaseInsensitiveDict({"x-cos-request-id": "RID1"}), 403)
    assert (exc.get_error_code(), exc.get_request_id()) == ("Unknown", "Unknown")
    assert service_fields(exc) == (None, "", "RID1")


def test_a_redirect_is_wrong_region_not_an_empty_listing(
    cos_server: LocalCOSServer, session: CosSession
) -> None:
    """The SDK takes any status below 400 as success; a 301 page would parse as an empty list."""
    cos_server.faults.fail("GET", "", status=301, times=1, code="PermanentRedirect")
    err = failure(lambda: session.list_page("snaps/", None, 10))
    assert err.reason == Reason.WRONG_REGION and "301" in err.message


def test_a_truncated_listing_without_next_marker_is_an_error(
    cos_server: LocalCOSServer, session: CosSession
) -> None:
    for i in range(3):
        session.put(f"snaps/{i}.jpg", b"x")
    cos_server.faults.drop_next_token()
    err = failure(lambda: session.list_page("snaps/", None, 2))
    assert err.reason == Reason.OTHER and "NextMarker" in err.message


def test_a_key_the_sdk_refuses_is_not_a_network_error(session: CosSession) -> None:
    err = failure(lambda: session.get("a/.."))  # the SDK's own path check: it would GET the bucket
    assert err.reason == Reason.OTHER and "invalid" in err.message.lower()


def test_an_unreachable_endpoint_is_network(cos_bucket: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        t = StorageTarget.parse(f"cos://{cos_bucket}?region=ap-guangzhou&endpoint=http://127.0.0.1:{port}",
                                access_key="AKID", secret_key="s" * 16)  # fmt: skip
        report = verify(t, retry=FAST)
    assert report.reason == Reason.NETWORK
    assert f"127.0.0.1:{port}" in report.probe("reachable").detail


def test_a_put_the_service_stored_differently_is_refused(
    session: CosSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = session.put("snaps/ok.jpg", b"o" * 3000)
    assert info.checksums["crc64ecma"], "the real server's CRC64 matched what was sent"
    real = session.client.put_object

    def stored_otherwise(**kw: Any) -> dict[str, str]:
        return {**real(**kw), "x-cos-hash-crc64ecma": "12345"}

    monkeypatch.setattr(session.client, "put_object", stored_otherwise)
    with pytest.raises(ChecksumMismatchError) as err:
        session.put("snaps/bad.jpg", b"b" * 3000)
    assert err.value.reason == Reason.CHECKSUM_MISMATCH and err.value.retryable


def test_get_streams_in_chunks_with_the_stored_crc(session: CosSession) -> None:
    body = bytes(range(256)) * 4000  # 1 MB: four 256 KiB chunks
    put = session.put("snaps/big.jpg", body)
    with session.get("snaps/big.jpg") as stream:
        chunks = list(stream)
        assert stream.info.checksums == put.checksums and stream.info.size == len(body)
        assert stream.info.last_modified is not None and stream.info.etag == put.etag
    assert len(chunks) == 4 and b"".join(chunks) == body
    assert session.stat("snaps/big.jpg").checksums == put.checksums


# -- verify -----------------------------------------------------------------------------------------


def test_write_only_key_is_fit_for_rtc_only(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    writer = cos_server.key(["Write"])
    report = verify(cos_target(cos_server, cos_bucket, writer.credentials), retry=FAST)
    assert report.fit_for_rtc and not report.fit_for_retrieval
    assert {p.capability: p.status for p in report.probes}["write"] == "ok"


def test_verify_in_another_region_says_bucket_missing_there(
    cos_server: LocalCOSServer, cos_bucket: str
) -> None:
    """COS addresses a bucket by region: asked in ap-beijing, an ap-guangzhou bucket is not there."""
    t = cos_target(cos_server, cos_bucket, cos_server.admin_credentials, region="ap-beijing")
    report = verify(t, retry=FAST)
    assert report.reason == Reason.BUCKET_MISSING
    assert "in region ap-beijing" in report.probe("reachable").detail


def test_verify_says_throttled(cos_server: LocalCOSServer, cos_bucket: str) -> None:
    cos_server.faults.fail("*", cos_bucket, status=503, times=None, code="SlowDown")
    report = verify(cos_target(cos_server, cos_bucket, cos_server.admin_credentials), retry=FAST)
    assert report.reason == Reason.THROTTLED


# -- endpoints ---------------------------------------------------------------------------------------


def test_a_hostname_endpoint_puts_the_bucket_in_front(
    cos_server: LocalCOSServer, cos_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COS-compatible domain: requests go to ``<bucket>.<host>`` — here through the server as
    an HTTP proxy (requests honours http_proxy), since the domain cannot resolve."""
    monkeypatch.setenv("http_proxy", cos_server.endpoint)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    t = cos_target(cos_server, cos_bucket, cos_server.admin_credentials)
    for endpoint in (
        f"http://{cos_server.virtual_domain}",
        f"http://{cos_bucket}.{cos_server.virtual_domain}",
    ):
        with session_for(t.replace(endpoint=endpoint)) as s:
            s.put("snaps/h.jpg", endpoint.encode())
            assert s.get("snaps/h.jpg").read() == endpoint.encode()
            assert [o.key for o in s.list_page("snaps/", None, 10).items] == ["snaps/h.jpg"]
    assert cos_server.faults.count("PUT", f"/{cos_bucket}/snaps/h.jpg") == 2


def test_without_an_endpoint_the_real_service_is_addressed() -> None:
    t = StorageTarget.parse(
        "cos://snaps-1250000000?region=ap-nanjing", access_key="AKID", secret_key="s" * 16
    )
    with session_for(t) as s:
        assert s.client.get_conf().uri(bucket=s.bucket, path="k") == (
            "https://snaps-1250000000.cos.ap-nanjing.myqcloud.com/k"
        )


def test_secrets_with_surrounding_spaces_are_a_configuration_error() -> None:
    t = StorageTarget.parse(
        "cos://snaps-1250000000?region=ap-nanjing", access_key="AKID", secret_key=" spaced-secret "
    )
    with pytest.raises(ConfigurationError, match="spaces") as err:
        session_for(t)
    assert "spaced-secret" not in str(err.value)


def test_sdk_client_errors_without_network_cause_are_other() -> None:
    provider = CosProvider()
    t = provider.resolve(StorageTarget.parse("cos://snaps-1250000000?region=ap-nanjing", access_key="A",
                                             secret_key="s" * 16))  # fmt: skip
    with provider.open(t) as s:
        assert s.translate(CosClientError("bucket format is illegal"), "get", "k").reason == Reason.OTHER
        try:
            raise requests.ConnectionError("refused")
        except requests.ConnectionError:
            try:
                raise CosClientError("refused")
            except CosClientError as exc:
                assert s.translate(exc, "get", "k").reason == Reason.NETWORK
