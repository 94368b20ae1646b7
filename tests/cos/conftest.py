"""Fixtures for the COS server and provider tests: one in-process COS server per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from rtcsnap.target import StorageTarget
from rtcsnap.testing.cosserver import LocalCOSServer

APPID = "1250000000"


def cos_bucket_name() -> str:
    """Unique (moto's buckets are process-global) and a valid COS name: NAME-APPID, short
    enough for any region's 60-character domain."""
    return f"t{uuid.uuid4().hex[:12]}-{APPID}"


def cos_target(
    server: LocalCOSServer, bucket: str, creds: tuple[str, str], prefix: str = "snaps", **options: str
) -> StorageTarget:
    query = urlencode({"region": server.region, "endpoint": server.endpoint, **options}, safe=":/")
    return StorageTarget.parse(f"cos://{bucket}/{prefix}?{query}", access_key=creds[0], secret_key=creds[1])


@pytest.fixture
def cos_server(local_cos: LocalCOSServer) -> Iterator[LocalCOSServer]:
    """The session's server with no fault rules left over, before and after the test."""
    local_cos.faults.clear()
    yield local_cos
    local_cos.faults.clear()


@pytest.fixture
def cos_bucket(cos_server: LocalCOSServer) -> str:
    return cos_server.create_bucket(cos_bucket_name())
