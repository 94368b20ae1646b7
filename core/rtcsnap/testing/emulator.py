"""pytest fixtures for the snapshot OpenAPI emulator, and a small signing client for tests.

One uvicorn server per test session hosts a fresh `Emulator` per test (the server's emulator
is swapped, so no state leaks between tests and no test pays for a server start):

* ``emulator`` — a fresh `Emulator` (one key pair, see `new_config`), already being served;
* ``emulator_server`` — the `EmulatorServer` serving it (``emulator_server.url``);
* ``make_emulator`` — ``make_emulator(config=None, *, clock=None, auth_clock=None, **overrides)``
  serves a new emulator built from `config` or ``new_config(**overrides)`` and returns it;
  without a `keys` override it keeps the ``emulator`` fixture's keys, so ``emulator_client``
  still works;
* ``emulator_client`` — an `EmulatorClient` signed with the ``emulator`` fixture's key.

    def test_start(emulator, emulator_client):
        emulator.faults.fail("StartSnapshot", "InternalError")
        assert emulator_client.call("StartSnapshot", body).status_code == 500
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx
import pytest

from rtcsnap import secrets as secret_registry
from rtcsnap.emulator import Clock, Emulator, EmulatorConfig, EmulatorServer
from rtcsnap.protocol import api, signer

TEST_ACCESS_KEY = "AKLTtestkey"
DEFAULT_VERSION = "2023-11-01"


def new_config(**overrides: Any) -> EmulatorConfig:
    """A config with one key pair, `TEST_ACCESS_KEY` / a random secret, plus `overrides`."""
    keys = overrides.pop("keys", None) or {TEST_ACCESS_KEY: secrets.token_urlsafe(24)}
    return EmulatorConfig(keys=dict(keys), **overrides)


class EmulatorClient:
    """Signs (with rtcsnap's V4 signer) and sends raw OpenAPI calls; returns httpx responses.

    Deliberately thin — no parsing, no retries — so tests see exactly what the emulator sent.
    `now` supplies the signing time (default: wall clock). Its secret key and token are
    registered with `rtcsnap.secrets`, so the session-wide secret scan watches for them too.
    """

    def __init__(
        self,
        url: str,
        access_key: str,
        secret_key: str,
        *,
        region: str = "cn-north-1",
        session_token: str | None = None,
        now: Callable[[], datetime] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.host = httpx.URL(self.url).netloc.decode()
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.session_token = session_token
        secret_registry.register(secret_key, session_token)
        self.now = now or (lambda: datetime.now(UTC))
        self._http = httpx.Client(timeout=timeout)

    @classmethod
    def for_server(cls, server: EmulatorServer, access_key: str | None = None, **kwargs: Any) -> Self:
        """A client for the emulator `server` serves now, with `access_key` (default: its first)."""
        keys = server.emulator.config.keys
        key = access_key or next(iter(keys))
        return cls(server.url, key, keys[key], region=server.emulator.config.region, **kwargs)

    def signed_headers(
        self,
        method: str,
        query: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        service: str = api.SERVICE,
        now: datetime | None = None,
    ) -> dict[str, str]:
        base = {"Content-Type": "application/json"} if method == "POST" else {}
        return signer.sign(
            method,
            self.host,
            "/",
            query,
            {**base, **(headers or {})},
            body,
            access_key=self.access_key,
            secret_key=self.secret_key,
            session_token=self.session_token,
            region=self.region,
            service=service,
            now=now or self.now(),
        )

    def call(
        self,
        action: str,
        body: Mapping[str, Any] | bytes | None = None,
        *,
        version: str = DEFAULT_VERSION,
        query: Mapping[str, str] | None = None,
        method: str | None = None,
    ) -> httpx.Response:
        """One signed call; a Mapping body is sent as JSON, query adds parameters (GET)."""
        info = api.ACTIONS.get(action)
        method = method or (info.method if info is not None else "POST")
        raw = json.dumps(body).encode() if isinstance(body, Mapping) else (body or b"")
        params = {"Action": action, "Version": version, **(query or {})}
        headers = self.signed_headers(method, params, raw)
        return self._http.request(method, f"{self.url}/", params=params, content=raw, headers=headers)

    def get_task(
        self, app_id: str, room_id: str, task_id: str, *, version: str = DEFAULT_VERSION
    ) -> httpx.Response:
        query = {"AppId": app_id, "RoomId": room_id, "TaskId": task_id}
        return self.call("GetSnapshotTask", query=query, version=version)

    def send(
        self,
        method: str,
        query: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str],
        *,
        path: str = "/",
    ) -> httpx.Response:
        """Send exactly these headers (e.g. tampered after signing), unsigned otherwise."""
        return self._http.request(method, f"{self.url}{path}", params=query, content=body, headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@pytest.fixture(scope="session")
def _rtcsnap_emulator_host() -> Iterator[EmulatorServer]:
    """The session's one server; each test mounts its own emulator on it."""
    with EmulatorServer(Emulator(new_config())) as server:
        yield server


@pytest.fixture
def emulator(_rtcsnap_emulator_host: EmulatorServer) -> Emulator:
    emulator = Emulator(new_config())
    _rtcsnap_emulator_host.emulator = emulator
    return emulator


@pytest.fixture
def emulator_server(_rtcsnap_emulator_host: EmulatorServer, emulator: Emulator) -> EmulatorServer:
    return _rtcsnap_emulator_host


MakeEmulator = Callable[..., Emulator]


@pytest.fixture
def make_emulator(emulator_server: EmulatorServer, emulator: Emulator) -> MakeEmulator:
    def make(
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        auth_clock: Clock | None = None,
        **overrides: Any,
    ) -> Emulator:
        if config is not None and overrides:
            raise TypeError("pass either a config or overrides for new_config(), not both")
        overrides.setdefault("keys", emulator.config.keys)
        made = Emulator(config or new_config(**overrides), clock=clock, auth_clock=auth_clock)
        emulator_server.emulator = made
        return made

    return make


@pytest.fixture
def emulator_client(emulator_server: EmulatorServer) -> Iterator[EmulatorClient]:
    with EmulatorClient.for_server(emulator_server) as client:
        yield client


__all__ = [
    "DEFAULT_VERSION",
    "TEST_ACCESS_KEY",
    "EmulatorClient",
    "MakeEmulator",
    "emulator",
    "emulator_client",
    "emulator_server",
    "make_emulator",
    "new_config",
]
