"""What the third-party package's own test file looks like: subclass the shipped contract suite."""

from __future__ import annotations

import uuid

import pytest
from rtcsnap import StorageTarget
from rtcsnap.testing.contract import ContractEnv, ProviderContract
from rtcsnap_acme import AcmeProvider


class TestAcmeContract(ProviderContract):
    @pytest.fixture
    def contract_env(self, local_s3) -> ContractEnv:
        ak, sk = local_s3.admin_credentials

        def make_target() -> StorageTarget:
            bucket = f"acme-{uuid.uuid4().hex[:12]}"
            local_s3.create_bucket(bucket)
            return StorageTarget.parse(
                f"acme://{bucket}/snaps?region=ap-beijing&endpoint={local_s3.endpoint}",
                access_key=ak,
                secret_key=sk,
            )

        return ContractEnv(
            provider=AcmeProvider,
            make_target=make_target,
            bad_secret=lambda t: t.with_credentials(
                StorageTarget.parse("x://y", access_key=ak, secret_key="wrong-secret").credentials
            ),
            unknown_key=lambda t: t.with_credentials(
                StorageTarget.parse("x://y", access_key="AKIDUNKNOWN0000", secret_key=sk).credentials
            ),
            missing_bucket=lambda t: t.replace(bucket="acme-no-such-bucket"),
            faults=local_s3.faults,
        )
