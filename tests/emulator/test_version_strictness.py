"""Over HTTP: only 2022-06-01 resets invalid optional values; 2023-11-01 rejects them (spec §9 #7).

The emulator parses bodies with the shared models in lenient mode for the request's version,
so the version's behaviour reaches the wire unchanged: a 2023-11-01 body the older version
would have repaired is answered with the documented ``InvalidParameter`` envelope naming the
field and the rule, and no task is created.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from rtcsnap.emulator import Emulator
from rtcsnap.testing.emulator import EmulatorClient

# Local twins of tests.emulator.helpers' body builders: that module imports the untyped
# volcengine SDK, and this file must type-check on its own.
APP, ROOM, TASK = "app-1", "room-1", "task-1"


def start_body(**fields: Any) -> dict[str, Any]:
    """A valid StartSnapshot body (TOS storage) plus `fields`."""
    storage = {"Type": 0, "TosConfig": {"AccountId": "2000000000", "Bucket": "snaps"}}
    return {"AppId": APP, "RoomId": ROOM, "TaskId": TASK, "StorageConfig": storage, **fields}


def task_body(**fields: Any) -> dict[str, Any]:
    """An UpdateSnapshot body for the task `start_body` starts."""
    return {"AppId": APP, "RoomId": ROOM, "TaskId": TASK, **fields}


def code(resp: httpx.Response) -> str:
    """Error.Code, or "OK" for an answer without Error."""
    meta = resp.json()["ResponseMetadata"]
    return str(meta["Error"]["Code"]) if "Error" in meta else "OK"


# (ImageConfig sent, the field that is invalid, the rule it breaks, what 2022-06-01 stores instead)
INVALID = [
    pytest.param({"Interval": 0}, "Interval", "must be between 1 and 600", 2, id="interval-low"),
    pytest.param({"Interval": 601}, "Interval", "must be between 1 and 600", 2, id="interval-high"),
    pytest.param({"Interval": "often"}, "Interval", "must be an integer", 2, id="interval-type"),
    pytest.param({"Width": 5000}, "Width", "must be between 0 and 1920", 0, id="width"),
    pytest.param({"Format": 7}, "Format", "must be 0 (JPEG) or 1 (PNG)", 0, id="format"),
]


def _task(client: EmulatorClient, version: str) -> dict[str, Any]:
    resp = client.get_task(APP, ROOM, TASK, version=version)
    assert code(resp) == "OK", resp.text
    task: dict[str, Any] = resp.json()["Result"]["SnapshotTask"]
    return task


@pytest.mark.parametrize(("image", "field", "rule", "default"), INVALID)
def test_2023_11_01_rejects_an_invalid_optional_value(
    emulator: Emulator,
    emulator_client: EmulatorClient,
    image: dict[str, Any],
    field: str,
    rule: str,
    default: int,
) -> None:
    resp = emulator_client.call("StartSnapshot", start_body(ImageConfig=image), version="2023-11-01")
    assert resp.status_code == 400
    body = resp.json()
    assert list(body) == ["ResponseMetadata"]  # no Result on errors
    meta = body["ResponseMetadata"]
    assert (meta["Action"], meta["Version"]) == ("StartSnapshot", "2023-11-01")
    error = meta["Error"]
    assert list(error) == ["Code", "Message"]  # a business error: no CodeN
    assert error["Code"] == "InvalidParameter"
    assert f"ImageConfig.{field}: {rule}" in error["Message"], error["Message"]
    assert emulator.registry.tasks() == []


@pytest.mark.parametrize(("image", "field", "rule", "default"), INVALID)
def test_2022_06_01_accepts_the_same_body_with_the_value_reset(
    emulator_client: EmulatorClient, image: dict[str, Any], field: str, rule: str, default: int
) -> None:
    resp = emulator_client.call("StartSnapshot", start_body(ImageConfig=image), version="2022-06-01")
    assert (resp.status_code, code(resp)) == (200, "OK")
    assert _task(emulator_client, "2022-06-01")["ImageConfig"][field] == default


@pytest.mark.parametrize(
    ("version", "status", "answer"), [("2022-06-01", 200, "OK"), ("2023-11-01", 400, "InvalidParameter")]
)
def test_max_idle_time_below_the_range_is_reset_or_rejected_by_version(
    emulator_client: EmulatorClient, version: str, status: int, answer: str
) -> None:
    resp = emulator_client.call("StartSnapshot", start_body(MaxIdleTime=0), version=version)
    assert (resp.status_code, code(resp)) == (status, answer)
    if answer == "OK":
        assert _task(emulator_client, version)["MaxIdleTime"] == 180


def test_update_2023_11_01_rejects_an_invalid_interval_and_keeps_the_old_one(
    emulator_client: EmulatorClient,
) -> None:
    assert code(emulator_client.call("StartSnapshot", start_body(ImageConfig={"Interval": 5}))) == "OK"
    resp = emulator_client.call(
        "UpdateSnapshot", task_body(ImageConfig={"Interval": 0}), version="2023-11-01"
    )
    assert (resp.status_code, code(resp)) == (400, "InvalidParameter")
    assert _task(emulator_client, "2023-11-01")["ImageConfig"]["Interval"] == 5
    resp = emulator_client.call(
        "UpdateSnapshot", task_body(ImageConfig={"Interval": 0}), version="2022-06-01"
    )
    assert code(resp) == "OK"
    assert _task(emulator_client, "2022-06-01")["ImageConfig"]["Interval"] == 2


def test_2023_11_01_still_ignores_unknown_fields(emulator_client: EmulatorClient) -> None:
    """Only the reset was removed; an unknown key is ignored by both versions (not an error)."""
    resp = emulator_client.call("StartSnapshot", start_body(Surprise=1), version="2023-11-01")
    assert (resp.status_code, code(resp)) == (200, "OK")
