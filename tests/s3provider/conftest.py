"""Fixtures for the S3 provider tests: one auth-mode LocalS3Server for the module.

Auth mode makes credential errors real (SigV4 checked against IAM keys). It is process-global
in moto; `LocalS3Server` shares it between holders, so these tests also coexist with the
session-scoped ``local_s3`` fixture of rtcsnap's pytest plugin. Tests against SeaweedFS (the
second server) use the plugin's session-scoped ``local_seaweed`` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap_s3 import S3Provider


@pytest.fixture(scope="module")
def server() -> Iterator[LocalS3Server]:
    with LocalS3Server() as srv:
        srv.enable_auth()
        yield srv


@pytest.fixture
def bucket(server: LocalS3Server) -> Iterator[str]:
    server.faults.clear()
    yield server.create_bucket(f"prov-{uuid.uuid4().hex[:12]}")
    server.faults.clear()


MakeTarget = Callable[..., StorageTarget]


@pytest.fixture
def make_target(server: LocalS3Server, bucket: str) -> MakeTarget:
    def make(
        credentials: tuple[str, str] | None = None,
        *,
        bucket_name: str | None = None,
        endpoint: str | None = None,
        **options: str,
    ) -> StorageTarget:
        ak, sk = credentials or server.admin_credentials
        return StorageTarget(
            scheme="s3",
            bucket=bucket_name or bucket,
            prefix="snaps",
            region="us-east-1",
            endpoint=endpoint or server.endpoint,
            options=options,
            credentials=Credentials.of(ak, sk),
        )

    return make


@pytest.fixture
def target(make_target: MakeTarget) -> StorageTarget:
    return make_target()


@pytest.fixture
def provider() -> S3Provider:
    return S3Provider()
