"""One broken input per documented rule: the error names the wire path and the rule.

Lenient mode: optional values are reset to their documented default with a warning
(server behaviour, spec §2.1), everything else still fails.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest
from rtcsnap.errors import ValidationError
from rtcsnap.models import (
    GetSnapshotTaskRequest,
    ImageConfig,
    ImageFormat,
    RequestModel,
    RtcSnapLenientWarning,
    StartSnapshotRequest,
    StopSnapshotRequest,
    Stream,
    StreamType,
    UpdateSnapshotRequest,
    lenient_validation,
)

from tests.models.wire_bodies import custom_body, edit, tos_body, veimagex_body

ID_RULE = r"must match [a-zA-Z0-9_@\-\.]{1,128}"


@dataclass(frozen=True)
class Case:
    id: str
    body: Callable[[], dict[str, Any]]
    path: str
    rule: str
    model: type[RequestModel] = StartSnapshotRequest


def _streams(n: int) -> list[dict[str, Any]]:
    return [{"UserId": f"u{i}"} for i in range(n)]


def _task_key() -> dict[str, Any]:
    return {"AppId": "app1", "RoomId": "room1", "TaskId": "task1"}


CASES = [
    # IDs (spec §4)
    Case("app-id-charset", lambda: edit(tos_body(), "AppId", "app 1"), "AppId", ID_RULE),
    Case("business-id-too-long", lambda: edit(tos_body(), "BusinessId", "b" * 129), "BusinessId", ID_RULE),
    Case("room-id-charset", lambda: edit(tos_body(), "RoomId", "room#1"), "RoomId", ID_RULE),
    Case("task-id-empty", lambda: edit(tos_body(), "TaskId", ""), "TaskId", ID_RULE),
    Case(
        "user-id-charset",
        lambda: edit(tos_body(), "TargetStreams.StreamList.1.UserId", "用户"),
        "TargetStreams.StreamList[1].UserId",
        ID_RULE,
    ),
    # required fields
    Case("app-id-missing", lambda: edit(tos_body(), "AppId", delete=True), "AppId", "is required"),
    Case("room-id-missing", lambda: edit(tos_body(), "RoomId", delete=True), "RoomId", "is required"),
    Case("task-id-missing", lambda: edit(tos_body(), "TaskId", delete=True), "TaskId", "is required"),
    Case(
        "storage-missing",
        lambda: edit(tos_body(), "StorageConfig", delete=True),
        "StorageConfig",
        "is required",
    ),
    Case(
        "user-id-missing",
        lambda: edit(tos_body(), "TargetStreams.StreamList.0.UserId", delete=True),
        "TargetStreams.StreamList[0].UserId",
        "is required",
    ),
    Case(
        "tos-account-missing",
        lambda: edit(tos_body(), "StorageConfig.TosConfig.AccountId", delete=True),
        "StorageConfig.TosConfig.AccountId",
        "is required",
    ),
    Case(
        "tos-account-empty",
        lambda: edit(tos_body(), "StorageConfig.TosConfig.AccountId", ""),
        "StorageConfig.TosConfig.AccountId",
        "must not be empty",
    ),
    Case(
        "tos-bucket-missing",
        lambda: edit(tos_body(), "StorageConfig.TosConfig.Bucket", delete=True),
        "StorageConfig.TosConfig.Bucket",
        "is required",
    ),
    Case(
        "veimagex-account-missing",
        lambda: edit(veimagex_body(), "StorageConfig.VeImageXConfig.AccountId", delete=True),
        "StorageConfig.VeImageXConfig.AccountId",
        "is required",
    ),
    Case(
        "veimagex-service-missing",
        lambda: edit(veimagex_body(), "StorageConfig.VeImageXConfig.ServiceId", delete=True),
        "StorageConfig.VeImageXConfig.ServiceId",
        "is required",
    ),
    Case(
        "custom-bucket-missing",
        lambda: edit(custom_body(), "StorageConfig.CustomConfig.Bucket", delete=True),
        "StorageConfig.CustomConfig.Bucket",
        "is required",
    ),
    Case(
        "custom-access-key-missing",
        lambda: edit(custom_body(), "StorageConfig.CustomConfig.AccessKey", delete=True),
        "StorageConfig.CustomConfig.AccessKey",
        "is required",
    ),
    Case(
        "custom-secret-key-missing",
        lambda: edit(custom_body(), "StorageConfig.CustomConfig.SecretKey", delete=True),
        "StorageConfig.CustomConfig.SecretKey",
        "is required",
    ),
    Case(
        "custom-secret-key-empty",
        lambda: edit(custom_body(), "StorageConfig.CustomConfig.SecretKey", ""),
        "StorageConfig.CustomConfig.SecretKey",
        "must not be empty",
    ),
    # streams (spec §3.1)
    Case(
        "too-many-streams",
        lambda: edit(tos_body(), "TargetStreams.StreamList", _streams(18)),
        "TargetStreams.StreamList",
        "at most 17 streams (got 18)",
    ),
    Case(
        "stream-type",
        lambda: edit(tos_body(), "TargetStreams.StreamList.1.StreamType", 2),
        "TargetStreams.StreamList[1].StreamType",
        "must be 0 (MAIN) or 1 (SCREEN) (got 2)",
    ),
    Case(
        "index-unique",
        lambda: edit(
            tos_body(), "TargetStreams.StreamList", [{"UserId": "a", "Index": 3}, {"UserId": "b", "Index": 3}]
        ),
        "TargetStreams.StreamList[1].Index",
        "must be unique within StreamList",
    ),
    # image config (spec §3.2)
    Case(
        "format",
        lambda: edit(tos_body(), "ImageConfig.Format", 2),
        "ImageConfig.Format",
        "must be 0 (JPEG) or 1 (PNG) (got 2)",
    ),
    Case(
        "width-high",
        lambda: edit(tos_body(), "ImageConfig.Width", 1921),
        "ImageConfig.Width",
        "must be between 0 and 1920 (got 1921)",
    ),
    Case(
        "height-negative",
        lambda: edit(tos_body(), "ImageConfig.Height", -1),
        "ImageConfig.Height",
        "must be between 0 and 1920 (got -1)",
    ),
    Case(
        "interval-low",
        lambda: edit(tos_body(), "ImageConfig.Interval", 0),
        "ImageConfig.Interval",
        "must be between 1 and 600 (got 0)",
    ),
    Case(
        "interval-high",
        lambda: edit(tos_body(), "ImageConfig.Interval", 601),
        "ImageConfig.Interval",
        "must be between 1 and 600 (got 601)",
    ),
    Case(
        "interval-not-int",
        lambda: edit(tos_body(), "ImageConfig.Interval", "5"),
        "ImageConfig.Interval",
        "must be an integer",
    ),
    # MaxIdleTime (spec §2.1; 2023-11-01 in test_wire_versions)
    Case(
        "idle-low",
        lambda: edit(tos_body(), "MaxIdleTime", 0),
        "MaxIdleTime",
        "must be between 1 and 86400",
    ),
    Case(
        "idle-high",
        lambda: edit(tos_body(), "MaxIdleTime", 86401),
        "MaxIdleTime",
        "(got 86401)",
    ),
    # storage config (spec §3.3)
    Case(
        "type-vod",
        lambda: edit(tos_body(), "StorageConfig.Type", 1),
        "StorageConfig.Type",
        "must be 0 (TOS), 2 (CUSTOM) or 3 (VEIMAGEX) (got 1)",
    ),
    Case(
        "type-unknown",
        lambda: edit(tos_body(), "StorageConfig.Type", 7),
        "StorageConfig.Type",
        "must be 0 (TOS), 2 (CUSTOM) or 3 (VEIMAGEX) (got 7)",
    ),
    Case(
        "type-0-needs-tos",
        lambda: edit(tos_body(), "StorageConfig.TosConfig", delete=True),
        "StorageConfig.TosConfig",
        "is required when Type is 0",
    ),
    Case(
        "type-default-is-0",
        lambda: edit(veimagex_body(), "StorageConfig.Type", delete=True),
        "StorageConfig.TosConfig",
        "is required when Type is 0",
    ),
    Case(
        "type-0-only-tos",
        lambda: edit(
            tos_body(), "StorageConfig.CustomConfig", custom_body()["StorageConfig"]["CustomConfig"]
        ),
        "StorageConfig.CustomConfig",
        "must not be set when Type is 0",
    ),
    Case(
        "type-2-needs-custom",
        lambda: edit(custom_body(), "StorageConfig.CustomConfig", delete=True),
        "StorageConfig.CustomConfig",
        "is required when Type is 2",
    ),
    Case(
        "type-3-needs-veimagex",
        lambda: edit(tos_body(), "StorageConfig.Type", 3),
        "StorageConfig.VeImageXConfig",
        "is required when Type is 3",
    ),
    Case(
        "vendor",
        lambda: custom_body(vendor=5),
        "StorageConfig.CustomConfig.Vendor",
        "must be 0 (S3), 1 (OSS), 2 (OBS), 3 (COS) or 4 (KODO) (got 5)",
    ),
    # regions (spec §3.4)
    Case(
        "tos-region-code",
        lambda: edit(tos_body(), "StorageConfig.TosConfig.Region", 4),
        "StorageConfig.TosConfig.Region",
        "unknown tos region code 4",
    ),
    Case(
        "tos-region-name",
        lambda: edit(tos_body(), "StorageConfig.TosConfig.Region", "us-east-1"),
        "StorageConfig.TosConfig.Region",
        "unknown tos region 'us-east-1'",
    ),
    Case(
        "veimagex-region-name",
        lambda: edit(veimagex_body(), "StorageConfig.VeImageXConfig.Region", "cn-beijing"),
        "StorageConfig.VeImageXConfig.Region",
        "unknown veimagex region 'cn-beijing'",
    ),
    Case(
        "s3-region-unsupported",
        lambda: custom_body(vendor=0, region=9),
        "StorageConfig.CustomConfig.Region",
        "s3 region code 9 (ap-southeast-2) is not supported",
    ),
    Case(
        "s3-region-unsupported-by-name",
        lambda: custom_body(vendor=0, region="us-gov-west-1"),
        "StorageConfig.CustomConfig.Region",
        "s3 region code 23 (us-gov-west-1) is not supported",
    ),
    Case(
        "s3-region-code-unknown",
        lambda: custom_body(vendor=0, region=25),
        "StorageConfig.CustomConfig.Region",
        "unknown s3 region code 25",
    ),
    Case(
        "region-of-other-vendor",
        lambda: custom_body(vendor=0, region="oss-cn-hangzhou"),
        "StorageConfig.CustomConfig.Region",
        "unknown s3 region 'oss-cn-hangzhou'",
    ),
    Case(
        "oss-region-name",
        lambda: custom_body(vendor=1, region="oss-mars-1"),
        "StorageConfig.CustomConfig.Region",
        "unknown oss region 'oss-mars-1'",
    ),
    Case(
        "veimagex-region-southeast",
        lambda: edit(veimagex_body(), "StorageConfig.VeImageXConfig.Region", "ap-southeast-1"),
        "StorageConfig.VeImageXConfig.Region",
        "unknown veimagex region 'ap-southeast-1'; valid: cn-north-1, ap-singapore-1",
    ),
    Case(
        "veimagex-region-code-unknown",
        lambda: edit(veimagex_body(), "StorageConfig.VeImageXConfig.Region", 2),
        "StorageConfig.VeImageXConfig.Region",
        "unknown veimagex region code 2; valid codes: 0-1",
    ),
    Case(
        "oss-region-unsupported",
        lambda: custom_body(vendor=1, region=16),
        "StorageConfig.CustomConfig.Region",
        "oss region code 16 (oss-ap-southeast-3) is not supported",
    ),
    Case(
        "obs-region-name",
        lambda: custom_body(vendor=2, region="cn-north-1"),
        "StorageConfig.CustomConfig.Region",
        "unknown obs region 'cn-north-1'",
    ),
    Case(
        "obs-region-code-unknown",
        lambda: custom_body(vendor=2, region=0),
        "StorageConfig.CustomConfig.Region",
        "unknown obs region code 0; valid codes: 1, 3, 5-6, 11, 14",
    ),
    Case(
        "cos-region-code-0",
        lambda: custom_body(vendor=3, region=0),
        "StorageConfig.CustomConfig.Region",
        "unknown cos region code 0; valid codes: 1-10",
    ),
    Case(
        "kodo-region-code-unknown",
        lambda: custom_body(vendor=4, region=4),
        "StorageConfig.CustomConfig.Region",
        "unknown kodo region code 4; valid codes: 0-3",
    ),
    Case(
        "region-negative",
        lambda: custom_body(vendor=3, region=-1),
        "StorageConfig.CustomConfig.Region",
        "must be >= 0",
    ),
    # unknown keys
    Case("unknown-top-level", lambda: edit(tos_body(), "Foo", 1), "Foo", "unknown field"),
    Case(
        "unknown-nested",
        lambda: edit(tos_body(), "ImageConfig.Quality", 90),
        "ImageConfig.Quality",
        "unknown field",
    ),
    Case(
        "vod-config-not-for-snapshots",
        lambda: edit(tos_body(), "StorageConfig.VodConfig", {"AccountId": "1", "Space": "s"}),
        "StorageConfig.VodConfig",
        "unknown field",
    ),
    # UpdateSnapshot: only Interval takes effect (spec §6.1)
    *(
        Case(
            f"update-{name.lower()}",
            functools.partial(lambda name: {**_task_key(), "ImageConfig": {name: 1, "Interval": 5}}, name),
            f"ImageConfig.{name}",
            "only ImageConfig.Interval",
            UpdateSnapshotRequest,
        )
        for name in ("Format", "Width", "Height")
    ),
    Case(
        "update-interval",
        lambda: {**_task_key(), "ImageConfig": {"Interval": 0}},
        "ImageConfig.Interval",
        "must be between 1 and 600 (got 0)",
        UpdateSnapshotRequest,
    ),
    Case(
        "update-storage-not-allowed",
        lambda: {**_task_key(), "StorageConfig": tos_body()["StorageConfig"]},
        "StorageConfig",
        "unknown field",
        UpdateSnapshotRequest,
    ),
    Case(
        "stop-task-id",
        lambda: {**_task_key(), "TaskId": "a/b"},
        "TaskId",
        ID_RULE,
        StopSnapshotRequest,
    ),
    Case(
        "stop-business-id",
        lambda: {**_task_key(), "BusinessId": "b b"},
        "BusinessId",
        ID_RULE,
        StopSnapshotRequest,
    ),
    Case(
        "get-room-missing",
        lambda: {"AppId": "app1", "TaskId": "task1"},
        "RoomId",
        "is required",
        GetSnapshotTaskRequest,
    ),
]


def _rules_at(err: ValidationError, path: str) -> list[str]:
    return [e.rule for e in err.errors if e.path == path]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_is_reported_with_wire_path(case: Case) -> None:
    with pytest.raises(ValidationError) as info:
        case.model.from_wire(case.body())
    err = info.value
    assert not isinstance(err, pydantic.ValidationError)
    assert case.path in err.paths, err.errors
    assert any(case.rule in r for r in _rules_at(err, case.path)), err.errors
    assert case.path in str(err)


def test_valid_bodies_pass() -> None:
    """The baselines the cases above break are themselves valid."""
    for make in (tos_body, custom_body, veimagex_body):
        StartSnapshotRequest.from_wire(make())
    UpdateSnapshotRequest.from_wire({**_task_key(), "ImageConfig": {"Interval": 5}})
    StopSnapshotRequest.from_wire({**_task_key(), "BusinessId": "biz"})
    GetSnapshotTaskRequest.from_wire(_task_key())


def test_boundaries_are_inclusive() -> None:
    ok = edit(tos_body(), "ImageConfig", {"Width": 1920, "Height": 0, "Interval": 600})
    ok = edit(ok, "MaxIdleTime", 86400)
    ok = edit(ok, "TargetStreams.StreamList", _streams(17))
    ok = edit(ok, "TaskId", "a" * 128)
    assert StartSnapshotRequest.from_wire(ok).to_wire() == ok
    one = edit(edit(tos_body(), "ImageConfig.Interval", 1), "MaxIdleTime", 1)
    assert StartSnapshotRequest.from_wire(one).to_wire() == one


def test_all_errors_are_reported_at_once() -> None:
    bad = edit(edit(tos_body(), "ImageConfig.Interval", 0), "MaxIdleTime", 0)
    bad = edit(bad, "AppId", "x y")
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(bad)
    assert set(info.value.paths) == {"AppId", "MaxIdleTime", "ImageConfig.Interval"}


def test_kwargs_errors_use_wire_paths() -> None:
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest(
            app_id="app1",
            room_id="room1",
            task_id="task1",
            target_streams=[{"user_id": "a"}, {"user_id": "b", "stream_type": 5}],
            image_config={"interval": 0},
            storage_config={"tos_config": {"account_id": "1", "bucket": "b"}},
        )
    assert set(info.value.paths) == {"TargetStreams.StreamList[1].StreamType", "ImageConfig.Interval"}


def test_nested_model_constructor_raises_rtcsnap_error() -> None:
    with pytest.raises(ValidationError) as info:
        ImageConfig(interval=0)
    assert info.value.paths == ["Interval"]
    with pytest.raises(ValidationError) as info2:
        Stream(user_id="bad id")
    assert info2.value.paths == ["UserId"]


def test_model_validate_raises_rtcsnap_error() -> None:
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.model_validate(edit(tos_body(), "ImageConfig.Width", 5000))
    assert info.value.paths == ["ImageConfig.Width"]


def test_convenient_construction() -> None:
    req = StartSnapshotRequest(
        app_id="app1",
        room_id="room1",
        task_id="task1",
        target_streams=[Stream(user_id="u1"), {"UserId": "u2", "StreamType": "screen"}],
        image_config={"format": "png", "interval": 3},
        storage_config={
            "type": 2,
            "custom_config": {
                "vendor": "oss",
                "region": "cn-shanghai",
                "bucket": "b",
                "access_key": "ak",
                "secret_key": "sk",
            },
        },
    )
    assert req.to_wire() == {
        "AppId": "app1",
        "RoomId": "room1",
        "TaskId": "task1",
        "TargetStreams": {"StreamList": [{"UserId": "u1"}, {"UserId": "u2", "StreamType": 1}]},
        "ImageConfig": {"Format": 1, "Interval": 3},
        "StorageConfig": {
            "Type": 2,
            "CustomConfig": {"Vendor": 1, "Region": 1, "Bucket": "b", "AccessKey": "ak", "SecretKey": "sk"},
        },
    }


@pytest.mark.parametrize(("given", "expected"), [("jpeg", 0), ("JPG", 0), ("png", 1), (1, 1)])
def test_format_spellings(given: Any, expected: int) -> None:
    assert ImageConfig(format=given).to_wire() == {"Format": expected}


def test_explicit_defaults_are_emitted_and_unset_ones_are_not() -> None:
    req = StartSnapshotRequest(
        app_id="a",
        room_id="r",
        task_id="t",
        max_idle_time=180,
        storage_config={"tos_config": {"account_id": "1", "bucket": "b"}},
    )
    assert req.to_wire() == {
        "AppId": "a",
        "RoomId": "r",
        "TaskId": "t",
        "MaxIdleTime": 180,
        "StorageConfig": {"TosConfig": {"AccountId": "1", "Bucket": "b"}},
    }
    assert req.image_config is None and req.storage_config.type == 0


# --------------------------------------------------------------------------- lenient mode


@dataclass(frozen=True)
class Reset:
    id: str
    body: dict[str, Any]
    path: str
    get: Callable[[StartSnapshotRequest], Any]
    default: Any


def _image(req: StartSnapshotRequest) -> ImageConfig:
    assert req.image_config is not None
    return req.image_config


def _stream1(req: StartSnapshotRequest) -> Stream:
    assert req.target_streams is not None
    return req.target_streams.stream_list[1]


RESETS = [
    Reset("idle", edit(tos_body(), "MaxIdleTime", 0), "MaxIdleTime", lambda r: r.max_idle_time, 180),
    Reset("idle-type", edit(tos_body(), "MaxIdleTime", "x"), "MaxIdleTime", lambda r: r.max_idle_time, 180),
    Reset(
        "format",
        edit(tos_body(), "ImageConfig.Format", 9),
        "ImageConfig.Format",
        lambda r: _image(r).format,
        ImageFormat.JPEG,
    ),
    Reset(
        "width",
        edit(tos_body(), "ImageConfig.Width", 4000),
        "ImageConfig.Width",
        lambda r: _image(r).width,
        0,
    ),
    Reset(
        "height",
        edit(tos_body(), "ImageConfig.Height", -2),
        "ImageConfig.Height",
        lambda r: _image(r).height,
        0,
    ),
    Reset(
        "interval",
        edit(tos_body(), "ImageConfig.Interval", 0),
        "ImageConfig.Interval",
        lambda r: _image(r).interval,
        2,
    ),
    Reset(
        "stream-type",
        edit(tos_body(), "TargetStreams.StreamList.1.StreamType", 4),
        "TargetStreams.StreamList[1].StreamType",
        lambda r: _stream1(r).stream_type,
        StreamType.MAIN,
    ),
]


def _wire_at(wire: dict[str, Any], path: str) -> Any:
    node: Any = wire
    for part in path.replace("[", ".").replace("]", "").split("."):
        node = node[int(part)] if part.isdigit() else node[part]
    return node


@pytest.mark.parametrize("case", RESETS, ids=[c.id for c in RESETS])
def test_lenient_resets_optional_value_to_documented_default(case: Reset) -> None:
    with pytest.raises(ValidationError):
        StartSnapshotRequest.from_wire(case.body)
    pattern = rf"{re.escape(case.path)}: .*reset to the default {int(case.default)}"
    with pytest.warns(RtcSnapLenientWarning, match=pattern):
        req = StartSnapshotRequest.from_wire(case.body, lenient=True)
    assert case.get(req) == case.default
    assert _wire_at(req.to_wire(), case.path) == case.default


def test_lenient_keeps_valid_values() -> None:
    body = edit(tos_body(), "MaxIdleTime", 0)
    with pytest.warns(RtcSnapLenientWarning):
        req = StartSnapshotRequest.from_wire(body, lenient=True)
    assert req.to_wire() == edit(body, "MaxIdleTime", 180)


def test_lenient_does_not_modify_the_callers_dict() -> None:
    body = edit(tos_body(), "ImageConfig.Interval", 0)
    with pytest.warns(RtcSnapLenientWarning):
        StartSnapshotRequest.from_wire(body, lenient=True)
    assert body["ImageConfig"]["Interval"] == 0


def test_lenient_drops_unknown_keys_with_warning() -> None:
    body = edit(edit(tos_body(), "Foo", 1), "ImageConfig.Quality", 9)
    with pytest.warns(RtcSnapLenientWarning) as record:
        req = StartSnapshotRequest.from_wire(body, lenient=True)
    messages = sorted(str(w.message) for w in record)
    assert messages == [
        "Foo: unknown field; lenient mode: dropped",
        "ImageConfig.Quality: unknown field; lenient mode: dropped",
    ]
    assert req.to_wire() == tos_body()


def test_lenient_drops_update_fields_that_have_no_effect() -> None:
    body = {**_task_key(), "ImageConfig": {"Format": 1, "Width": 10, "Interval": 7}}
    with pytest.warns(RtcSnapLenientWarning) as record:
        req = UpdateSnapshotRequest.from_wire(body, lenient=True)
    warned = sorted(str(w.message).split(":")[0] for w in record)
    assert warned == ["ImageConfig.Format", "ImageConfig.Width"]
    assert all("only ImageConfig.Interval" in str(w.message) for w in record)
    assert req.to_wire() == {**_task_key(), "ImageConfig": {"Interval": 7}}


def test_lenient_keeps_unsupported_region_with_warning() -> None:
    with pytest.warns(RtcSnapLenientWarning, match=r"CustomConfig\.Region.*not supported"):
        req = StartSnapshotRequest.from_wire(custom_body(vendor=0, region=7), lenient=True)
    assert req.to_wire()["StorageConfig"]["CustomConfig"]["Region"] == 7


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (edit(tos_body(), "AppId", "bad id"), "AppId"),
        (edit(tos_body(), "TaskId", delete=True), "TaskId"),
        (edit(tos_body(), "StorageConfig.Type", 1), "StorageConfig.Type"),
        (edit(tos_body(), "StorageConfig.TosConfig.Region", 9), "StorageConfig.TosConfig.Region"),
        (edit(tos_body(), "TargetStreams.StreamList", _streams(18)), "TargetStreams.StreamList"),
        (custom_body(vendor=7), "StorageConfig.CustomConfig.Vendor"),
    ],
)
def test_lenient_still_rejects_required_ids_and_storage(body: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(body, lenient=True)
    assert path in info.value.paths


def test_lenient_reports_only_what_it_cannot_fix() -> None:
    body = edit(edit(tos_body(), "AppId", "bad id"), "MaxIdleTime", 0)
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(body, lenient=True)
    assert info.value.paths == ["AppId"]


def test_lenient_constructor_via_context_manager() -> None:
    with lenient_validation(), pytest.warns(RtcSnapLenientWarning, match=r"ImageConfig\.Interval"):
        req = StartSnapshotRequest(
            app_id="a",
            room_id="r",
            task_id="t",
            image_config={"interval": 0},
            storage_config={"tos_config": {"account_id": "1", "bucket": "b"}},
        )
    assert _image(req).interval == 2
    with pytest.raises(ValidationError):  # strict again outside the block
        ImageConfig(interval=0)


def test_lenient_constructor_with_nested_model_instances() -> None:
    streams = [Stream(user_id="a"), {"user_id": "b", "stream_type": 9}]
    with lenient_validation(), pytest.warns(RtcSnapLenientWarning, match=r"StreamList\[1\]\.StreamType"):
        req = StartSnapshotRequest(
            app_id="a",
            room_id="r",
            task_id="t",
            target_streams=streams,
            storage_config={"tos_config": {"account_id": "1", "bucket": "b"}},
        )
    assert _stream1(req).stream_type is StreamType.MAIN


def test_lenient_via_model_validate_context() -> None:
    with pytest.warns(RtcSnapLenientWarning, match="Interval"):
        cfg = ImageConfig.model_validate({"Interval": 0, "Width": 10}, context={"lenient": True})
    assert (cfg.interval, cfg.width) == (2, 10)
