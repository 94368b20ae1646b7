"""rtcsnap-obs against SeaweedFS, a native S3 server that verifies the OBS SDK's V2 and V4
signatures itself (sdk-lab §10): a second, independent implementation of the checks our
`LocalOBSServer` makes, so a provider (or a verifier) that only fits our own reading of the
definitions fails here.

The contract suite's fault tests (checksum mismatch, retry counting) skip: SeaweedFS runs out of
process and has no fault injector — an accepted capability skip; they run against
`LocalOBSServer` in test_obs_contract.py.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from pathlib import Path
from urllib.parse import urlencode

import obs
import pytest
from rtcsnap.errors import Reason, StorageError
from rtcsnap.storage import download, verify
from rtcsnap.storage.verify import VerifyReport
from rtcsnap.target import StorageTarget
from rtcsnap.testing.contract import FAST, ContractEnv, ProviderContract
from rtcsnap.testing.seaweed import SeaweedKey, SeaweedS3Server
from rtcsnap_obs import ObsProvider

SIGNATURES = ("v4", "v2")  # SeaweedFS has no OBS signature and no virtual-host for our names
REGION = "cn-north-4"


def target(
    server: SeaweedS3Server, bucket: str, creds: SeaweedKey | tuple[str, str], signature: str
) -> StorageTarget:
    ak, sk = creds.credentials if isinstance(creds, SeaweedKey) else creds
    query = urlencode({"region": REGION, "endpoint": server.endpoint, "signature": signature}, safe=":/")
    return StorageTarget.parse(f"obs://{bucket}/rec?{query}", access_key=ak, secret_key=sk)


def new_bucket(server: SeaweedS3Server) -> str:
    return server.create_bucket(f"obs-{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=SIGNATURES)
def signature(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestObsContractOnSeaweed(ProviderContract):
    @pytest.fixture
    def contract_env(self, local_seaweed: SeaweedS3Server, signature: str) -> ContractEnv:
        server = local_seaweed
        ak = server.admin.access_key
        return ContractEnv(
            provider=ObsProvider,
            make_target=lambda: target(server, new_bucket(server), server.admin, signature),
            bad_secret=lambda t: target(server, t.bucket, (ak, "wrong-secret-0000000000"), signature),
            unknown_key=lambda t: target(
                server, t.bucket, ("RTCSNAPNOSUCHKEY0000", "whatever-0000000"), signature
            ),
            missing_bucket=lambda t: target(server, f"gone-{uuid.uuid4().hex[:8]}", server.admin, signature),
            faults=None,  # out of process: no fault injector (see the module docstring)
        )


def probes(report: VerifyReport) -> dict[str, tuple[str, Reason | None]]:
    return {p.capability: (p.status, p.reason) for p in report.probes}


def test_wrong_secret_and_unknown_key_are_told_apart(local_seaweed: SeaweedS3Server, signature: str) -> None:
    bucket = new_bucket(local_seaweed)
    bad = target(local_seaweed, bucket, (local_seaweed.admin.access_key, "not-the-secret-000000"), signature)
    unknown = target(local_seaweed, bucket, ("RTCSNAPNOSUCHKEY0000", "whatever-0000000"), signature)
    for t, reason, code in (
        (bad, Reason.BAD_SECRET, "SignatureDoesNotMatch"),
        (unknown, Reason.UNKNOWN_ACCESS_KEY, "InvalidAccessKeyId"),
    ):
        with ObsProvider().open(t) as session, pytest.raises(StorageError) as err:
            session.put("rec/x.jpg", b"x")
        assert (err.value.reason, err.value.code, err.value.status) == (reason, code, 403)
        assert verify(t, retry=FAST).reason == reason


def test_write_only_key_is_fit_for_rtc_only(local_seaweed: SeaweedS3Server, signature: str) -> None:
    """SeaweedFS's own permission check: PutObject only, like the key Volcengine advises for RTC."""
    bucket = new_bucket(local_seaweed)
    rtc = local_seaweed.key(("Write",))
    report = verify(target(local_seaweed, bucket, rtc, signature), retry=FAST)
    assert probes(report) == {
        "reachable": ("failed", Reason.PERMISSION_DENIED),  # HeadBucket needs s3:ListBucket
        "write": ("ok", None),
        "read": ("failed", Reason.PERMISSION_DENIED),
        "list": ("failed", Reason.PERMISSION_DENIED),
        "delete": ("failed", Reason.PERMISSION_DENIED),
    }
    assert report.fit_for_rtc and not report.fit_for_retrieval
    assert report.leftover_probe == report.probe_key
    head = local_seaweed.s3().head_object(Bucket=bucket, Key=report.probe_key)
    assert head["ContentLength"] > 0, "the write really happened"


def test_read_list_key_downloads_and_cannot_write(
    local_seaweed: SeaweedS3Server, signature: str, tmp_path: Path
) -> None:
    bucket = new_bucket(local_seaweed)
    for i in range(3):
        local_seaweed.s3().put_object(Bucket=bucket, Key=f"rec/{i}.jpg", Body=bytes([i]) * 3000)
    reader = target(local_seaweed, bucket, local_seaweed.key(("Read", "List")), signature)
    report = download(reader, tmp_path, retry=FAST)
    assert report.ok and sorted(report.downloaded) == [f"rec/{i}.jpg" for i in range(3)]
    assert report.unverified == [], "SeaweedFS's ETag is the MD5: every object was checked"
    with ObsProvider().open(reader) as session, pytest.raises(StorageError) as err:
        session.put("rec/new.jpg", b"n")
    assert (err.value.reason, err.value.code) == (Reason.PERMISSION_DENIED, "AccessDenied")


def test_the_official_sdk_gets_seaweeds_own_answers(local_seaweed: SeaweedS3Server, signature: str) -> None:
    """What the provider's translation rests on, seen through the bare SDK: status and code on
    a returned (never raised) response, None as the code of a HEAD error."""
    bucket = new_bucket(local_seaweed)
    ak, _ = local_seaweed.admin_credentials

    def client(sk: str) -> obs.ObsClient:
        return obs.ObsClient(
            access_key_id=ak, secret_access_key=sk, server=local_seaweed.endpoint, signature=signature,
            path_style=True, region=REGION, max_retry_count=0, is_signature_negotiation=False,
        )  # fmt: skip

    resp = client("not-the-secret-000000").getObject(bucket, "rec/k")
    assert (resp.status, resp.errorCode) == (403, "SignatureDoesNotMatch")
    head = client("not-the-secret-000000").headBucket(bucket)
    assert (head.status, head.errorCode) == (403, None)


def test_a_body_closed_unread_does_not_poison_the_kept_alive_connection(
    local_seaweed: SeaweedS3Server, signature: str
) -> None:
    """SeaweedFS keeps connections alive (werkzeug, under LocalOBSServer, closes each one), so
    this is where the session's pooled connection is really reused: a GET closed before its end
    (`stat`'s default, an interrupted download) must not leave its body for the next call."""
    bucket = new_bucket(local_seaweed)
    local_seaweed.s3().put_object(Bucket=bucket, Key="rec/big.jpg", Body=b"b" * 3_000_000)
    with ObsProvider().open(target(local_seaweed, bucket, local_seaweed.admin, signature)) as session:
        for _ in range(3):
            stream = session.get("rec/big.jpg")
            assert len(next(iter(stream))) > 0
            stream.close()
            assert [o.key for o in session.list_page("rec/", None, 10).items] == ["rec/big.jpg"]
            assert session.stat("rec/big.jpg").size == 3_000_000
        assert session.client.connHolder["connSet"].qsize() == 1, "one kept-alive connection, reused"


class _KeepAliveTunnel:
    """A minimal CONNECT proxy that keeps its tunnels open (as real proxies do; our werkzeug
    server closes every connection, so it cannot show this)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        client.sendall(b"HTTP/1.0 200 Connection established\r\n\r\n")
        server = socket.create_connection(self.upstream)

        def pipe(a: socket.socket, b: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := a.recv(65536):
                    b.sendall(data)
            with contextlib.suppress(OSError):
                b.shutdown(socket.SHUT_WR)

        threading.Thread(target=pipe, args=(server, client), daemon=True).start()
        pipe(client, server)

    def close(self) -> None:
        self.sock.close()


def test_the_sdk_cannot_reuse_a_tunnel_so_proxied_sessions_do_not_keep_alive(
    local_seaweed: SeaweedS3Server,
) -> None:
    """The bare SDK with keep-alive through a keep-alive proxy fails on its second request: it
    calls set_tunnel() again on the pooled connection. A proxied session therefore opens a
    connection per request (``long_conn_mode`` off)."""
    bucket = new_bucket(local_seaweed)
    proxy = _KeepAliveTunnel(("127.0.0.1", local_seaweed.port))
    try:
        ak, sk = local_seaweed.admin_credentials
        sdk = obs.ObsClient(
            access_key_id=ak, secret_access_key=sk, server=local_seaweed.endpoint, signature="v4", region=REGION,
            path_style=True, max_retry_count=0, is_signature_negotiation=False, long_conn_mode=True,
            proxy_host="127.0.0.1", proxy_port=proxy.port,
        )  # fmt: skip
        assert sdk.headBucket(bucket).status == 200
        with pytest.raises(RuntimeError, match="tunnel for established connection"):
            sdk.headBucket(bucket)
        t = target(local_seaweed, bucket, local_seaweed.admin, "v4").replace(
            options={"signature": "v4", "proxy": f"127.0.0.1:{proxy.port}"}
        )
        with ObsProvider().open(ObsProvider().resolve(t)) as session:
            assert session.client.long_conn_mode is False
            for _ in range(3):
                session.head_bucket()
    finally:
        proxy.close()
