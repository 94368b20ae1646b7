"""Task lifecycle over HTTP: start/duplicate/update/stop/restart and what GetSnapshotTask reports."""

from __future__ import annotations

from typing import Any

import pytest
from rtcsnap.emulator import ManualClock, StopReason, TaskKey
from rtcsnap.models import SECRET_MASK, TaskStatus
from rtcsnap.testing.emulator import EmulatorClient, MakeEmulator

from tests.emulator.helpers import APP, ROOM, TASK, code, error, start_body, task_body

KEY = TaskKey(APP, ROOM, TASK)


def _task(client: EmulatorClient, version: str = "2023-11-01", **ids: str) -> dict[str, Any]:
    ident = {"app_id": APP, "room_id": ROOM, "task_id": TASK, **ids}
    resp = client.get_task(ident["app_id"], ident["room_id"], ident["task_id"], version=version)
    assert resp.status_code == 200, resp.text
    task: dict[str, Any] = resp.json()["Result"]["SnapshotTask"]
    return task


def test_duplicate_start_2022_is_task_already_exists(emulator_client: EmulatorClient) -> None:
    assert code(emulator_client.call("StartSnapshot", start_body(), version="2022-06-01")) == "OK"
    resp = emulator_client.call("StartSnapshot", start_body(), version="2022-06-01")
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.TaskAlreadyExists")
    assert "Result" not in resp.json()


def test_duplicate_start_keeps_the_first_settings(emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 7}))
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 9}))
    assert _task(emulator_client)["ImageConfig"]["Interval"] == 7


def test_same_task_id_in_another_room_is_another_task(emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body(), version="2022-06-01")
    resp = emulator_client.call("StartSnapshot", start_body(RoomId="room-2"), version="2022-06-01")
    assert code(resp) == "OK"
    assert _task(emulator_client, room_id="room-2")["Status"] == 2


@pytest.mark.parametrize("action", ["UpdateSnapshot", "StopSnapshot"])
@pytest.mark.parametrize("version", ["2022-06-01", "2023-11-01"])
def test_update_or_stop_of_unknown_task(emulator_client: EmulatorClient, action: str, version: str) -> None:
    resp = emulator_client.call(
        action,
        task_body(ImageConfig={"Interval": 5} if action == "UpdateSnapshot" else None),
        version=version,
    )
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.ErrorActiveTaskNotFound")


@pytest.mark.parametrize("action", ["UpdateSnapshot", "StopSnapshot"])
def test_update_or_stop_of_stopped_task(emulator_client: EmulatorClient, action: str) -> None:
    emulator_client.call("StartSnapshot", start_body())
    assert code(emulator_client.call("StopSnapshot", task_body())) == "OK"
    resp = emulator_client.call(action, task_body())
    assert code(resp) == "InvalidParameter.ErrorActiveTaskNotFound"


def test_get_unknown_task(emulator_client: EmulatorClient) -> None:
    resp = emulator_client.get_task(APP, ROOM, "never-started")
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.ErrorActiveTaskNotFound")


def test_get_snapshot_task_reports_effective_values_and_masks_secrets(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    clock = ManualClock(1_700_000_000.25)
    make_emulator(clock=clock)
    body = start_body(
        TargetStreams={"StreamList": [{"UserId": "u1"}, {"UserId": "u2", "StreamType": 1, "Index": 3}]},
        ImageConfig={"Format": 1, "Width": 640},
        MaxIdleTime=60,
        StorageConfig={
            "Type": 2,
            "CustomConfig": {
                "Vendor": 1,
                "Region": 3,
                "Bucket": "b",
                "AccessKey": "AKID-real",
                "SecretKey": "SK-real",
            },
        },
    )
    assert code(emulator_client.call("StartSnapshot", body)) == "OK"
    resp = emulator_client.get_task(APP, ROOM, TASK)
    assert "AKID-real" not in resp.text and "SK-real" not in resp.text
    assert resp.json()["Result"]["SnapshotTask"] == {
        "StartTime": 1_700_000_000_250,
        "EndTime": 0,
        "Status": 2,
        "StopReason": "",
        "TargetStreams": {
            "StreamList": [{"UserId": "u1", "StreamType": 0}, {"UserId": "u2", "StreamType": 1, "Index": 3}]
        },
        "ImageConfig": {"Format": 1, "Width": 640, "Height": 0, "Interval": 2},
        "MaxIdleTime": 60,
        "StorageConfig": {
            "Type": 2,
            "CustomConfig": {
                "Vendor": 1,
                "Region": 3,
                "Bucket": "b",
                "AccessKey": SECRET_MASK,
                "SecretKey": SECRET_MASK,
            },
        },
    }


def test_get_snapshot_task_defaults_for_a_minimal_start(emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body())
    task = _task(emulator_client, version="2022-06-01")
    assert task["TargetStreams"] == {"StreamList": []}
    assert task["ImageConfig"] == {"Format": 0, "Width": 0, "Height": 0, "Interval": 2}
    assert task["MaxIdleTime"] == 180
    assert task["StorageConfig"] == {
        "Type": 0,
        "TosConfig": {"AccountId": "2000000000", "Bucket": "snaps", "Region": 0},
    }


def test_update_changes_only_the_interval(
    emulator_client: EmulatorClient, make_emulator: MakeEmulator
) -> None:
    emulator = make_emulator()
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Format": 0, "Width": 320, "Interval": 5}))
    resp = emulator_client.call(
        "UpdateSnapshot", task_body(ImageConfig={"Interval": 30, "Format": 1, "Width": 1000})
    )
    assert (resp.status_code, resp.json()["Result"]) == (200, "ok")
    assert _task(emulator_client)["ImageConfig"] == {"Format": 0, "Width": 320, "Height": 0, "Interval": 30}
    task = emulator.registry.get(KEY)
    assert task is not None and task.interval == 30


def test_update_without_interval_keeps_it(emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 5}))
    assert code(emulator_client.call("UpdateSnapshot", task_body())) == "OK"
    assert _task(emulator_client)["ImageConfig"]["Interval"] == 5


def test_update_with_an_invalid_interval_resets_it_to_the_default(emulator_client: EmulatorClient) -> None:
    """A 2022-06-01 reset (2023-11-01 rejects the same update: test_version_strictness.py)."""
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 5}))
    update = task_body(ImageConfig={"Interval": 0})
    assert code(emulator_client.call("UpdateSnapshot", update, version="2022-06-01")) == "OK"
    assert _task(emulator_client)["ImageConfig"]["Interval"] == 2


def test_stop_sets_status_reason_and_end_time(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    clock = ManualClock(1_700_000_000.0)
    make_emulator(clock=clock)
    emulator_client.call("StartSnapshot", start_body())
    clock.advance(42.5)
    resp = emulator_client.call("StopSnapshot", task_body(), version="2022-06-01")
    assert (resp.status_code, resp.json()["Result"]) == (200, "ok")
    task = _task(emulator_client)
    assert (task["Status"], task["StopReason"]) == (3, "StopByAPI")
    assert (task["StartTime"], task["EndTime"]) == (1_700_000_000_000, 1_700_000_042_500)


def test_stopped_task_can_be_started_again(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    clock = ManualClock(1_700_000_000.0)
    emulator = make_emulator(clock=clock)
    emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 9}), version="2022-06-01")
    emulator_client.call("StopSnapshot", task_body())
    clock.advance(10)
    resp = emulator_client.call("StartSnapshot", start_body(), version="2022-06-01")
    assert code(resp) == "OK"
    task = _task(emulator_client)
    assert (task["Status"], task["StopReason"], task["EndTime"]) == (2, "", 0)
    assert task["StartTime"] == 1_700_000_010_000
    assert task["ImageConfig"]["Interval"] == 2  # a new run with its own settings
    state = emulator.registry.get(KEY)
    assert state is not None and state.run == 2 and state.status is TaskStatus.RUNNING


def test_tasks_older_than_the_window_are_not_found(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    clock = ManualClock(1_700_000_000.0)
    make_emulator(clock=clock)
    emulator_client.call("StartSnapshot", start_body())
    emulator_client.call("StopSnapshot", task_body())
    clock.advance(72 * 3600)
    assert _task(emulator_client)["Status"] == 3  # exactly 72 h: still visible
    clock.advance(1)
    resp = emulator_client.get_task(APP, ROOM, TASK)
    assert code(resp) == "InvalidParameter.ErrorActiveTaskNotFound"
    assert "72" in error(resp)["Message"]


def test_window_is_configurable(make_emulator: MakeEmulator, emulator_client: EmulatorClient) -> None:
    clock = ManualClock(1_700_000_000.0)
    make_emulator(clock=clock, task_window_hours=1)
    emulator_client.call("StartSnapshot", start_body())
    clock.advance(3601)
    assert code(emulator_client.get_task(APP, ROOM, TASK)) == "InvalidParameter.ErrorActiveTaskNotFound"


def test_registry_records_the_caller_and_version(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    emulator = make_emulator()
    emulator_client.call("StartSnapshot", start_body(BusinessId="biz"), version="2022-06-01")
    task = emulator.registry.get(KEY)
    assert task is not None
    assert (task.access_key, task.api_version.value, task.business_id) == ("AKLTtestkey", "2022-06-01", "biz")
    assert task.storage_config.tos_config is not None
    assert emulator.registry.running() == [task]
    stopped = emulator.registry.stop(KEY, StopReason.IDLE_TIMEOUT)
    assert _task(emulator_client)["StopReason"] == "IdleTimeOut"
    assert stopped.end_time > 0
