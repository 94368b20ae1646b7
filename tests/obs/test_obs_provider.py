"""rtcsnap-obs beyond the contract suite: target rules, the StartSnapshot payload, credentials,
the SDK's own retries/redirects/negotiation switched off, TLS, listing dates, the pooled
connection after an unread body, and the write-only key RTC gets."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import obs
import pluggy
import pytest
import rtcsnap_obs
from obs.model import DateTime
from rtcsnap import checksums, hookspecs
from rtcsnap.errors import ConfigurationError, Reason, StorageError, ValidationError
from rtcsnap.providers.manager import GROUP, ProviderManager
from rtcsnap.storage import verify
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import FAST
from rtcsnap.testing.obsserver import LocalOBSServer
from rtcsnap.testing.wsgiserver import InProcessServer
from rtcsnap_obs import ObsProvider, ObsSession, rtcsnap_register_providers
from rtcsnap_obs.sdkdates import listed_date

from tests.conftest import run_cli
from tests.obs.conftest import MODES, target_for

PROVIDER = ObsProvider()
SPEC_REGIONS = [  # spec §3.4.5: CustomConfig.Region for Vendor 2
    ("cn-north-4", 1),
    ("cn-north-9", 3),
    ("cn-east-3", 5),
    ("cn-south-1", 6),
    ("cn-southwest-2", 11),
    ("ap-southeast-1", 14),
]


def session(t: StorageTarget) -> ObsSession:
    return PROVIDER.open(PROVIDER.resolve(t))


def error(call: Any) -> StorageError:
    with pytest.raises(StorageError) as err:
        call()
    return err.value


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def admin_target(obs_server: LocalOBSServer, bucket: str, mode: str) -> StorageTarget:
    return target_for(obs_server, bucket, obs_server.admin_credentials, mode)


# -- registration ---------------------------------------------------------------------------------


def test_metadata() -> None:
    p = ObsProvider()
    assert (p.name, p.scheme, p.storage_type, p.vendor, p.region_table) == ("obs", "obs", 2, 2, "obs")
    assert p.capabilities.checksums == ("crc64ecma", "md5")
    assert set(p.capabilities.checksums) <= set(checksums.known()), "core can run every one it names"
    assert (p.capabilities.list, p.capabilities.delete, p.capabilities.upload) == (True, True, True)
    assert set(p.options) == {"signature", "proxy"} and p.description
    assert p.credential_env == ("OBS_ACCESS_KEY_ID", "OBS_SECRET_ACCESS_KEY")
    assert p.session_token_env == "OBS_SECURITY_TOKEN"
    assert p.thread_safe_sessions is False


def test_registered_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("RTCSNAP_LOAD_PLUGINS", "RTCSNAP_DISABLE_PLUGINS", "RTCSNAP_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    collected: list[type[Any]] = []
    rtcsnap_register_providers(register=collected.append)
    assert collected == [ObsProvider]
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(rtcsnap_obs, name="obs")
    pm.check_pending()
    (ep,) = [
        e for e in metadata.entry_points(group=GROUP) if e.dist is not None and e.dist.name == "rtcsnap-obs"
    ]
    assert (ep.name, ep.value) == ("obs", "rtcsnap_obs")
    only = ProviderManager()
    only.load_entry_points([ep])
    assert only.errors == [] and type(only.for_scheme("obs")) is ObsProvider


# -- target rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("obs://b?region=cn-north-4&signature=v5", ("'signature'", "obs, v4, v2")),
        ("obs://b?region=cn-north-4&endpoint=http://10.0.0.1:9000&signature=obs", ("'signature'", "IP")),
        ("obs://b?endpoint=http://10.0.0.1:9000&signature=v4", ("'signature'", "region")),
        ("obs://b?region=cn-north-4&endpoint=ftp://host", ("'endpoint'", "http(s)")),
        ("obs://b?region=cn-north-4&endpoint=https://host/path", ("'endpoint'", "no path")),
        ("obs://b?region=cn-north-4&endpoint=http://[::1]:9000", ("'endpoint'", "IPv6")),
        ("obs://b?region=cn-north-4&proxy=http://user:pw@proxy:3128", ("'proxy'", "no credentials")),
        ("obs://b?region=cn-north-4&proxy=proxy-without-port", ("'proxy'", "host:port")),
        ("obs://b?region=cn-north-4&addressing=path", ("'addressing'", "not understood")),
        ("obs://b", ("region", "endpoint")),
        ("obs://b?region=eu-west-0", ("'region'", "cn-north-4, cn-north-9, cn-east-3")),
    ],
)
def test_bad_targets_name_the_option_and_the_rule(url: str, names: Iterable[str]) -> None:
    with pytest.raises(ConfigurationError) as err:
        PROVIDER.resolve(StorageTarget.parse(url, access_key="AK", secret_key="SK"))
    for name in names:
        assert name in str(err.value), str(err.value)
    assert len(str(err.value).splitlines()) == 1


def test_a_region_beyond_rtcs_table_is_only_a_signing_region_with_an_endpoint() -> None:
    """An S3-compatible server's own region signs V4; the StartSnapshot payload still refuses it."""
    t = PROVIDER.resolve(
        StorageTarget.parse(
            "obs://b?region=eu-west-0&endpoint=http://10.0.0.1:9000&signature=v4",
            access_key="AK",
            secret_key="SK",
        )
    )
    with session(t) as s:
        assert (s.settings.region, s.settings.signature, s.settings.path_style) == ("eu-west-0", "v4", True)
    with pytest.raises(ValidationError, match="valid: cn-north-4"):
        PROVIDER.storage_config(t)


@pytest.mark.parametrize(
    ("url", "server", "signature", "path_style"),
    [
        ("obs://b?region=cn-east-3", "https://obs.cn-east-3.myhuaweicloud.com", "obs", False),
        ("obs://b?region=5", "https://obs.cn-east-3.myhuaweicloud.com", "obs", False),  # the RTC code
        ("obs://b?region=cn-east-3&signature=v4", "https://obs.cn-east-3.myhuaweicloud.com", "v4", False),
        ("obs://b?endpoint=http://localhost:9000", "http://127.0.0.1:9000", "v2", True),
        ("obs://b?endpoint=http://10.1.2.3", "http://10.1.2.3", "v2", True),
        ("obs://b?endpoint=https://obs.example.com", "https://obs.example.com", "obs", False),
    ],
)
def test_addressing_and_signature_are_decided_explicitly(
    url: str, server: str, signature: str, path_style: bool
) -> None:
    with session(StorageTarget.parse(url, access_key="AK", secret_key="SK")) as s:
        assert (s.settings.server, s.settings.signature, s.settings.path_style) == (
            server,
            signature,
            path_style,
        )
        sdk = s.client
        assert (sdk.signature, sdk.path_style, sdk.is_signature_negotiation) == (signature, path_style, False)
        assert (sdk.max_retry_count, sdk.max_redirect_count) == (0, 0)


def test_localhost_reaches_the_server_path_style(obs_server: LocalOBSServer, bucket: str) -> None:
    """The SDK would send ``BUCKET.localhost`` (virtual-host, unresolvable): rewritten to 127.0.0.1."""
    endpoint = obs_server.endpoint.replace("127.0.0.1", "localhost")
    ak, sk = obs_server.admin_credentials
    t = StorageTarget.parse(
        f"obs://{bucket}?region=cn-north-4&endpoint={endpoint}", access_key=ak, secret_key=sk
    )
    with session(t) as s:
        s.put("lh.jpg", b"localhost")
        assert s.get("lh.jpg").read() == b"localhost"


# -- the StartSnapshot payload ------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "code"), SPEC_REGIONS)
def test_storage_config_is_the_spec_shape(region: str, code: int) -> None:
    t = StorageTarget.parse(
        f"obs://snaps-bkt/rooms?region={region}", access_key="OBSAKCFG", secret_key="sk-cfg-0000"
    )
    wire = PROVIDER.storage_config(PROVIDER.resolve(t)).to_wire()
    assert wire == {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 2, "Region": code, "Bucket": "snaps-bkt", "AccessKey": "OBSAKCFG", "SecretKey": "sk-cfg-0000",
        },
    }  # fmt: skip
    back = PROVIDER.target_for(PROVIDER.storage_config(PROVIDER.resolve(t)))
    assert (back.bucket, back.region, back.credentials.access_key) == ("snaps-bkt", region, "OBSAKCFG")  # type: ignore[union-attr]


def test_storage_config_refuses_a_temporary_key() -> None:
    t = StorageTarget.parse(
        "obs://b?region=cn-north-4", access_key="AK", secret_key="SK", session_token="tok"
    )
    with pytest.raises(ConfigurationError, match="session token"):
        PROVIDER.storage_config(PROVIDER.resolve(t))


def test_storage_config_cli() -> None:
    env = {"OBS_ACCESS_KEY_ID": "OBSAKCLI", "OBS_SECRET_ACCESS_KEY": "sk-cli-000000"}
    r = run_cli(
        "storage-config", "obs://snaps-bkt?region=cn-south-1", "--show-secrets", env=env, shows_secrets=True
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["CustomConfig"] == {
        "Vendor": 2, "Region": 6, "Bucket": "snaps-bkt", "AccessKey": "OBSAKCLI", "SecretKey": "sk-cli-000000",
    }  # fmt: skip
    bad = run_cli("storage-config", "obs://snaps-bkt?region=cn-east-2", env=env)
    assert bad.returncode == 2 and "cn-north-4" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


# -- credentials --------------------------------------------------------------------------------------


def test_credentials_come_from_the_obs_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    t = StorageTarget.parse("obs://b?region=cn-north-4")
    assert PROVIDER.resolve(t).credentials is None
    with pytest.raises(ConfigurationError, match="OBS_ACCESS_KEY_ID/OBS_SECRET_ACCESS_KEY"):
        session(t)
    monkeypatch.setenv("OBS_ACCESS_KEY_ID", "OBSAKENV")
    monkeypatch.setenv("OBS_SECRET_ACCESS_KEY", "secret-from-env-0000")
    monkeypatch.setenv("OBS_SECURITY_TOKEN", "token-from-env-0000")
    creds = PROVIDER.resolve(t).credentials
    assert creds is not None and (creds.access_key, creds.source) == ("OBSAKENV", "env:OBS_ACCESS_KEY_ID")
    assert creds.session_token is not None and creds.session_token.get_secret_value() == "token-from-env-0000"
    explicit = StorageTarget.parse(
        "obs://b?region=cn-north-4", access_key="OBSAKX", secret_key="sk-explicit-0"
    )
    assert PROVIDER.resolve(explicit).credentials.access_key == "OBSAKX"  # type: ignore[union-attr]


def test_the_sdk_reads_no_credentials_of_its_own(
    obs_server: LocalOBSServer, admin_target: StorageTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's provider chain (environment, ECS metadata, OIDC) is never consulted: another
    key in the environment changes nothing, and no metadata host is contacted."""
    for name in ("OBS_ACCESS_KEY_ID", "OBS_SECRET_ACCESS_KEY", "OBS_SECURITY_TOKEN"):
        monkeypatch.setenv(name, "AKLTSOMEONEELSE0000" if name.endswith("ID") else "not-this-one-0000")
    with session(admin_target) as s:
        s.put("snaps/env.jpg", b"e")
        assert s.get("snaps/env.jpg").read() == b"e"


def test_a_session_token_is_sent_and_signed(
    obs_server: LocalOBSServer, bucket: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = target_for(obs_server, bucket, obs_server.admin_credentials, mode)
    t = t.with_credentials(Credentials.of(*obs_server.admin_credentials, "sts-token-0000"))
    with session(t) as s:
        s.put("snaps/t.jpg", b"t")
        send = s.client._send_request
        sent: list[str] = []

        def other_token(
            server: str, method: str, path: str, header: dict[str, str], *a: Any, **kw: Any
        ) -> Any:
            name = next(k for k in header if k.lower().endswith("-security-token"))
            sent.append(header[name])
            return send(server, method, path, {**header, name: "someone-elses-token"}, *a, **kw)

        monkeypatch.setattr(s.client, "_send_request", other_token)
        err = error(lambda: s.put("snaps/t.jpg", b"t"))
    assert sent == ["sts-token-0000"] and err.reason == Reason.BAD_SECRET, (
        "the token is covered by the signature"
    )


# -- the SDK's own retries, redirects and negotiation are off ------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_each_failed_call_is_one_request(
    obs_server: LocalOBSServer, admin_target: StorageTarget, status: int
) -> None:
    s = session(admin_target)
    obs_server.put_object(admin_target.bucket, "snaps/x.jpg", b"x")
    for method, call in (
        ("HEAD", lambda: s.stat("snaps/x.jpg")),
        ("PUT", lambda: s.put("snaps/y.jpg", b"y")),
        ("GET", lambda: s.list_page("snaps/", None, 5)),
        ("GET", lambda: s.get("snaps/x.jpg").close()),
        ("DELETE", lambda: s.delete("snaps/x.jpg")),
        ("HEAD", s.head_bucket),
    ):
        obs_server.faults.clear()
        obs_server.faults.fail(method, "", status=status, times=None, code="InternalError")
        err = error(call)
        assert (err.reason, err.status, err.code) == (Reason.TRANSIENT, status, "InternalError"), method
        assert obs_server.faults.count() == 1, method
    s.close()


def test_without_the_provider_the_sdk_would_have_retried(obs_server: LocalOBSServer, bucket: str) -> None:
    """The same fault against the bare SDK with its defaults: 1 try + 3 retries, with back-off.
    (``max_redirect_count=0`` alone would stop them too: the SDK checks it after every failure.)"""
    obs_server.faults.fail("GET", "x.jpg", status=503, times=None)
    sdk = obs_server.client(max_retry_count=3, max_redirect_count=10)
    assert sdk.getObject(bucket, "x.jpg").status == 503
    assert obs_server.faults.count("GET", "x.jpg") == 4


def test_signature_negotiation_would_add_a_request(obs_server: LocalOBSServer, bucket: str) -> None:
    """With a hostname endpoint the SDK's default asks ``HEAD ?apiversion`` (unsigned) first; the
    session sends exactly the one request each primitive needs."""
    t = target_for(obs_server, bucket, obs_server.admin_credentials, "obs")
    with session(t) as s:
        s.head_bucket()
        assert obs_server.faults.count() == 1
    obs_server.faults.clear()
    sdk = obs_server.client(is_signature_negotiation=True)
    assert sdk.headBucket(bucket).status == 200
    assert obs_server.faults.count("HEAD") == 2, "the negotiation HEAD, then the call"


class _Redirecting(InProcessServer):
    """Answers everything with a 307 to itself (OBS's TemporaryRedirect), counting requests."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.app = self._app

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.seen += 1
        body = b"<Error><Code>TemporaryRedirect</Code><Message>go there</Message></Error>"
        start_response(
            "307 Temporary Redirect",
            [("Location", f"{self.endpoint}/elsewhere"), ("Content-Type", "application/xml"),
             ("Content-Length", str(len(body)))],
        )  # fmt: skip
        return [body]


def test_a_redirect_is_reported_not_followed() -> None:
    with _Redirecting() as server:
        t = StorageTarget.parse(
            f"obs://b?region=cn-north-4&endpoint={server.endpoint}", access_key="AK", secret_key="SK"
        )
        with session(t) as s:
            err = error(lambda: s.list_page("", None, 10))
        assert (err.reason, err.status, err.code) == (Reason.WRONG_REGION, 307, "TemporaryRedirect")
        assert server.seen == 1


# -- failures the SDK lets escape ---------------------------------------------------------------------


def test_a_refused_connection_is_a_network_error_naming_the_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        t = StorageTarget.parse(
            f"obs://b?region=cn-north-4&endpoint=http://127.0.0.1:{port}", access_key="AK", secret_key="SK"
        )
        with session(t) as s:
            err = error(s.head_bucket)
    assert err.reason == Reason.NETWORK and err.retryable and f"127.0.0.1:{port}" in str(err)
    assert "ConnectionRefusedError" in str(err)


def test_a_cut_body_is_retryable_and_the_session_stays_usable(
    obs_server: LocalOBSServer, admin_target: StorageTarget
) -> None:
    obs_server.put_object(admin_target.bucket, "snaps/cut.jpg", b"c" * 300_000)
    with session(admin_target) as s:
        obs_server.faults.truncate("snaps/cut.jpg")
        with s.get("snaps/cut.jpg") as stream:
            err = error(stream.read)
        assert err.retryable, err
        assert s.get("snaps/cut.jpg").read() == b"c" * 300_000


def test_a_body_closed_unread_does_not_poison_the_next_call(
    obs_server: LocalOBSServer, admin_target: StorageTarget
) -> None:
    """The session keeps its connection alive; a GET closed before its end (what `stat`'s default
    and an interrupted download do) must not leave the rest of that body for the next request."""
    obs_server.put_object(admin_target.bucket, "snaps/big.jpg", b"b" * 600_000)
    with session(admin_target) as s:
        stream = s.get("snaps/big.jpg")
        assert len(next(iter(stream))) > 0
        stream.close()
        assert [o.key for o in s.list_page("snaps/", None, 10).items] == ["snaps/big.jpg"]
        assert s.stat("snaps/big.jpg").size == 600_000


def test_a_truncated_listing_without_a_marker_is_an_error(
    obs_server: LocalOBSServer, admin_target: StorageTarget
) -> None:
    for i in range(3):
        obs_server.put_object(admin_target.bucket, f"snaps/{i}.jpg", b"x")
    obs_server.faults.drop_next_token()
    with session(admin_target) as s:
        err = error(lambda: s.list_page("snaps/", None, 2))
    assert err.reason == Reason.OTHER and "NextMarker" in str(err)


def test_only_the_proxy_is_ever_contacted(
    obs_server: LocalOBSServer, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Virtual-host through the proxy: ``BUCKET.obs.cn-north-4.rtcsnap.invalid`` is never resolved."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    t = target_for(obs_server, bucket, obs_server.admin_credentials, "obs")
    report = verify(t, retry=FAST)
    assert report.fit_for_rtc and report.fit_for_retrieval, report.probes
    assert looked_up and set(looked_up) == {"127.0.0.1"}


# -- integrity ----------------------------------------------------------------------------------------


def test_put_sends_its_crc64_and_the_download_is_checked_by_it(
    obs_server: LocalOBSServer, admin_target: StorageTarget
) -> None:
    with session(admin_target) as s:
        info = s.put("snaps/c.jpg", b"crc" * 1000)
        assert info.checksums["crc64ecma"] == checksums_value(b"crc" * 1000)
        with s.get("snaps/c.jpg") as stream:
            assert stream.info.checksums == {"crc64ecma": checksums_value(b"crc" * 1000)}
            assert s.checksum(stream.info) is not None and s.checksum(stream.info).algorithm == "crc64ecma"  # type: ignore[union-attr]


def checksums_value(data: bytes) -> str:
    h = checksums.new_hasher("crc64ecma")
    h.update(data)
    return h.value()


@pytest.mark.parametrize(
    ("field", "value"), [("crc64", "12345"), ("etag", '"0123456789abcdef0123456789abcdef"')]
)
def test_a_put_the_service_stored_differently_is_refused(
    admin_target: StorageTarget, monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    """What the service says it stored (its CRC64, else its MD5 ETag) must be what was sent."""
    with session(admin_target) as s:
        real = s.client.putContent

        def stored_otherwise(*args: Any, **kw: Any) -> Any:
            resp = real(*args, **kw)
            if field == "etag":
                resp.body["crc64"] = (
                    None  # a server that ignored the CRC64 header (the SDK's models are dicts)
                )
            resp.body[field] = value
            return resp

        monkeypatch.setattr(s.client, "putContent", stored_otherwise)
        err = error(lambda: s.put("snaps/bad.jpg", b"b" * 3000))
    assert err.reason == Reason.CHECKSUM_MISMATCH


def test_https_certificates_are_verified(tmp_path: Path) -> None:
    """The SDK's own TLS context accepts any certificate (CERT_NONE, no host name check); the
    session's refuses a self-signed one — and the bare SDK, against the same server, does not."""
    from werkzeug.serving import make_server

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    server = make_server("127.0.0.1", 0, app, ssl_context="adhoc")
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"https://127.0.0.1:{server.port}"
        bare = obs.ObsClient(access_key_id="AK", secret_access_key="SK", server=endpoint, max_retry_count=0)
        assert bare.headBucket("b").status == 200, "the SDK's default trusts anyone"
        t = StorageTarget.parse(
            f"obs://b?region=cn-north-4&endpoint={endpoint}", access_key="AK", secret_key="SK"
        )
        with session(t) as s:
            assert s.client.context.verify_mode == ssl.CERT_REQUIRED and s.client.context.check_hostname
            err = error(s.head_bucket)
        assert err.reason == Reason.NETWORK and "CERTIFICATE_VERIFY_FAILED" in str(err)
    finally:
        server.shutdown()
        thread.join(5)


# -- listing dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"])
def test_listed_dates_undo_the_sdks_local_time(zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`DateTime.UTCToLocal` (the SDK's own conversion) is the oracle: `listed_date` inverts it."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        for stamp in ("2026-01-15T10:20:30.123Z", "2026-07-01T23:59:59.000Z", "2026-03-29T01:30:00.000Z"):
            sdk_view = DateTime.UTCToLocal(stamp)
            got = listed_date(sdk_view)
            assert got is not None and got.isoformat() == stamp[:19] + "+00:00", (zone, stamp, sdk_view)
        raw = listed_date("2026-12-01T10:00:00Z")  # what the SDK leaves untouched (no milliseconds)
        assert raw is not None and raw.isoformat() == "2026-12-01T10:00:00+00:00"
        assert listed_date(None) is None and listed_date("garbage") is None
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_listing_and_get_agree_on_the_time_in_any_zone(obs_server: LocalOBSServer, bucket: str) -> None:
    """End to end in a subprocess with TZ=Asia/Shanghai: the listed time is the object's UTC time."""
    obs_server.put_object(bucket, "snaps/t.jpg", b"t")
    code = (
        "import sys, json; from rtcsnap_obs import ObsProvider; from rtcsnap.target import StorageTarget\n"
        "t = StorageTarget.parse(sys.argv[1], access_key=sys.argv[2], secret_key=sys.argv[3])\n"
        "p = ObsProvider(); s = p.open(p.resolve(t))\n"
        "listed = s.list_page('snaps/', None, 10).items[0].last_modified\n"
        "stat = s.stat('snaps/t.jpg').last_modified\n"
        "print(json.dumps([listed.isoformat(), stat.isoformat()]))\n"
    )
    t = target_for(obs_server, bucket, obs_server.admin_credentials, "v4", prefix="")
    env = {**os.environ, "TZ": "Asia/Shanghai"}
    out = subprocess.run(
        [sys.executable, "-c", code, t.url, *obs_server.admin_credentials],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    listed, stat = json.loads(out.stdout)
    assert listed == stat and listed.endswith("+00:00")


# -- the key RTC gets -----------------------------------------------------------------------------------------


def test_write_only_key_is_fit_for_rtc_only(obs_server: LocalOBSServer, bucket: str, mode: str) -> None:
    rtc = obs_server.key(["Write"])
    report = verify(target_for(obs_server, bucket, rtc.credentials, mode), retry=FAST)
    probes = {p.capability: (p.status, p.reason) for p in report.probes}
    assert probes == {
        "reachable": ("failed", Reason.PERMISSION_DENIED),
        "write": ("ok", None),
        "read": ("failed", Reason.PERMISSION_DENIED),
        "list": ("failed", Reason.PERMISSION_DENIED),
        "delete": ("failed", Reason.PERMISSION_DENIED),
    }
    assert report.fit_for_rtc and not report.fit_for_retrieval
    assert report.leftover_probe == report.probe_key
    assert obs_server.client().getObjectMetadata(bucket, report.probe_key).status == 200


def test_a_head_error_is_told_by_its_header(obs_server: LocalOBSServer, bucket: str, mode: str) -> None:
    """HEAD has no body (the SDK's errorCode is None); the ``x-obs-error-code`` header names it."""
    bad = target_for(obs_server, bucket, (obs_server.admin.access_key, "not-the-secret-0000"), mode)
    unknown = target_for(obs_server, bucket, ("AKLTNOSUCHKEY000000000", "whatever-0000"), mode)
    missing = target_for(obs_server, new_bucket_name("gone"), obs_server.admin_credentials, mode)
    for t, reason, code in (
        (bad, Reason.BAD_SECRET, "SignatureDoesNotMatch"),
        (unknown, Reason.UNKNOWN_ACCESS_KEY, "InvalidAccessKeyId"),
        (missing, Reason.BUCKET_MISSING, "NoSuchBucket"),
    ):
        with session(t) as s:
            err = error(s.head_bucket)
        assert (err.reason, err.code, err.status) == (
            reason,
            code,
            403 if reason != Reason.BUCKET_MISSING else 404,
        )
        assert err.request_id
        assert verify(t, retry=FAST).probe("reachable").reason == reason


def test_sessions_are_isolated(obs_server: LocalOBSServer, bucket: str) -> None:
    """Two sessions, two keys, two servers: nothing of one reaches the other (the SDK keeps no
    process-wide credentials or endpoints)."""
    reader = obs_server.key(["Read", "List"])
    with LocalOBSServer(region="cn-east-3") as other:
        other_bucket = other.create_bucket(new_bucket_name("obs"))
        writer = other.key(["Write"])  # unknown to `obs_server`
        a = session(target_for(obs_server, bucket, reader.credentials, "v4"))
        b = session(target_for(other, other_bucket, writer.credentials, "obs"))
        obs_server.faults.clear()
        b.put("snaps/b.jpg", b"b")
        obs_server.put_object(bucket, "snaps/a.jpg", b"a")
        assert [o.key for o in a.list_page("snaps/", None, 10).items] == ["snaps/a.jpg"]
        assert obs_server.faults.count("PUT") == 0, "b's upload never reached a's server"
        assert other.faults.count("PUT") == 1
        a.close()
        b.close()


@pytest.fixture(autouse=True)
def _fresh_zone() -> Iterator[None]:
    yield
    time.tzset()


# -- what verify reports --------------------------------------------------------------------------------------


def test_verify_names_a_throttling_service(obs_server: LocalOBSServer, admin_target: StorageTarget) -> None:
    obs_server.faults.fail("*", "", status=503, times=None, code="SlowDown")
    report = verify(admin_target, retry=FAST)
    assert report.reason == Reason.THROTTLED and not report.fit_for_rtc


def test_verify_names_a_wrong_region(obs_server: LocalOBSServer, bucket: str) -> None:
    """SigV4 signs the region: a target naming another one than the bucket's is told so (the
    OBS signature and V2 carry no region, so only V4 can notice)."""
    t = target_for(obs_server, bucket, obs_server.admin_credentials, "v4")
    t = t.replace(region="cn-east-3")
    report = verify(t, retry=FAST)
    assert report.reason == Reason.WRONG_REGION
    assert "cn-east-3" in report.probe("reachable").detail


def test_verify_names_a_wrong_endpoint_and_an_unreachable_one() -> None:
    with _Redirecting() as server:
        t = StorageTarget.parse(
            f"obs://b?region=cn-north-4&endpoint={server.endpoint}", access_key="AK", secret_key="SK"
        )
        assert verify(t, retry=FAST).reason == Reason.WRONG_REGION
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
        t = StorageTarget.parse(
            f"obs://b?region=cn-north-4&endpoint={endpoint}", access_key="AK", secret_key="SK"
        )
        assert verify(t, retry=FAST).reason == Reason.NETWORK
