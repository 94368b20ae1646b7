"""Fixtures for the OBS tests: one in-process `LocalOBSServer` per session, targets in the three
ways the provider reaches a server, and an environment without a developer's OBS keys."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.obsserver import LocalOBSServer

MODES = ("obs", "v4", "v2")
"""How a target reaches the server: ``obs`` virtual-host through the server as proxy (the SDK's
production setup, OBS signature), ``v4``/``v2`` path-style on the IP endpoint."""
OBS_ENV = ("OBS_ACCESS_KEY_ID", "OBS_SECRET_ACCESS_KEY", "OBS_SECURITY_TOKEN")


@pytest.fixture(autouse=True)
def no_obs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OBS_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def obs_server(local_obs: LocalOBSServer) -> Iterator[LocalOBSServer]:
    local_obs.faults.clear()
    yield local_obs
    local_obs.faults.clear()


@pytest.fixture
def bucket(obs_server: LocalOBSServer) -> str:
    return obs_server.create_bucket(new_bucket_name("obs"))


def target_for(
    server: LocalOBSServer,
    bucket: str,
    creds: tuple[str, str],
    mode: str = "obs",
    prefix: str = "snaps",
) -> StorageTarget:
    """An ``obs://`` target on `server` in `mode` (see `MODES`)."""
    query: dict[str, str] = {"region": server.region}
    if mode == "obs":
        query |= {"endpoint": server.virtual_endpoint, "proxy": f"{server.host}:{server.port}"}
    else:
        query |= {"endpoint": server.endpoint, "signature": mode}
    url = (
        f"obs://{bucket}/{prefix}?{urlencode(query, safe=':/')}"
        if prefix
        else f"obs://{bucket}?{urlencode(query, safe=':/')}"
    )
    return StorageTarget.parse(url, access_key=creds[0], secret_key=creds[1])
