"""The response envelope of spec §5.5, exactly; RequestIds; the legacy HTTP-200 error mode."""

from __future__ import annotations

import re

import pytest
from rtcsnap.models import GetSnapshotTaskResponse, SnapshotResponse
from rtcsnap.protocol import api
from rtcsnap.testing.emulator import EmulatorClient, MakeEmulator

from tests.emulator.helpers import APP, ROOM, TASK, start_body

REQUEST_ID = re.compile(r"^\d{14}[0-9A-F]{16}$")
METADATA_KEYS = ["RequestId", "Action", "Version", "Service", "Region"]


@pytest.mark.parametrize("version", ["2022-06-01", "2023-11-01"])
def test_success_envelope_is_exact(emulator_client: EmulatorClient, version: str) -> None:
    resp = emulator_client.call("StartSnapshot", start_body(), version=version)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["ResponseMetadata", "Result"]
    meta = body["ResponseMetadata"]
    assert list(meta) == METADATA_KEYS
    assert REQUEST_ID.match(meta.pop("RequestId"))
    assert meta == {"Action": "StartSnapshot", "Version": version, "Service": "rtc", "Region": "cn-north-1"}
    assert body["Result"] == "ok"
    parsed = SnapshotResponse.from_wire(resp.json())
    assert parsed.error is None and parsed.result == "ok"


def test_gateway_error_envelope_is_exact(emulator_client: EmulatorClient) -> None:
    headers = emulator_client.signed_headers(
        "POST", {"Action": "StartSnapshot", "Version": "2023-11-01"}, b"{}"
    )
    headers["Authorization"] = headers["Authorization"][:-1] + (
        "0" if headers["Authorization"][-1] != "0" else "1"
    )
    resp = emulator_client.send("POST", {"Action": "StartSnapshot", "Version": "2023-11-01"}, b"{}", headers)
    assert resp.status_code == 401
    body = resp.json()
    assert list(body) == ["ResponseMetadata"]  # no Result on errors
    meta = body["ResponseMetadata"]
    assert list(meta) == [*METADATA_KEYS, "Error"]
    assert list(meta["Error"]) == ["CodeN", "Code", "Message"]
    assert meta["Error"]["CodeN"] == 100010
    assert meta["Error"]["Code"] == "SignatureDoesNotMatch"
    assert meta["Action"] == "StartSnapshot" and meta["Service"] == "rtc"


def test_business_error_envelope_has_no_code_n(emulator_client: EmulatorClient) -> None:
    resp = emulator_client.call("StopSnapshot", {"AppId": APP, "RoomId": ROOM, "TaskId": TASK})
    assert resp.status_code == 400
    body = resp.json()
    assert list(body) == ["ResponseMetadata"]
    error = body["ResponseMetadata"]["Error"]
    assert list(error) == ["Code", "Message"]
    assert error["Code"] == "InvalidParameter.ErrorActiveTaskNotFound"
    assert TASK in error["Message"]
    parsed = SnapshotResponse.from_wire(body)
    assert parsed.error is not None and parsed.error.code_n is None


def test_missing_action_echoes_empty_strings(emulator_client: EmulatorClient) -> None:
    resp = emulator_client.send("POST", {"Version": "2023-11-01"}, b"", {})
    meta = resp.json()["ResponseMetadata"]
    assert (meta["Action"], meta["Version"]) == ("", "2023-11-01")


def test_request_ids_are_unique_and_well_formed(emulator_client: EmulatorClient) -> None:
    ids = [
        emulator_client.call("StopSnapshot", {"AppId": APP, "RoomId": ROOM, "TaskId": TASK}).json()[
            "ResponseMetadata"
        ]["RequestId"]
        for _ in range(30)
    ]
    assert len(set(ids)) == 30
    assert all(REQUEST_ID.match(i) for i in ids), ids


def test_duplicate_start_2023_is_a_success_with_the_notice(emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body())
    resp = emulator_client.call("StartSnapshot", start_body())
    assert resp.status_code == 200
    assert resp.json()["Result"] == api.DUPLICATE_START_RESULT
    assert "Error" not in resp.json()["ResponseMetadata"]


def test_get_snapshot_task_envelope_parses_with_the_models(emulator_client: EmulatorClient) -> None:
    emulator_client.call("StartSnapshot", start_body())
    resp = emulator_client.get_task(APP, ROOM, TASK)
    parsed = GetSnapshotTaskResponse.from_wire(resp.json())
    assert parsed.error is None and parsed.task is not None
    assert parsed.response_metadata.action == "GetSnapshotTask"


# --------------------------------------------------------------------------- legacy 200 mode


def test_legacy_mode_answers_2022_errors_with_200(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    make_emulator(legacy_200_errors=True)
    business = emulator_client.call(
        "StopSnapshot", {"AppId": APP, "RoomId": ROOM, "TaskId": TASK}, version="2022-06-01"
    )
    assert business.status_code == 200
    assert business.json()["ResponseMetadata"]["Error"]["Code"] == "InvalidParameter.ErrorActiveTaskNotFound"
    assert "Result" not in business.json()

    gateway = emulator_client.send("POST", {"Action": "StopSnapshot", "Version": "2022-06-01"}, b"{}", {})
    assert gateway.status_code == 200
    assert gateway.json()["ResponseMetadata"]["Error"]["CodeN"] == 100003


def test_legacy_mode_keeps_2023_statuses(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    make_emulator(legacy_200_errors=True)
    resp = emulator_client.call(
        "StopSnapshot", {"AppId": APP, "RoomId": ROOM, "TaskId": TASK}, version="2023-11-01"
    )
    assert resp.status_code == 400


def test_without_legacy_mode_2022_errors_are_not_200(emulator_client: EmulatorClient) -> None:
    resp = emulator_client.call(
        "StopSnapshot", {"AppId": APP, "RoomId": ROOM, "TaskId": TASK}, version="2022-06-01"
    )
    assert resp.status_code == 400
