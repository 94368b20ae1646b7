"""rtcsnap's provider contract suite, run for S3 against the module's auth-mode LocalS3Server."""

from __future__ import annotations

import uuid

import pytest
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.contract import ContractEnv, ProviderContract
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap_s3 import S3Provider


class TestS3Contract(ProviderContract):
    @pytest.fixture
    def contract_env(self, server: LocalS3Server) -> ContractEnv:
        ak, sk = server.admin_credentials

        def make_target() -> StorageTarget:
            bucket = server.create_bucket(f"contract-{uuid.uuid4().hex[:12]}")
            return StorageTarget.parse(
                f"s3://{bucket}/base?region=us-east-1&endpoint={server.endpoint}",
                access_key=ak,
                secret_key=sk,
            )

        return ContractEnv(
            provider=S3Provider,
            make_target=make_target,
            bad_secret=lambda t: t.with_credentials(Credentials.of(ak, "not-the-secret")),
            unknown_key=lambda t: t.with_credentials(Credentials.of("AKIAUNKNOWN000000000", sk)),
            missing_bucket=lambda t: t.replace(bucket=f"missing-{uuid.uuid4().hex[:12]}"),
            faults=server.faults,
            expected_storage_config=lambda t: {
                "Type": 2,
                "CustomConfig": {
                    "Vendor": 0,
                    "Region": 0,
                    "Bucket": t.bucket,
                    "AccessKey": ak,
                    "SecretKey": sk,
                },
            },
        )
