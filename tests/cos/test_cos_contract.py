"""The shipped provider contract suite, run for rtcsnap-cos against the local COS server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rtcsnap import Reason
from rtcsnap.storage import download
from rtcsnap.target import StorageTarget
from rtcsnap.testing.contract import FAST, ContractEnv, ProviderContract
from rtcsnap.testing.cosserver import LocalCOSServer
from rtcsnap_cos import CosProvider

from tests.cos.conftest import cos_bucket_name, cos_target


def expected_config(target: StorageTarget) -> dict[str, Any]:
    """Spec §3.3.4 field by field: ap-guangzhou is COS Region 4 (spec §3.4.6)."""
    assert target.credentials is not None
    return {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 3,
            "Region": 4,
            "Bucket": target.bucket,
            "AccessKey": target.credentials.access_key,
            "SecretKey": target.credentials.secret_key.get_secret_value(),
        },
    }


class TestCosContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, local_cos: LocalCOSServer) -> ContractEnv:
        server = local_cos

        def make() -> StorageTarget:
            return cos_target(server, server.create_bucket(cos_bucket_name()), server.admin_credentials)

        return ContractEnv(
            provider=CosProvider,
            make_target=make,
            bad_secret=lambda t: cos_target(
                server, t.bucket, (server.admin.access_key, "wrong-secret-0000000")
            ),
            unknown_key=lambda t: cos_target(
                server, t.bucket, ("AKIDUNKNOWN000000000000", "whatever-secret-00")
            ),
            missing_bucket=lambda t: cos_target(server, cos_bucket_name(), server.admin_credentials),
            faults=server.faults,
            expected_storage_config=expected_config,
        )


def test_downloads_are_crc64_verified_and_resumable(local_cos: LocalCOSServer, tmp_path: Path) -> None:
    t = cos_target(local_cos, local_cos.create_bucket(cos_bucket_name()), local_cos.admin_credentials)
    client = local_cos.client()
    for i in range(5):
        client.put_object(Bucket=t.bucket, Body=bytes([i]) * 3000, Key=f"snaps/{i}.jpg")
    used: set[str | None] = set()
    report = download(
        t, tmp_path, retry=FAST, progress=lambda ev: used.add(ev.checksum) if ev.kind == "done" else None
    )
    assert report.ok and len(report.downloaded) == 5 and report.unverified == []
    assert used == {"crc64ecma"}
    again = download(t, tmp_path, retry=FAST)
    assert again.downloaded == [] and len(again.skipped) == 5


def test_a_flipped_byte_is_a_checksum_mismatch(local_cos: LocalCOSServer, tmp_path: Path) -> None:
    t = cos_target(local_cos, local_cos.create_bucket(cos_bucket_name()), local_cos.admin_credentials)
    local_cos.client().put_object(Bucket=t.bucket, Body=b"x" * 5000, Key="snaps/x.jpg")
    local_cos.faults.corrupt("snaps/x.jpg", times=None)
    try:
        report = download(t, tmp_path, retry=FAST)
    finally:
        local_cos.faults.clear()
    assert [(f.key, f.reason) for f in report.failed] == [("snaps/x.jpg", Reason.CHECKSUM_MISMATCH)]
    assert not (tmp_path / "x.jpg").exists()
