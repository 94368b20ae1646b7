"""AsyncSnapshotClient, credential sources, isolation between clients, and secret hygiene."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from rtcsnap import errors as e
from rtcsnap.emulator import Emulator
from rtcsnap.openapi.client import AsyncSnapshotClient
from rtcsnap.openapi.ratelimit import RateLimiter
from rtcsnap.retry import RetryPolicy
from rtcsnap.volc_credentials import resolve_credentials

from tests.openapi.conftest import BODY

IDS: dict[str, Any] = {"app_id": "app1", "room_id": "room1", "task_id": "task1"}


async def test_async_lifecycle_and_lost_response(aclient_kwargs: dict[str, Any], emulator: Emulator) -> None:
    async with AsyncSnapshotClient(**aclient_kwargs) as client:
        emulator.faults.drop_after_commit("StartSnapshot")
        r = await client.start(api_version="2023-11-01", **BODY)
        assert (r.outcome, r.attempts) == ("already_started", 2)
        await client.update(**IDS, image_config={"interval": 11})
        task = (await client.get_task(**IDS)).task
        assert task is not None and task.image_config is not None and task.image_config.interval == 11
        emulator.faults.fail("StopSnapshot", "InternalError")
        assert (await client.stop(**IDS)).outcome == "stopped"
        with pytest.raises(e.TaskNotFoundError):
            await client.stop(**IDS)


async def test_async_rate_limit_waits_without_blocking_the_loop() -> None:
    limiter = RateLimiter(20)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    start = time.monotonic()
    for _ in range(30):
        (await limiter.acquire_async()).release()
    elapsed = time.monotonic() - start
    done.set()
    await task
    assert elapsed >= 0.45, "30 permits at 20/s take at least ~0.5 s"
    assert ticks > 30, "the event loop kept running other coroutines while the limiter waited"


def test_clients_with_different_keys_share_nothing(make_client: Any) -> None:
    a = make_client(access_key="AKLTone", secret_key="secret-one")
    b = make_client(access_key="AKLTtwo", secret_key="secret-two")
    assert a.credentials.access_key == "AKLTone" and b.credentials.access_key == "AKLTtwo"
    assert a.limiter("StartSnapshot") is not b.limiter("StartSnapshot")
    assert a._http is not b._http
    c = make_client(access_key="AKLTone", secret_key="secret-one")
    assert a.limiter("StartSnapshot") is c.limiter("StartSnapshot"), "same key, same account quota"


def test_credential_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for v in ("VOLC_ACCESSKEY", "VOLC_SECRETKEY", "VOLC_SESSION_TOKEN"):
        monkeypatch.delenv(v, raising=False)
    with pytest.raises(e.ConfigurationError, match="VOLC_ACCESSKEY"):
        resolve_credentials()
    (tmp_path / ".volc").mkdir()
    (tmp_path / ".volc" / "config").write_text('{"ak": "AKjson", "sk": "SKjson"}')
    assert resolve_credentials().access_key == "AKjson"
    (tmp_path / ".volc" / "credentials").write_text(
        "[default]\naccess_key_id = AKini\nsecret_access_key = SKini\n"
    )
    assert resolve_credentials().access_key == "AKini"
    monkeypatch.setenv("VOLC_ACCESSKEY", "AKenv")
    monkeypatch.setenv("VOLC_SECRETKEY", "SKenv")
    monkeypatch.setenv("VOLC_SESSION_TOKEN", "TOKenv")
    c = resolve_credentials()
    assert (c.access_key, c.session_token.get_secret_value() if c.session_token else None) == (
        "AKenv",
        "TOKenv",
    )
    assert resolve_credentials("AKx", "SKx").access_key == "AKx"
    with pytest.raises(e.ConfigurationError, match="both"):
        resolve_credentials("AKx", None)


def test_sts_token_is_signed_and_accepted(make_client: Any, make_emulator: Any) -> None:
    make_emulator(keys={"AKLTsts": "sts-secret"}, sessions={"AKLTsts": "the-session-token"})
    client = make_client(access_key="AKLTsts", secret_key="sts-secret", session_token="the-session-token")
    assert client.start(**BODY).outcome == "started"
    prepared = client.prepare("StopSnapshot", **IDS)
    assert "x-security-token" in prepared.headers["Authorization"]
    assert "the-session-token" not in prepared.describe()
    wrong = make_client(access_key="AKLTsts", secret_key="sts-secret", session_token="other-token")
    with pytest.raises(e.AuthenticationError):
        wrong.stop(**IDS)


def test_no_secret_in_logs_errors_or_reprs(
    make_client: Any, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _ak, sk = next(iter(emulator.config.keys.items()))
    storage_secret = "stor-SECRET-abcdef0123456789"
    body = {
        **BODY,
        "storage_config": {
            "type": 2,
            "custom_config": {
                "vendor": 0,
                "region": "us-east-1",
                "bucket": "b",
                "access_key": "AKIAX",
                "secret_key": storage_secret,
            },
        },
    }
    client = make_client(session_token=None, retry=RetryPolicy(attempts=2, base=0, cap=0))
    texts = [repr(client), str(client.credentials)]
    texts.append(client.prepare("StartSnapshot", **body).describe())
    emulator.faults.fail("StartSnapshot", "InternalError", times=5)
    with pytest.raises(e.ServerError) as err:
        client.start(**body)
    texts += [str(err.value), repr(err.value)]
    bad = make_client(secret_key="definitely-wrong-secret")
    with pytest.raises(e.AuthenticationError) as auth:
        bad.start(**body)
    texts += [str(auth.value), repr(bad)]
    with pytest.raises(e.ValidationError) as val:
        client.start(**{**body, "max_idle_time": 0})
    texts.append(str(val.value))
    everything = "\n".join(texts) + caplog.text
    for secret in (sk, storage_secret, "definitely-wrong-secret"):
        assert secret not in everything
