"""Fixtures for the OSS tests: one in-process `LocalOSSServer` per session, targets on it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import rtcsnap_oss.sdk  # noqa: F401 - first import of oss2, without its invalid-escape warning
from rtcsnap.target import StorageTarget
from rtcsnap.testing.ossserver import LocalOSSServer


@pytest.fixture
def oss_server(local_oss: LocalOSSServer) -> Iterator[LocalOSSServer]:
    """The session's server with no fault rules or counts left over from another test."""
    local_oss.faults.clear()
    yield local_oss
    local_oss.faults.clear()


def oss_target(
    server: LocalOSSServer,
    bucket: str,
    creds: tuple[str, str] | None,
    prefix: str = "snaps",
    **options: str,
) -> StorageTarget:
    """An ``oss://`` target on `server` (its region, its endpoint), with `creds` if given."""
    query = urlencode({"region": server.region, "endpoint": server.endpoint, **options}, safe=":/")
    ak, sk = creds if creds is not None else (None, None)
    return StorageTarget.parse(f"oss://{bucket}/{prefix}?{query}", access_key=ak, secret_key=sk)
