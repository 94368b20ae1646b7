"""QPS quota: sliding one-second window per account and action, on an injected clock (no sleeps)."""

from __future__ import annotations

import pytest
from rtcsnap.emulator import ManualClock
from rtcsnap.testing.emulator import EmulatorClient, MakeEmulator

from tests.emulator.helpers import code, task_body

THROTTLED = "FlowLimitExceeded.QPSOverLimit"
PASSED = "InvalidParameter.ErrorActiveTaskNotFound"  # StopSnapshot of an unknown task: got past the quota


def _stop(client: EmulatorClient) -> str:
    return code(client.call("StopSnapshot", task_body()))


@pytest.fixture
def clock(make_emulator: MakeEmulator) -> ManualClock:
    clock = ManualClock(1_700_000_000.0)
    make_emulator(clock=clock, qps={"StopSnapshot": 5})
    return clock


def test_sixth_request_in_a_second_is_rejected_then_the_window_reopens(
    clock: ManualClock, emulator_client: EmulatorClient
) -> None:
    assert [_stop(emulator_client) for _ in range(5)] == [PASSED] * 5
    resp = emulator_client.call("StopSnapshot", task_body())
    assert (resp.status_code, code(resp)) == (429, THROTTLED)
    assert "CodeN" not in resp.json()["ResponseMetadata"]["Error"]
    clock.advance(0.999)
    assert _stop(emulator_client) == THROTTLED
    clock.advance(0.001)  # exactly one second after the first five
    assert [_stop(emulator_client) for _ in range(5)] == [PASSED] * 5
    assert _stop(emulator_client) == THROTTLED


def test_rejected_requests_do_not_use_the_quota(clock: ManualClock, emulator_client: EmulatorClient) -> None:
    for _ in range(5):
        _stop(emulator_client)
    clock.advance(0.5)
    assert [_stop(emulator_client) for _ in range(3)] == [THROTTLED] * 3
    clock.advance(0.5)
    assert [_stop(emulator_client) for _ in range(5)] == [PASSED] * 5


def test_window_slides(clock: ManualClock, emulator_client: EmulatorClient) -> None:
    for _ in range(3):
        _stop(emulator_client)
    clock.advance(0.6)
    assert [_stop(emulator_client) for _ in range(3)] == [PASSED, PASSED, THROTTLED]
    clock.advance(0.4)  # the first three left the window, the two at +0.6 are still in it
    assert [_stop(emulator_client) for _ in range(4)] == [PASSED, PASSED, PASSED, THROTTLED]


def test_quota_is_per_action(clock: ManualClock, emulator_client: EmulatorClient) -> None:
    for _ in range(5):
        _stop(emulator_client)
    assert _stop(emulator_client) == THROTTLED
    assert code(emulator_client.call("UpdateSnapshot", task_body())) == PASSED


def test_quota_is_per_account(make_emulator: MakeEmulator, emulator_client: EmulatorClient) -> None:
    make_emulator(
        clock=ManualClock(1_700_000_000.0),
        qps={"StopSnapshot": 2},
        keys={"AK1": "s1", "AK2": "s2", "AK3": "s3"},
        accounts={"AK1": "acct", "AK2": "acct"},
    )
    url = emulator_client.url
    with (
        EmulatorClient(url, "AK1", "s1") as a,
        EmulatorClient(url, "AK2", "s2") as b,
        EmulatorClient(url, "AK3", "s3") as c,
    ):
        assert [_stop(a), _stop(b), _stop(a)] == [PASSED, PASSED, THROTTLED]
        assert [_stop(c), _stop(c)] == [PASSED, PASSED]


def test_default_quota_comes_from_the_api_table(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    make_emulator(clock=ManualClock(1_700_000_000.0))
    results = [code(emulator_client.get_task("a", "r", "t")) for _ in range(61)]
    assert results[:60] == [PASSED] * 60
    assert results[60] == THROTTLED
