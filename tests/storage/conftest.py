"""Fixtures for the storage-core tests: buckets on the session's moto server, and targets to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from rtcsnap import StorageTarget
from rtcsnap.testing import new_bucket_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from rtcsnap.testing.s3server import LocalS3Server

MakeTarget = Callable[..., StorageTarget]


@pytest.fixture
def bucket(local_s3: LocalS3Server) -> Iterator[str]:
    local_s3.faults.clear()
    yield local_s3.create_bucket(new_bucket_name("core"))
    local_s3.faults.clear()


@pytest.fixture
def s3(local_s3: LocalS3Server) -> S3Client:
    """An admin boto3 client that stores a CRC32 checksum with each upload (boto3's default)."""
    return local_s3.s3(request_checksum_calculation="when_supported")


@pytest.fixture
def plain_s3(local_s3: LocalS3Server) -> S3Client:
    """An admin boto3 client that stores no checksum beyond the ETag."""
    return local_s3.s3(request_checksum_calculation="when_required")


@pytest.fixture
def make_target(local_s3: LocalS3Server, bucket: str) -> MakeTarget:
    def make(prefix: str = "", credentials: tuple[str, str] | None = None) -> StorageTarget:
        ak, sk = credentials or local_s3.admin_credentials
        return StorageTarget.parse(
            f"s3://{bucket}/{prefix}?region=us-east-1&endpoint={local_s3.endpoint}",
            access_key=ak,
            secret_key=sk,
        )

    return make
