"""The shipped provider contract suite, run for rtcsnap-tos against the local TOS server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from rtcsnap import Reason
from rtcsnap.storage import download, verify
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import FAST, ContractEnv, ProviderContract
from rtcsnap.testing.tosserver import LocalTOSServer
from rtcsnap_tos import TosProvider

ACCOUNT = "2100000002"


def target_for(server: LocalTOSServer, bucket: str, creds: tuple[str, str]) -> StorageTarget:
    query = urlencode(
        {"region": server.region, "account_id": ACCOUNT, "endpoint": server.endpoint}, safe=":/"
    )
    return StorageTarget.parse(f"tos://{bucket}/snaps?{query}", access_key=creds[0], secret_key=creds[1])


class TestTosContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, local_tos: LocalTOSServer) -> ContractEnv:
        server = local_tos

        def make() -> StorageTarget:
            return target_for(server, server.create_bucket(new_bucket_name("tos")), server.admin_credentials)

        return ContractEnv(
            provider=TosProvider,
            make_target=make,
            bad_secret=lambda t: target_for(
                server, t.bucket, (server.admin.access_key, "wrong-secret-0000000")
            ),
            unknown_key=lambda t: target_for(
                server, t.bucket, ("AKLTUNKNOWN00000000000", "whatever-secret-00")
            ),
            missing_bucket=lambda t: target_for(server, new_bucket_name("gone"), server.admin_credentials),
            faults=server.faults,
        )


def test_downloads_are_crc64_verified_and_resumable(local_tos: LocalTOSServer, tmp_path: Path) -> None:
    server = local_tos
    t = target_for(server, server.create_bucket(new_bucket_name("tos")), server.admin_credentials)
    client = server.client()
    for i in range(5):
        client.put_object(t.bucket, f"snaps/{i}.jpg", content=bytes([i]) * 3000)
    used: set[str | None] = set()
    report = download(
        t, tmp_path, retry=FAST, progress=lambda ev: used.add(ev.checksum) if ev.kind == "done" else None
    )
    assert report.ok and len(report.downloaded) == 5 and report.unverified == []
    assert used == {"crc64ecma"}
    again = download(t, tmp_path, retry=FAST)
    assert again.downloaded == [] and len(again.skipped) == 5


def test_a_flipped_byte_is_a_checksum_mismatch(local_tos: LocalTOSServer, tmp_path: Path) -> None:
    server = local_tos
    t = target_for(server, server.create_bucket(new_bucket_name("tos")), server.admin_credentials)
    server.client().put_object(t.bucket, "snaps/x.jpg", content=b"x" * 5000)
    server.faults.corrupt("snaps/x.jpg", times=None)
    try:
        report = download(t, tmp_path, retry=FAST)
    finally:
        server.faults.clear()
    assert [(f.key, f.reason) for f in report.failed] == [("snaps/x.jpg", Reason.CHECKSUM_MISMATCH)]
    assert not (tmp_path / "x.jpg").exists()


def test_write_only_key_is_fit_for_rtc_and_verify_says_what_it_proved(local_tos: LocalTOSServer) -> None:
    server = local_tos
    bucket = server.create_bucket(new_bucket_name("tos"))
    writer = server.key(["Write"])
    report = verify(target_for(server, bucket, writer.credentials), retry=FAST)
    assert report.fit_for_rtc and not report.fit_for_retrieval
    note = next(n for n in report.notes if "service authorization" in n)
    assert "this key can write" in note and "no user key can prove" in note


def test_storage_config_is_the_spec_shape(local_tos: LocalTOSServer) -> None:
    t = StorageTarget.parse(f"tos://snaps-bucket/rooms?region=cn-shanghai&account_id={ACCOUNT}")
    provider = TosProvider()
    wire = provider.storage_config(provider.resolve(t)).to_wire()
    assert wire == {"Type": 0, "TosConfig": {"AccountId": ACCOUNT, "Bucket": "snaps-bucket", "Region": 2}}
