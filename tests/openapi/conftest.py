from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rtcsnap.emulator import Emulator, EmulatorServer
from rtcsnap.openapi.client import AsyncSnapshotClient, SnapshotClient
from rtcsnap.retry import RetryPolicy

FAST = RetryPolicy(attempts=5, base=0.001, cap=0.01)
BODY: dict[str, Any] = {
    "app_id": "app1",
    "room_id": "room1",
    "task_id": "task1",
    "storage_config": {
        "type": 0,
        "tos_config": {"account_id": "2000000000", "bucket": "b", "region": "cn-beijing"},
    },
}

MakeClient = Callable[..., SnapshotClient]


def client_kwargs(server: EmulatorServer, emulator: Emulator, **kw: Any) -> dict[str, Any]:
    ak, sk = next(iter(emulator.config.keys.items()))
    base: dict[str, Any] = {"access_key": ak, "secret_key": sk, "endpoint": server.url, "retry": FAST}
    return {**base, **kw}


@pytest.fixture
def make_client(emulator_server: EmulatorServer, emulator: Emulator) -> Iterator[MakeClient]:
    made: list[SnapshotClient] = []

    def make(**kw: Any) -> SnapshotClient:
        c = SnapshotClient(**client_kwargs(emulator_server, emulator, **kw))
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(make_client: MakeClient) -> SnapshotClient:
    return make_client()


@pytest.fixture
def aclient_kwargs(emulator_server: EmulatorServer, emulator: Emulator) -> dict[str, Any]:
    return client_kwargs(emulator_server, emulator)


__all__ = ["BODY", "FAST", "AsyncSnapshotClient"]
