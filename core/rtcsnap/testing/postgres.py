"""A fresh PostgreSQL database per test, on a real server (the ``postgres_url`` fixture).

Why a real server and a fresh database: the index's scale-out guarantees (ON CONFLICT dedupe
across receivers, row-lock ordering, transactional migrations) are PostgreSQL behaviour that no
stand-in reproduces, and tests that share a database would see each other's rows.

Where: ``RTCSNAP_TEST_POSTGRES_URL`` (an SQLAlchemy URL, e.g. ``postgresql+psycopg://postgres@
127.0.0.1:5432/test``); without it, that default is tried with a 1 s connect timeout and the test
is skipped when nothing answers. When the variable is set, or ``RTCSNAP_REQUIRE_SERVICES`` is
truthy (CI), an unreachable server fails the test instead: there a skip would hide a gap.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator

import pytest

ENV = "RTCSNAP_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 1.0
_unreachable: dict[str, str] = {}  # server URL -> why: probe a dead server once per session, not per test


def _required() -> bool:
    flag = os.environ.get("RTCSNAP_REQUIRE_SERVICES", "").strip().lower()
    return bool(os.environ.get(ENV)) or flag in ("1", "true", "yes", "on")


@contextlib.contextmanager
def fresh_database(server_url: str | None = None) -> Iterator[str]:
    """Create ``rtcsnap_test_<uuid>`` on the server, yield its URL, drop it (WITH (FORCE)) after."""
    import sqlalchemy as sa

    from rtcsnap import secrets

    url = sa.make_url(server_url or os.environ.get(ENV) or DEFAULT_URL)
    secrets.register(url.password if isinstance(url.password, str) else None)
    shown = url.render_as_string(hide_password=True)
    admin = sa.create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 2},
    )
    name = f"rtcsnap_test_{uuid.uuid4().hex}"
    try:
        if shown in _unreachable:
            raise ConnectionError(_unreachable[shown])
        if url.host:  # libpq rounds connect_timeout up to 2 s: a TCP probe keeps the 1 s promise
            socket.create_connection((url.host, url.port or 5432), timeout=CONNECT_TIMEOUT_S).close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except (OSError, sa.exc.OperationalError) as exc:
        admin.dispose()
        why = _unreachable.setdefault(shown, type(getattr(exc, "orig", None) or exc).__name__)
        reason = f"PostgreSQL not reachable at {shown} ({why}): set {ENV}"
        if _required():
            pytest.fail(f"{reason} (required here: {ENV} or RTCSNAP_REQUIRE_SERVICES is set)", pytrace=False)
        pytest.skip(reason)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


__all__ = ["DEFAULT_URL", "ENV", "fresh_database"]
