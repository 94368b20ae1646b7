"""rtcsnap's provider contract suite, run for S3 against two independent S3 implementations.

moto (in-process, with a fault injector) and SeaweedFS (a native server; no fault injector, so
the suite skips its fault tests there). A provider that only passes against one of them is
passing against that server's reading of S3, not against S3.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.contract import ContractEnv, Faults, ProviderContract
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap.testing.seaweed import SeaweedS3Server
from rtcsnap_s3 import S3Provider


def s3_contract_env(
    endpoint: str,
    admin: tuple[str, str],
    create_bucket: Callable[[str], str],
    faults: Faults | None,
) -> ContractEnv:
    """The same environment for either server: only how buckets are made and faults differ."""
    ak, sk = admin

    def make_target() -> StorageTarget:
        bucket = create_bucket(f"contract-{uuid.uuid4().hex[:12]}")
        return StorageTarget.parse(
            f"s3://{bucket}/base?region=us-east-1&endpoint={endpoint}", access_key=ak, secret_key=sk
        )

    def expected(t: StorageTarget) -> dict[str, Any]:
        return {
            "Type": 2,
            "CustomConfig": {"Vendor": 0, "Region": 0, "Bucket": t.bucket, "AccessKey": ak, "SecretKey": sk},
        }

    return ContractEnv(
        provider=S3Provider,
        make_target=make_target,
        bad_secret=lambda t: t.with_credentials(Credentials.of(ak, "not-the-secret")),
        unknown_key=lambda t: t.with_credentials(Credentials.of("AKIAUNKNOWN000000000", sk)),
        missing_bucket=lambda t: t.replace(bucket=f"missing-{uuid.uuid4().hex[:12]}"),
        faults=faults,
        expected_storage_config=expected,
    )


class TestS3Contract(ProviderContract):
    """Against moto, with faults."""

    @pytest.fixture
    def contract_env(self, server: LocalS3Server) -> ContractEnv:
        return s3_contract_env(server.endpoint, server.admin_credentials, server.create_bucket, server.faults)


class TestS3ContractSeaweed(ProviderContract):
    """Against SeaweedFS, whose ETags, listing tokens and error bodies are its own."""

    @pytest.fixture
    def contract_env(self, local_seaweed: SeaweedS3Server) -> ContractEnv:
        s = local_seaweed
        return s3_contract_env(s.endpoint, s.admin_credentials, s.create_bucket, s.faults)
