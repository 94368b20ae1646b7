"""What depends on the API version: MaxIdleTime's lower bound (spec §2.1, §9 #6) and whether
lenient mode resets invalid values (only 2022-06-01 does, spec §9 #7)."""

from __future__ import annotations

import pytest
from rtcsnap.errors import ValidationError
from rtcsnap.models import (
    ApiVersion,
    RtcSnapLenientWarning,
    StartSnapshotRequest,
    StopSnapshotRequest,
)

from tests.models.wire_bodies import edit, tos_body


def test_default_version_is_2022_06_01() -> None:
    req = StartSnapshotRequest.from_wire(tos_body())
    assert req.api_version is ApiVersion.V2022_06_01
    assert ApiVersion("2023-11-01") is ApiVersion.V2023_11_01


def test_idle_5_is_valid_for_2022_06_01() -> None:
    body = edit(tos_body(), "MaxIdleTime", 5)
    assert StartSnapshotRequest.from_wire(body).max_idle_time == 5
    assert StartSnapshotRequest.from_wire(body, version="2022-06-01").max_idle_time == 5


def test_idle_5_is_rejected_for_2023_11_01() -> None:
    body = edit(tos_body(), "MaxIdleTime", 5)
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(body, version=ApiVersion.V2023_11_01)
    assert info.value.paths == ["MaxIdleTime"]
    assert "must be between 10 and 86400" in info.value.errors[0].rule
    assert "2023-11-01" in info.value.errors[0].rule


def test_idle_10_is_valid_for_2023_11_01() -> None:
    req = StartSnapshotRequest.from_wire(edit(tos_body(), "MaxIdleTime", 10), version="2023-11-01")
    assert req.api_version is ApiVersion.V2023_11_01
    assert req.max_idle_time == 10


def test_version_by_kwarg() -> None:
    kwargs = {
        "app_id": "a",
        "room_id": "r",
        "task_id": "t",
        "max_idle_time": 5,
        "storage_config": {"tos_config": {"account_id": "1", "bucket": "b"}},
    }
    assert StartSnapshotRequest(**kwargs).max_idle_time == 5
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest(**kwargs, api_version="2023-11-01")
    assert info.value.paths == ["MaxIdleTime"]


def test_lenient_2023_rejects_idle_5_instead_of_resetting_it() -> None:
    """2023-11-01 removed the reset-to-default logic (spec §9 #7): lenient is strict here."""
    body = edit(tos_body(), "MaxIdleTime", 5)
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(body, version="2023-11-01", lenient=True)
    assert info.value.paths == ["MaxIdleTime"]
    assert "must be between 10 and 86400" in info.value.errors[0].rule
    with pytest.warns(RtcSnapLenientWarning, match=r"MaxIdleTime: .*1 and 86400.*default 180"):
        req = StartSnapshotRequest.from_wire(edit(body, "MaxIdleTime", 0), version="2022-06-01", lenient=True)
    assert req.max_idle_time == 180


def test_version_is_never_on_the_wire() -> None:
    req = StartSnapshotRequest.from_wire(tos_body(), version="2023-11-01")
    wire = req.to_wire()
    assert wire == tos_body()
    assert not {"api_version", "ApiVersion", "Version"} & set(wire)
    stop = StopSnapshotRequest(app_id="a", room_id="r", task_id="t", api_version="2023-11-01")
    assert stop.to_wire() == {"AppId": "a", "RoomId": "r", "TaskId": "t"}


@pytest.mark.parametrize("key", ["api_version", "ApiVersion"])
def test_version_key_in_body_is_unknown(key: str) -> None:
    body = edit(tos_body(), key, "2023-11-01")
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(body)
    assert info.value.paths == [key]
    with pytest.warns(RtcSnapLenientWarning, match=f"{key}: unknown field"):
        req = StartSnapshotRequest.from_wire(body, lenient=True)
    assert req.api_version is ApiVersion.V2022_06_01


def test_unknown_version_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(tos_body(), version="2020-12-01")
    assert info.value.paths == ["api_version"]
