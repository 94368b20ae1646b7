"""Response envelopes parse tolerantly (spec §5.5, §6.3)."""

from __future__ import annotations

from typing import Any

import pytest
from rtcsnap.errors import ValidationError
from rtcsnap.models import (
    GetSnapshotTaskResponse,
    SnapshotResponse,
    StorageType,
    TaskStatus,
    Vendor,
)


def _meta(**extra: Any) -> dict[str, Any]:
    return {
        "RequestId": "req-1",
        "Action": "GetSnapshotTask",
        "Version": "2022-06-01",
        "Service": "rtc",
        "Region": "cn-north-1",
        **extra,
    }


def test_success_response() -> None:
    resp = SnapshotResponse.from_wire({"Result": "ok", "ResponseMetadata": _meta(Action="StartSnapshot")})
    assert resp.result == "ok"
    assert resp.error is None
    assert resp.response_metadata.action == "StartSnapshot"


def test_error_response() -> None:
    error = {"CodeN": 100010, "Code": "SignatureDoesNotMatch", "Message": "bad signature"}
    resp = SnapshotResponse.from_wire({"ResponseMetadata": _meta(Error=error)})
    assert resp.result is None
    assert resp.error is not None
    assert (resp.error.code_n, resp.error.code, resp.error.message) == (
        100010,
        "SignatureDoesNotMatch",
        "bad signature",
    )
    business = SnapshotResponse.from_wire(
        {"ResponseMetadata": _meta(Error={"Code": "InvalidParameter.TaskAlreadyExists", "Message": "x"})}
    )
    assert business.error is not None and business.error.code_n is None


def _task(key: str = "SnapshotTask", **storage_extra: Any) -> dict[str, Any]:
    return {
        "ResponseMetadata": _meta(NewField=1),
        "Result": {
            key: {
                "StartTime": 1700000000000,
                "EndTime": 0,
                "Status": 2,
                "StopReason": "",
                "TargetStreams": {"StreamList": [{"UserId": "u1", "StreamType": 0}]},
                "ImageConfig": {"Format": 0, "Width": 0, "Height": 0, "Interval": 2},
                "MaxIdleTime": 180,
                "StorageConfig": {
                    "Type": 2,
                    "CustomConfig": {
                        "Vendor": 1,
                        "Region": 0,
                        "Bucket": "b",
                        "AccessKey": "AK-echo",
                        "SecretKey": "******",
                    },
                    **storage_extra,
                },
            }
        },
    }


@pytest.mark.parametrize("key", ["SnapshotTask", "snapshotTask"])
def test_get_snapshot_task_both_spellings(key: str) -> None:
    resp = GetSnapshotTaskResponse.from_wire(_task(key))
    task = resp.task
    assert task is not None
    assert task.status is TaskStatus.RUNNING
    assert task.start_time == 1700000000000 and task.end_time == 0
    assert task.target_streams is not None and task.target_streams.stream_list[0].user_id == "u1"
    assert task.storage_config is not None
    assert task.storage_config.type is StorageType.CUSTOM
    custom = task.storage_config.custom_config
    assert custom is not None and custom.vendor is Vendor.OSS
    assert custom.secret_key.get_secret_value() == "******"


def test_get_snapshot_task_tolerates_missing_secrets_and_unknown_keys() -> None:
    body = _task(VodConfig={"Space": "s"})
    del body["Result"]["SnapshotTask"]["StorageConfig"]["CustomConfig"]["SecretKey"]
    del body["Result"]["SnapshotTask"]["StorageConfig"]["CustomConfig"]["AccessKey"]
    body["Result"]["SnapshotTask"]["StorageConfig"]["CustomConfig"]["Region"] = 7  # unsupported S3 id
    body["Result"]["SnapshotTask"]["StorageConfig"]["CustomConfig"]["Vendor"] = 0
    task = GetSnapshotTaskResponse.from_wire(body).task
    assert task is not None and task.storage_config is not None
    custom = task.storage_config.custom_config
    assert custom is not None and custom.region == 7
    assert custom.secret_key.get_secret_value() == ""


def test_stopped_task() -> None:
    body = _task()
    body["Result"]["SnapshotTask"].update(Status=3, EndTime=1700000100000, StopReason="IdleTimeOut")
    task = GetSnapshotTaskResponse.from_wire(body).task
    assert task is not None
    assert (task.status, task.stop_reason) == (TaskStatus.STOPPED, "IdleTimeOut")


def test_error_envelope_without_result() -> None:
    resp = GetSnapshotTaskResponse.from_wire(
        {"ResponseMetadata": _meta(Error={"Code": "InvalidParameter", "Message": "m"})}
    )
    assert resp.task is None and resp.error is not None


@pytest.mark.parametrize("key", ["SnapshotTask", "snapshotTask"])
def test_response_type_errors_are_rtcsnap_errors(key: str) -> None:
    body = _task(key)
    body["Result"][key]["Status"] = "running"
    with pytest.raises(ValidationError) as info:
        GetSnapshotTaskResponse.from_wire(body)
    assert info.value.paths == ["Result.SnapshotTask.Status"]
