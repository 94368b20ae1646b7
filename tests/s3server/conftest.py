"""Fixtures for the LocalS3Server tests.

moto's auth switch is process-global (see `rtcsnap.testing.s3server`): when another fixture
(e.g. the plugin's session-scoped ``local_s3``) holds auth mode, these servers are checked too,
so every client here signs with `LocalS3Server.admin_credentials`, which is valid either way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from rtcsnap.testing.s3server import LocalS3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(scope="module")
def server() -> Iterator[LocalS3Server]:
    with LocalS3Server() as srv:
        yield srv


@pytest.fixture
def s3(server: LocalS3Server) -> S3Client:
    server.faults.clear()
    return server.s3()


@pytest.fixture
def bucket(server: LocalS3Server) -> str:
    return server.create_bucket(f"srv-{uuid.uuid4().hex[:12]}")
