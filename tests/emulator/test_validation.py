"""Body handling: empty/unparsable bodies, lenient resets, and the codes for what cannot be reset."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from rtcsnap.emulator import Emulator
from rtcsnap.models import RtcSnapLenientWarning
from rtcsnap.testing.emulator import EmulatorClient

from tests.emulator.helpers import APP, ROOM, TASK, code, error, start_body, task_body


def _image(client: EmulatorClient) -> dict[str, Any]:
    task: dict[str, Any] = client.get_task(APP, ROOM, TASK).json()["Result"]["SnapshotTask"]
    return task


@pytest.mark.parametrize("action", ["StartSnapshot", "UpdateSnapshot", "StopSnapshot"])
def test_empty_body(emulator_client: EmulatorClient, action: str) -> None:
    resp = emulator_client.call(action, b"")
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.BodyIsEmpty")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}", b"   "])
def test_unparsable_body(emulator_client: EmulatorClient, raw: bytes) -> None:
    resp = emulator_client.call("StartSnapshot", raw)
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.Unmarshal")


# Resets are 2022-06-01 behaviour only; 2023-11-01 rejects instead (test_version_strictness.py).
RESETS = "2022-06-01"


def test_interval_zero_is_reset_to_two(emulator_client: EmulatorClient) -> None:
    body = start_body(ImageConfig={"Interval": 0})
    assert code(emulator_client.call("StartSnapshot", body, version=RESETS)) == "OK"
    assert _image(emulator_client)["ImageConfig"]["Interval"] == 2


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ({"Format": 7}, {"Format": 0}),
        ({"Width": 5000, "Height": -1}, {"Width": 0, "Height": 0}),
        ({"Interval": 601}, {"Interval": 2}),
        ({"Interval": "often"}, {"Interval": 2}),
    ],
)
def test_invalid_image_values_are_reset(
    emulator_client: EmulatorClient, image: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert code(emulator_client.call("StartSnapshot", start_body(ImageConfig=image), version=RESETS)) == "OK"
    got = _image(emulator_client)["ImageConfig"]
    assert {k: got[k] for k in expected} == expected


def test_max_idle_time_range_depends_on_the_version(emulator_client: EmulatorClient) -> None:
    """5 s is inside [1, 86400] (2022-06-01) but below 2023-11-01's minimum of 10 (A6)."""
    assert (
        code(emulator_client.call("StartSnapshot", start_body(MaxIdleTime=5), version="2022-06-01")) == "OK"
    )
    assert _image(emulator_client)["MaxIdleTime"] == 5
    resp = emulator_client.call("StartSnapshot", start_body(TaskId="t2", MaxIdleTime=5), version="2023-11-01")
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter")
    assert "MaxIdleTime" in error(resp)["Message"]


def test_unknown_fields_are_ignored(emulator_client: EmulatorClient) -> None:
    assert code(emulator_client.call("StartSnapshot", start_body(Surprise=1))) == "OK"


def test_lenient_warnings_do_not_leak_into_the_test_process(emulator_client: EmulatorClient) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 0}, Extra=1))
    assert [w for w in seen if issubclass(w.category, RtcSnapLenientWarning)] == []


@pytest.mark.parametrize("room", ["bad room!", "", "x" * 129, 42, None])
def test_illegal_room_id(emulator: Emulator, emulator_client: EmulatorClient, room: Any) -> None:
    body = start_body()
    if room is None:
        del body["RoomId"]
    else:
        body["RoomId"] = room
    resp = emulator_client.call("StartSnapshot", body)
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.IllegalRoomID")
    assert error(resp)["Message"].startswith("RoomId ")
    assert emulator.registry.tasks() == []


def test_illegal_room_id_on_get(emulator_client: EmulatorClient) -> None:
    assert code(emulator_client.get_task(APP, "bad room", TASK)) == "InvalidParameter.IllegalRoomID"
    resp = emulator_client.call("GetSnapshotTask", query={"AppId": APP, "TaskId": TASK})
    assert code(resp) == "InvalidParameter.IllegalRoomID"


@pytest.mark.parametrize("app", ["", "a/b", None, 7])
def test_illegal_app_id(emulator_client: EmulatorClient, app: Any) -> None:
    body = start_body()
    if app is None:
        del body["AppId"]
    else:
        body["AppId"] = app
    resp = emulator_client.call("StartSnapshot", body)
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.IllegalAppId")


@pytest.mark.parametrize(
    "storage",
    [
        {"Type": 0, "TosConfig": {"AccountId": "", "Bucket": "b"}},
        {"Type": 0, "TosConfig": {"Bucket": "b"}},
        {"Type": 3, "VeImageXConfig": {"ServiceId": "svc"}},
        {"Type": 3, "VeImageXConfig": {"AccountId": "  ", "ServiceId": "svc"}},
    ],
)
def test_empty_account_id(emulator_client: EmulatorClient, storage: dict[str, Any]) -> None:
    resp = emulator_client.call("StartSnapshot", start_body(StorageConfig=storage))
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter.EmptyAccountId")
    assert "AccountId" in error(resp)["Message"]


@pytest.mark.parametrize(
    ("body", "path", "rule"),
    [
        (start_body(TaskId="bad task"), "TaskId", "must match"),
        (start_body(StorageConfig=None), "StorageConfig", "is required"),
        (start_body(StorageConfig={"Type": 1}), "StorageConfig.Type", "must be"),
        (
            start_body(StorageConfig={"Type": 0, "TosConfig": {"AccountId": "1"}}),
            "StorageConfig.TosConfig.Bucket",
            "is required",
        ),
        (
            start_body(
                TargetStreams={"StreamList": [{"UserId": "u", "Index": 1}, {"UserId": "v", "Index": 1}]}
            ),
            "TargetStreams.StreamList[1].Index",
            "unique",
        ),
        (
            start_body(TargetStreams={"StreamList": [{"UserId": f"u{i}"} for i in range(18)]}),
            "TargetStreams.StreamList",
            "at most 17",
        ),
    ],
)
def test_other_errors_are_invalid_parameter_naming_path_and_rule(
    emulator_client: EmulatorClient, body: dict[str, Any], path: str, rule: str
) -> None:
    resp = emulator_client.call("StartSnapshot", body)
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter")
    message = error(resp)["Message"]
    assert f"{path}: " in message and rule in message, message


def test_secrets_never_appear_in_error_messages(emulator_client: EmulatorClient) -> None:
    storage = {
        "Type": 2,
        "CustomConfig": {"Vendor": 99, "Bucket": "b", "AccessKey": "AK-SECRET-1", "SecretKey": "SK-SECRET-2"},
    }
    resp = emulator_client.call("StartSnapshot", start_body(StorageConfig=storage))
    assert code(resp) == "InvalidParameter"
    assert "SECRET" not in resp.text


def test_update_and_stop_validate_ids(emulator_client: EmulatorClient) -> None:
    assert (
        code(emulator_client.call("StopSnapshot", task_body(RoomId="a b")))
        == "InvalidParameter.IllegalRoomID"
    )
    assert code(emulator_client.call("UpdateSnapshot", task_body(TaskId=None))) == "InvalidParameter"
