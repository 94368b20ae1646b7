"""Fault injection: every catalogue code on demand, lost responses after commit, counters."""

from __future__ import annotations

import logging

import httpx
import pytest
from rtcsnap.emulator import Emulator
from rtcsnap.protocol import codes
from rtcsnap.testing.emulator import EmulatorClient

from tests.emulator.helpers import APP, ROOM, TASK, code, error, start_body, task_body


@pytest.mark.parametrize("entry", list(codes.ALL.values()), ids=list(codes.ALL))
def test_fail_answers_with_exactly_the_catalogue_code(
    emulator: Emulator, emulator_client: EmulatorClient, entry: codes.ErrorCode
) -> None:
    emulator.faults.fail("StartSnapshot", entry.code)
    resp = emulator_client.call("StartSnapshot", start_body())
    assert resp.status_code == entry.http_status
    err = error(resp)
    assert err["Code"] == entry.code
    assert err.get("CodeN") == entry.code_n
    assert ("CodeN" in err) == (entry.code_n is not None)
    assert "Result" not in resp.json()
    assert emulator.registry.tasks() == []  # nothing happened
    assert code(emulator_client.call("StartSnapshot", start_body())) == "OK"  # times=1


def test_fail_comes_before_authentication(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    emulator.faults.fail("StopSnapshot", "InternalServiceTimeout", message="backend slow")
    resp = emulator_client.send("POST", {"Action": "StopSnapshot", "Version": "2022-06-01"}, b"", {})
    assert (resp.status_code, error(resp)) == (
        504,
        {"CodeN": 100016, "Code": "InternalServiceTimeout", "Message": "backend slow"},
    )


def test_fail_times_and_other_actions(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    emulator.faults.fail("StopSnapshot", "FlowLimitExceeded.QPSOverLimit", times=2)
    assert code(emulator_client.call("StartSnapshot", start_body())) == "OK"
    stops = [code(emulator_client.call("StopSnapshot", task_body())) for _ in range(3)]
    assert stops == ["FlowLimitExceeded.QPSOverLimit", "FlowLimitExceeded.QPSOverLimit", "OK"]


def test_fail_until_clear(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    emulator.faults.fail("GetSnapshotTask", "InternalError", times=None)
    assert [code(emulator_client.get_task(APP, ROOM, TASK)) for _ in range(3)] == ["InternalError"] * 3
    emulator.faults.clear()
    assert code(emulator_client.get_task(APP, ROOM, TASK)) == "InvalidParameter.ErrorActiveTaskNotFound"


def test_fault_arguments_are_checked(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="catalogue"):
        emulator.faults.fail("StartSnapshot", "NoSuchCode")
    with pytest.raises(ValueError, match="unknown action"):
        emulator.faults.fail("StartSnapshots", "InternalError")
    with pytest.raises(ValueError, match="times"):
        emulator.faults.drop_after_commit("StartSnapshot", times=0)


def test_drop_after_commit_registers_the_task_but_loses_the_response(
    emulator: Emulator, emulator_client: EmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.faults.drop_after_commit("StartSnapshot")
    with caplog.at_level(logging.DEBUG), pytest.raises(httpx.RemoteProtocolError):
        emulator_client.call("StartSnapshot", start_body(), version="2022-06-01")
    assert [t.key.task_id for t in emulator.registry.running()] == [TASK]
    assert emulator.faults.dropped["StartSnapshot"] == 1
    assert emulator.faults.outcomes[("StartSnapshot", "OK")] == 1
    # the client's retry meets the committed task
    assert (
        code(emulator_client.call("StartSnapshot", start_body(), version="2022-06-01"))
        == "InvalidParameter.TaskAlreadyExists"
    )
    assert emulator_client.get_task(APP, ROOM, TASK).json()["Result"]["SnapshotTask"]["Status"] == 2
    # deliberate drops are not logged as application errors
    assert not [r for r in caplog.records if "ASGI callable" in r.getMessage()]


def test_drop_after_commit_of_stop(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body())
    emulator.faults.drop_after_commit("StopSnapshot", times=2)
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            emulator_client.call("StopSnapshot", task_body())
    assert emulator.registry.running() == []
    assert emulator.faults.outcomes[("StopSnapshot", "InvalidParameter.ErrorActiveTaskNotFound")] == 1
    assert (
        code(emulator_client.call("StopSnapshot", task_body())) == "InvalidParameter.ErrorActiveTaskNotFound"
    )


def test_counters(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body())
    emulator_client.call("StartSnapshot", start_body())
    emulator_client.call("StopSnapshot", task_body(TaskId="nope"))
    emulator_client.send("POST", {"Version": "2023-11-01"}, b"", {})
    emulator_client.send("POST", {"Action": "StopSnapshot", "Version": "2023-11-01"}, b"", {})
    faults = emulator.faults
    assert faults.requests == {"StartSnapshot": 2, "StopSnapshot": 2, "": 1}
    assert faults.count("StartSnapshot", "OK") == 2
    assert faults.count("StopSnapshot") == 2
    assert faults.count(code="MissingAuthenticationToken") == 1
    assert faults.count("", "MissingParameter") == 1
    assert faults.count() == 5
    faults.clear()
    assert faults.requests == {} and faults.count() == 0


def test_reset_forgets_everything(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body())
    emulator.faults.fail("StartSnapshot", "InternalError")
    emulator.reset()
    assert emulator.registry.tasks() == []
    assert code(emulator_client.call("StartSnapshot", start_body())) == "OK"
