"""The shipped provider contract suite, run for rtcsnap-oss against the local OSS server (V4 and V1)."""

from __future__ import annotations

from typing import Any

import pytest
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.contract import ContractEnv, ProviderContract
from rtcsnap.testing.ossserver import LocalOSSServer
from rtcsnap_oss import OssProvider

from tests.oss.conftest import oss_target


def _wire(target: StorageTarget) -> dict[str, Any]:
    assert target.credentials is not None
    return {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 1,
            "Region": 0,  # oss-cn-hangzhou, the local server's region (spec §3.4.4)
            "Bucket": target.bucket,
            "AccessKey": target.credentials.access_key,
            "SecretKey": target.credentials.secret_key.get_secret_value(),
        },
    }


class TestOssContract(ProviderContract):
    @pytest.fixture(params=["v4", "v1"])
    def contract_env(self, request: pytest.FixtureRequest, oss_server: LocalOSSServer) -> ContractEnv:
        server, sig = oss_server, request.param

        def at(bucket: str, creds: tuple[str, str]) -> StorageTarget:
            return oss_target(server, bucket, creds, signature=sig)

        return ContractEnv(
            provider=OssProvider,
            make_target=lambda: at(server.create_bucket(new_bucket_name("oss")), server.admin_credentials),
            bad_secret=lambda t: at(t.bucket, (server.admin.access_key, "wrong-secret-0000000")),
            unknown_key=lambda t: at(t.bucket, ("LTAIUNKNOWN00000000000", "whatever-secret-00")),
            missing_bucket=lambda t: at(new_bucket_name("gone"), server.admin_credentials),
            faults=server.faults,
            expected_storage_config=_wire,
        )
