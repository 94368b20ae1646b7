"""The shipped provider contract suite, run for rtcsnap-veimagex against the local veImageX server."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from rtcsnap.storage import iter_objects
from rtcsnap.target import StorageTarget
from rtcsnap.testing.contract import ContractEnv, ProviderContract
from rtcsnap.testing.imagexserver import LocalImageXServer
from rtcsnap_veimagex import VeImageXProvider

ACCOUNT = "2100000001"


@pytest.fixture(autouse=True)
def isolated_volc_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The SDK reads VOLC_* and ~/.volc: a developer's real keys must not change what runs."""
    for name in list(os.environ):
        if name.startswith("VOLC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


def target_for(server: LocalImageXServer, service_id: str, creds: tuple[str, str]) -> StorageTarget:
    query = urlencode(
        {"region": server.region, "account_id": ACCOUNT, "endpoint": server.endpoint}, safe=":/"
    )
    return StorageTarget.parse(
        f"veimagex://{service_id}/rooms?{query}", access_key=creds[0], secret_key=creds[1]
    )


class TestVeImageXContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, local_imagex: LocalImageXServer) -> ContractEnv:
        server = local_imagex

        def make() -> StorageTarget:
            return target_for(server, server.create_service(), server.admin_credentials)

        def bad_secret(t: StorageTarget) -> StorageTarget:
            return target_for(server, t.bucket, (server.admin.access_key, "not-the-secret-at-all-000"))

        def unknown_key(t: StorageTarget) -> StorageTarget:
            return target_for(server, t.bucket, ("AKLTUNKNOWN0000000000000", "whatever-secret-000000"))

        def missing(t: StorageTarget) -> StorageTarget:
            return target_for(server, "nosuchsvc0", server.admin_credentials)

        return ContractEnv(
            provider=VeImageXProvider,
            make_target=make,
            bad_secret=bad_secret,
            unknown_key=unknown_key,
            missing_bucket=missing,
            faults=server.faults,
        )


def test_listing_pages_through_the_real_marker(local_imagex: LocalImageXServer) -> None:
    sid = local_imagex.create_service()
    for i in range(7):
        local_imagex.put_file(sid, f"rooms/{i:02d}.jpg", bytes([i]) * (i + 1))
    t = target_for(local_imagex, sid, local_imagex.admin_credentials)
    got = [(o.key, o.size) for o in iter_objects(t, "", page_size=2)]
    assert got == [(f"rooms/{i:02d}.jpg", i + 1) for i in range(7)]
