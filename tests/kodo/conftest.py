"""Fixtures of the Kodo tests: one in-process LocalKodoServer per session, a fresh bucket per
test, and a process environment the qiniu credentials of a developer cannot leak into."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.kodoserver import LocalKodoServer


@pytest.fixture
def kodo(local_kodo: LocalKodoServer) -> Iterator[LocalKodoServer]:
    """The session server with no fault rules or counts left over from another test."""
    local_kodo.faults.clear()
    yield local_kodo
    local_kodo.faults.clear()


@pytest.fixture
def bucket(kodo: LocalKodoServer) -> str:
    return kodo.create_bucket(new_bucket_name("kodo"))


@pytest.fixture(autouse=True)
def no_qiniu_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QINIU_ACCESS_KEY", "QINIU_SECRET_KEY", "DISABLE_QINIU_TIMESTAMP_SIGNATURE"):
        monkeypatch.delenv(name, raising=False)


def target_for(
    server: LocalKodoServer,
    bucket: str,
    creds: tuple[str, str] | None = None,
    prefix: str = "snaps",
    **options: str,
) -> StorageTarget:
    """The rtcsnap target of `bucket` on `server`, as `open_server` builds it (domain included)."""
    query = {"region": server.region, "endpoint": server.endpoint} | server.target_options(bucket) | options
    url = f"kodo://{bucket}/{prefix}?{urlencode({k: v for k, v in query.items() if v}, safe=':/')}"
    ak, sk = creds or server.admin_credentials
    return StorageTarget.parse(url, access_key=ak, secret_key=sk)
