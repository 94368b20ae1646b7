"""The shipped provider contract suite, run for rtcsnap-obs against the local OBS server in each
of the three ways the provider reaches a server (OBS signature virtual-host through the proxy,
SigV4 and V2 path-style)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rtcsnap.storage import download
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import FAST, ContractEnv, ProviderContract
from rtcsnap.testing.obsserver import LocalOBSServer
from rtcsnap_obs import ObsProvider

from tests.obs.conftest import MODES, target_for

UNKNOWN = ("AKLTUNKNOWN0000000000000", "whatever-secret-000000")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestObsContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, local_obs: LocalOBSServer, mode: str) -> ContractEnv:
        server = local_obs

        def make() -> StorageTarget:
            return target_for(
                server, server.create_bucket(new_bucket_name("obs")), server.admin_credentials, mode
            )

        return ContractEnv(
            provider=ObsProvider,
            make_target=make,
            bad_secret=lambda t: target_for(
                server, t.bucket, (server.admin.access_key, "wrong-secret-0000000"), mode
            ),
            unknown_key=lambda t: target_for(server, t.bucket, UNKNOWN, mode),
            missing_bucket=lambda t: target_for(
                server, new_bucket_name("gone"), server.admin_credentials, mode
            ),
            faults=server.faults,
            expected_storage_config=lambda t: {
                "Type": 2,
                "CustomConfig": {
                    "Vendor": 2,
                    "Region": 1,  # cn-north-4 (spec §3.4.5)
                    "Bucket": t.bucket,
                    "AccessKey": server.admin.access_key,
                    "SecretKey": server.admin.secret_key,
                },
            },
        )


def test_objects_rtc_uploaded_are_verified_by_their_md5_etag(
    local_obs: LocalOBSServer, tmp_path: Path, mode: str
) -> None:
    """An object stored without a CRC64 (as RTC's are) carries only its ETag: the MD5 it is."""
    server = local_obs
    t = target_for(server, server.create_bucket(new_bucket_name("obs")), server.admin_credentials, mode)
    for i in range(3):
        server.put_object(t.bucket, f"snaps/{i}.jpg", bytes([i]) * 4000)
    used: set[str | None] = set()
    report = download(
        t, tmp_path, retry=FAST, progress=lambda e: used.add(e.checksum) if e.kind == "done" else None
    )
    assert report.ok and len(report.downloaded) == 3 and report.unverified == []
    assert used == {"md5"}
    server.faults.corrupt("snaps/1.jpg", times=None)
    try:
        again = download(t, tmp_path / "again", retry=FAST)
    finally:
        server.faults.clear()
    assert [(f.key, f.reason.value) for f in again.failed] == [("snaps/1.jpg", "checksum_mismatch")]


def test_objects_uploaded_with_a_crc64_are_verified_by_it(
    local_obs: LocalOBSServer, tmp_path: Path, mode: str
) -> None:
    server = local_obs
    t = target_for(server, server.create_bucket(new_bucket_name("obs")), server.admin_credentials, mode)
    for i in range(3):
        server.put_object(t.bucket, f"snaps/{i}.jpg", bytes([i]) * 4000, crc64=True)
    used: set[str | None] = set()
    report = download(
        t, tmp_path, retry=FAST, progress=lambda e: used.add(e.checksum) if e.kind == "done" else None
    )
    assert report.ok and report.unverified == [] and used == {"crc64ecma"}
