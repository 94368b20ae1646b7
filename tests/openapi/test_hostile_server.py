"""The client against servers that misbehave: unreadable throttling, Retry-After, dripping answers.

A scripted raw server (tests/openapi/hostile.py) plays the part, because the emulator answers
properly by design. Timings are asserted with generous slack but the waits themselves are the
client's own (Retry-After, deadlines), never sleeps in the test.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from rtcsnap import errors as e
from rtcsnap.openapi.client import AsyncSnapshotClient, SnapshotClient
from rtcsnap.retry import RetryPolicy

from tests.openapi.conftest import BODY
from tests.openapi.hostile import RawServer, Responder, drip_body, drip_head, envelope, reply

FAST = RetryPolicy(attempts=3, base=0.001, cap=0.01)
THROTTLED = envelope(Code="FlowLimitExceeded.QPSOverLimit", Message="slow down")
IDS: dict[str, Any] = {"app_id": "app1", "room_id": "room1", "task_id": "task1"}


def _client(server: RawServer, **kw: Any) -> SnapshotClient:
    base: dict[str, Any] = {
        "access_key": "AKLTraw",
        "secret_key": "raw-secret-value",
        "endpoint": server.url,
        "retry": FAST,
    }
    return SnapshotClient(**{**base, **kw})


def _gap(server: RawServer) -> float:
    return server.arrivals[1] - server.arrivals[0]


# ---------------------------------------------------------------- unreadable answers: the status decides


def test_a_non_json_429_is_throttling_and_is_retried() -> None:
    html = reply(429, b"<html><body>Too Many Requests</body></html>", content_type="text/html")
    with RawServer(html, reply(200, envelope())) as server, _client(server) as client:
        result = client.start(**BODY)
    assert (result.outcome, result.attempts) == ("started", 2)


def test_a_non_json_429_that_never_clears_raises_throttled_error() -> None:
    with (
        RawServer(reply(429, b"busy", content_type="text/plain")) as server,
        _client(server) as client,
        pytest.raises(e.ThrottledError) as err,
    ):
        client.start(**BODY)
    assert err.value.retryable and err.value.http_status == 429
    assert server.requests == FAST.attempts


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_non_json_5xx_is_a_server_error_and_is_retried(status: int) -> None:
    with (
        RawServer(
            reply(status, b"<html>gateway</html>", content_type="text/html"), reply(200, envelope())
        ) as server,
        _client(server) as client,
    ):
        assert client.start(**BODY).attempts == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_a_non_json_4xx_is_not_retried(status: int) -> None:
    with (
        RawServer(reply(status, b"nope", content_type="text/plain"), reply(200, envelope())) as server,
        _client(server) as client,
        pytest.raises(e.OpenAPIError) as err,
    ):
        client.start(**BODY)
    assert not err.value.retryable and err.value.http_status == status
    assert server.requests == 1


def test_an_envelope_with_an_unknown_code_on_429_is_throttling() -> None:
    odd = reply(429, envelope(Code="SomethingNew", Message="?"))
    with RawServer(odd, reply(200, envelope())) as server, _client(server) as client:
        assert client.start(**BODY).attempts == 2


# ---------------------------------------------------------------- Retry-After


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_the_minimum_wait(status: int) -> None:
    body = THROTTLED if status == 429 else envelope(Code="InternalError", Message="later", CodeN=100014)
    first = reply(status, body, [("Retry-After", "1")])
    with RawServer(first, reply(200, envelope())) as server, _client(server) as client:
        assert client.start(**BODY).attempts == 2
    assert _gap(server) >= 0.95, "the backoff alone (<= 10 ms) would have retried at once"


def test_retry_after_on_an_unreadable_429_is_honoured() -> None:
    first = reply(429, b"<html>slow down</html>", [("Retry-After", "1")], content_type="text/html")
    with RawServer(first, reply(200, envelope())) as server, _client(server) as client:
        assert client.start(**BODY).attempts == 2
    assert _gap(server) >= 0.95


def test_retry_after_beyond_the_cap_waits_the_cap() -> None:
    policy = RetryPolicy(attempts=3, base=0.001, cap=0.01, retry_after_cap=0.4)
    first = reply(429, THROTTLED, [("Retry-After", "3600")])
    with RawServer(first, reply(200, envelope())) as server, _client(server, retry=policy) as client:
        assert client.start(**BODY).attempts == 2
    assert 0.35 <= _gap(server) < 3.0


def test_retry_after_past_the_total_deadline_gives_up_at_once() -> None:
    first = reply(429, THROTTLED, [("Retry-After", "20")])
    with RawServer(first, reply(200, envelope())) as server, _client(server, total_timeout=5.0) as client:
        started = time.monotonic()
        with pytest.raises(e.ThrottledError):
            client.start(**BODY)
        elapsed = time.monotonic() - started
    assert server.requests == 1 and elapsed < 2.0


def test_retry_after_is_ignored_on_errors_that_are_not_retried() -> None:
    bad = reply(400, envelope(Code="InvalidParameter", Message="no"), [("Retry-After", "1")])
    with RawServer(bad) as server, _client(server) as client, pytest.raises(e.InvalidRequestError):
        client.start(**BODY)
    assert server.requests == 1


def test_parse_retry_after_forms() -> None:
    from rtcsnap.openapi.client import parse_retry_after

    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=12), usegmt=True), now) == 12.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=12), usegmt=True), now) == 0.0
    for junk in (None, "", "soon", "-3", "1e9", "Mon, 99 Foo 2024"):
        assert parse_retry_after(junk, now) is None, junk


# ---------------------------------------------------------------- deadlines against a dripping server

DRIPS: list[tuple[str, Responder]] = [("body", drip_body(0.1)), ("head", drip_head(0.1))]


@pytest.mark.parametrize(("_name", "drip"), DRIPS, ids=[n for n, _ in DRIPS])
def test_a_dripping_server_cannot_hold_a_call_past_its_attempt_deadlines(_name: str, drip: Responder) -> None:
    """One byte every 0.1 s never trips the 1 s per-read timeout; the 0.5 s attempt deadline does."""
    policy = RetryPolicy(attempts=2, base=0.001, cap=0.001)
    with RawServer(drip) as server, _client(server, timeout=1.0, attempt_timeout=0.5, retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(e.TransportError) as err:
            client.stop(**IDS)
        elapsed = time.monotonic() - started
    assert server.requests == 2
    assert 0.9 <= elapsed < 0.5 * 2 + 1.5, elapsed
    assert "attempt deadline" in str(err.value)


def test_the_total_deadline_bounds_all_attempts() -> None:
    policy = RetryPolicy(attempts=10, base=0.001, cap=0.001)
    with (
        RawServer(drip_body(0.1)) as server,
        _client(server, attempt_timeout=0.5, total_timeout=1.2, retry=policy) as client,
    ):
        started = time.monotonic()
        with pytest.raises(e.TransportError) as err:
            client.stop(**IDS)
        elapsed = time.monotonic() - started
    assert elapsed < 1.2 + 1.0, elapsed
    assert server.requests <= 3
    assert "total deadline" in str(err.value)


@pytest.mark.parametrize(("_name", "drip"), DRIPS, ids=[n for n, _ in DRIPS])
async def test_the_async_client_has_the_same_deadlines(_name: str, drip: Responder) -> None:
    policy = RetryPolicy(attempts=2, base=0.001, cap=0.001)
    with RawServer(drip) as server:
        async with AsyncSnapshotClient(
            "AKLTraw", "raw-secret-value", endpoint=server.url, timeout=1.0, attempt_timeout=0.5, retry=policy
        ) as client:
            started = time.monotonic()
            with pytest.raises(e.TransportError) as err:
                await client.stop(**IDS)
            elapsed = time.monotonic() - started
    assert server.requests == 2
    assert 0.9 <= elapsed < 0.5 * 2 + 1.5, elapsed
    assert "attempt deadline" in str(err.value)


async def test_async_retry_after_is_honoured() -> None:
    first = reply(429, THROTTLED, [("Retry-After", "1")])
    with RawServer(first, reply(200, envelope())) as server:
        async with AsyncSnapshotClient(
            "AKLTraw", "raw-secret-value", endpoint=server.url, retry=FAST
        ) as client:
            assert (await client.start(**BODY)).attempts == 2
    assert _gap(server) >= 0.95


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_deadlines_must_be_positive(bad: float) -> None:
    with pytest.raises(e.ConfigurationError, match="attempt_timeout"):
        SnapshotClient("AKLTraw", "raw-secret-value", endpoint="http://127.0.0.1:9", attempt_timeout=bad)
