"""The shipped provider contract suite, run for rtcsnap-kodo against LocalKodoServer."""

from __future__ import annotations

import pytest
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import ContractEnv, ProviderContract
from rtcsnap.testing.kodoserver import LocalKodoServer
from rtcsnap_kodo import KodoProvider

from tests.kodo.conftest import target_for


class TestKodoContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, kodo: LocalKodoServer) -> ContractEnv:
        server = kodo

        def make() -> StorageTarget:
            return target_for(server, server.create_bucket(new_bucket_name("kodo")))

        def missing(t: StorageTarget) -> StorageTarget:
            gone = new_bucket_name("gone")  # never created: its domain is the one it would have
            return target_for(server, t.bucket).replace(bucket=gone)

        return ContractEnv(
            provider=KodoProvider,
            make_target=make,
            bad_secret=lambda t: target_for(
                server, t.bucket, (server.admin.access_key, "wrong-secret-0000000")
            ),
            unknown_key=lambda t: target_for(
                server, t.bucket, ("QNAKUNKNOWN0000000000", "whatever-secret-00")
            ),
            missing_bucket=missing,
            faults=server.faults,
            expected_storage_config=lambda t: {
                "Type": 2,
                "CustomConfig": {
                    "Vendor": 4,
                    "Region": 0,
                    "Bucket": t.bucket,
                    "AccessKey": server.admin.access_key,
                    "SecretKey": server.admin.secret_key,
                },
            },
        )
