"""Hostile input (issue 6 §3): every bad body is a field-path `ValidationError`, never a crash.

Each test reproduces one defect found on the original models: a `RecursionError`, Python
exception text in a rule, a wire integer out of range reaching `to_wire()`, an error without
a path, a 2023-11-01 value reset although that version rejects it, bytes accepted as text.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest
from rtcsnap.errors import ValidationError
from rtcsnap.models import (
    MAX_BODY_BYTES,
    MAX_NESTING_DEPTH,
    ImageConfig,
    RtcSnapLenientWarning,
    SnapshotResponse,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
    lenient_validation,
)

from tests.models.wire_bodies import custom_body, edit, tos_body, veimagex_body

INT32_MAX = 2**31 - 1
PYTHON_TEXT = ("invalid literal", "Exceeds the limit", "Traceback", "object has no attribute", "Value error")
MODES = [pytest.param(False, id="strict"), pytest.param(True, id="lenient")]
VERSIONS = ["2022-06-01", "2023-11-01"]


def _nested(depth: int, *, shape: str = "list") -> Any:
    """`depth` containers, one inside the other, innermost empty."""
    node: Any = [] if shape == "list" else {}
    for _ in range(depth - 1):
        node = [node] if shape == "list" else {"k": node}
    return node


def _rejected(body: Any, *, lenient: bool = False, version: str = "2022-06-01") -> ValidationError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RtcSnapLenientWarning)
        with pytest.raises(ValidationError) as info:
            StartSnapshotRequest.from_wire(body, version=version, lenient=lenient)
    for fe in info.value.errors:
        assert fe.rule, info.value.errors
        assert not any(text in fe.rule for text in PYTHON_TEXT), fe
    return info.value


def _rule_at(err: ValidationError, path: str) -> str:
    rules = [e.rule for e in err.errors if e.path == path]
    assert rules, err.errors
    return rules[0]


# --------------------------------------------------------------------------- 1. nesting depth


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize("shape", ["list", "dict"])
@pytest.mark.parametrize("where", ["Foo", "TargetStreams", "ImageConfig"])
def test_deep_nesting_is_a_field_error_in_both_modes(lenient: bool, shape: str, where: str) -> None:
    err = _rejected(edit(tos_body(), where, _nested(600, shape=shape)), lenient=lenient)
    assert [e.rule for e in err.errors] == [f"nesting deeper than {MAX_NESTING_DEPTH} levels"]
    assert err.paths[0].startswith(where + ("[0]" if shape == "list" else ".k"))


@pytest.mark.parametrize("lenient", MODES)
def test_nesting_up_to_the_limit_is_judged_by_the_ordinary_rules(lenient: bool) -> None:
    # the body is level 1, so a value of depth MAX - 1 under it ends exactly at the limit
    body = edit(tos_body(), "Foo", _nested(MAX_NESTING_DEPTH - 1))
    if lenient:
        with pytest.warns(RtcSnapLenientWarning, match="Foo: unknown field"):
            StartSnapshotRequest.from_wire(body, lenient=True)
    else:
        assert _rejected(body).paths == ["Foo"]
    too_deep = edit(tos_body(), "Foo", _nested(MAX_NESTING_DEPTH))
    assert "nesting deeper" in _rejected(too_deep, lenient=lenient).errors[0].rule


@pytest.mark.parametrize("lenient", MODES)
def test_a_body_containing_itself_is_a_field_error(lenient: bool) -> None:
    body = tos_body()
    body["ImageConfig"]["Self"] = body
    assert "nesting deeper" in _rejected(body, lenient=lenient).errors[0].rule


def test_raw_json_is_bounded_in_size_and_depth() -> None:
    valid = json.dumps(tos_body())
    assert StartSnapshotRequest.model_validate_json(valid).to_wire() == tos_body()
    cases: dict[str | bytes, str] = {
        "[" * 5000 + "]" * 5000: f"nesting deeper than {MAX_NESTING_DEPTH} levels",
        valid[:-1] + " " * MAX_BODY_BYTES + "}": f"larger than {MAX_BODY_BYTES} bytes",
        '{"AppId": ': "must be valid JSON",
        b"\xff\xfe{": "must be valid JSON",
        '{"MaxIdleTime": ' + "9" * 5000 + "}": "more than 30 digits",
    }
    for raw, rule in cases.items():
        with pytest.raises(ValidationError) as info:
            StartSnapshotRequest.model_validate_json(raw)
        assert rule in info.value.errors[0].rule, info.value.errors
        assert not any(text in str(info.value) for text in PYTHON_TEXT)


# --------------------------------------------------------------------------- 2. integer spellings


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize(
    ("path", "value", "body"),
    [
        ("StorageConfig.TosConfig.Region", "²", tos_body),
        ("StorageConfig.TosConfig.Region", "１", tos_body),  # full-width one
        ("StorageConfig.TosConfig.Region", "٣", tos_body),  # Arabic-Indic three
        ("StorageConfig.TosConfig.Region", "1" * 5000, tos_body),
        ("StorageConfig.CustomConfig.Region", "１", custom_body),
        ("StorageConfig.Type", "０", tos_body),
        ("StorageConfig.Type", "²", tos_body),
        ("StorageConfig.CustomConfig.Vendor", "１", custom_body),
    ],
)
def test_non_ascii_digits_are_not_integers(lenient: bool, path: str, value: str, body: Any) -> None:
    err = _rejected(edit(body(), path.replace("[", ".").replace("]", ""), value), lenient=lenient)
    assert _rule_at(err, path).startswith("must be")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("ImageConfig.Format", "²"),
        ("ImageConfig.Format", "１"),
        ("TargetStreams.StreamList.0.StreamType", "１"),
        ("ImageConfig.Width", "１"),
        ("MaxIdleTime", "٣"),
    ],
)
def test_non_ascii_digits_in_resettable_fields(path: str, value: str) -> None:
    """Strictly an error naming the rule; 2022-06-01 lenient resets them like any invalid value."""
    body = edit(tos_body(), path, value)
    wire_path = re.sub(r"\.(\d+)\.", r"[\1].", path)
    assert _rule_at(_rejected(body), wire_path).startswith("must be")
    with pytest.warns(RtcSnapLenientWarning, match=re.escape(wire_path) + ".*reset to the default"):
        StartSnapshotRequest.from_wire(body, lenient=True)


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize("path", ["MaxIdleTime", "ImageConfig.Width", "ImageConfig.Interval"])
def test_huge_integers_are_described_not_printed(lenient: bool, path: str) -> None:
    huge = 10**5000  # str(huge) itself raises ValueError (int max str digits)
    err = _rejected(edit(tos_body(), path, huge), lenient=lenient, version="2023-11-01")
    assert re.search(r"\(got an integer of 16610 bits\)", _rule_at(err, path))


@pytest.mark.parametrize(
    ("path", "value"), [("MaxIdleTime", "60"), ("TargetStreams.StreamList.0.Index", "1")]
)
def test_plain_integer_fields_take_json_integers_only(path: str, value: str) -> None:
    wire_path = path.replace(".0.", "[0].")
    assert _rule_at(_rejected(edit(tos_body(), path, value)), wire_path) == "must be an integer (got str)"


def test_ascii_digit_strings_still_spell_coded_values() -> None:
    """Documented shorthand: coded fields (enums, Region) take their ASCII decimal spelling."""
    body = edit(edit(tos_body(), "ImageConfig.Format", "1"), "StorageConfig.TosConfig.Region", " 3 ")
    wire = StartSnapshotRequest.from_wire(body).to_wire()
    assert (wire["ImageConfig"]["Format"], wire["StorageConfig"]["TosConfig"]["Region"]) == (1, 3)


# --------------------------------------------------------------------------- 3. wire ranges


@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize(
    ("body", "path", "value"),
    [
        (lambda: custom_body(vendor=2), "StorageConfig.CustomConfig.Region", 10**30),
        (lambda: custom_body(vendor=3), "StorageConfig.CustomConfig.Region", INT32_MAX + 1),
        (veimagex_body, "StorageConfig.VeImageXConfig.Region", 2**40),
        (veimagex_body, "StorageConfig.VeImageXConfig.Region", str(INT32_MAX + 1)),
        (tos_body, "TargetStreams.StreamList[0].Index", INT32_MAX + 1),
        (tos_body, "TargetStreams.StreamList[0].Index", -(2**31) - 1),
        (tos_body, "TargetStreams.StreamList[0].Index", 2**64),
    ],
)
def test_integers_beyond_int32_are_rejected(lenient: bool, body: Any, path: str, value: Any) -> None:
    err = _rejected(edit(body(), path.replace("[0]", ".0"), value), lenient=lenient)
    assert "int32" in _rule_at(err, path)


def test_int32_bounds_are_inclusive() -> None:
    streams = [{"UserId": "a", "Index": -(2**31)}, {"UserId": "b", "Index": INT32_MAX}]
    body = edit(tos_body(), "TargetStreams.StreamList", streams)
    assert StartSnapshotRequest.from_wire(body).to_wire() == body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("MaxIdleTime", tos_body),
        ("ImageConfig.Width", tos_body),
        ("ImageConfig.Format", tos_body),
        ("TargetStreams.StreamList[0].Index", tos_body),
        ("TargetStreams.StreamList[0].StreamType", tos_body),
        ("StorageConfig.Type", tos_body),
        ("StorageConfig.TosConfig.Region", tos_body),
        ("StorageConfig.CustomConfig.Vendor", custom_body),
    ],
)
def test_booleans_are_not_integers(path: str, body: Any) -> None:
    err = _rejected(edit(body(), path.replace("[0]", ".0"), True))
    assert _rule_at(err, path).startswith("must be")


# --------------------------------------------------------------------------- 4. odd keys


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("", "['']"),
        ("\ud800", "['\\ud800']"),
        ("a.b[1]", "['a.b[1]']"),
        ("1", "['1']"),
        ("x" * 100, "['xxxx"),
    ],
)
def test_odd_keys_are_named_in_the_path(key: str, shown: str) -> None:
    top = _rejected({**tos_body(), key: 1})
    nested = _rejected(edit(tos_body(), "ImageConfig", {"Interval": 5, key: 1}))
    assert top.paths[0].startswith(shown), top.errors
    assert nested.paths[0].startswith("ImageConfig" + shown), nested.errors
    for err in (top, nested):
        str(err).encode("utf-8")  # no lone surrogate in the message
        assert len(err.paths[0]) < 80


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("key", ["", "\ud800"])
def test_lenient_drops_odd_keys_with_a_warning_naming_them(version: str, key: str) -> None:
    body = edit(edit(tos_body(), key, 1), "ImageConfig", {**tos_body()["ImageConfig"], key: 2})
    with pytest.warns(RtcSnapLenientWarning) as record:
        req = StartSnapshotRequest.from_wire(body, version=version, lenient=True)
    assert req.to_wire() == tos_body()
    messages = sorted(str(w.message) for w in record)
    assert messages[0].startswith("ImageConfig[") and messages[1].startswith("[")
    assert all("dropped" in m for m in messages)


def test_non_string_keys_are_field_errors() -> None:
    err = _rejected({**tos_body(), 5: 1, None: 2})
    assert {e.rule for e in err.errors} == {
        "key must be a string (got int)",
        "key must be a string (got NoneType)",
    }
    assert set(err.paths) == {"[5]", "[None]"}


# --------------------------------------------------------------------------- 5. 2023-11-01 resets nothing

INVALID_OPTIONALS = [
    ("MaxIdleTime", 0),
    ("MaxIdleTime", "x"),
    ("ImageConfig.Format", 9),
    ("ImageConfig.Width", 4000),
    ("ImageConfig.Height", -2),
    ("ImageConfig.Interval", 0),
    ("ImageConfig.Interval", 601),
    ("TargetStreams.StreamList.1.StreamType", 4),
]


@pytest.mark.parametrize(("path", "value"), INVALID_OPTIONALS)
def test_lenient_2023_11_01_rejects_what_2022_06_01_resets(path: str, value: Any) -> None:
    body = edit(tos_body(), path, value)
    wire_path = path.replace(".1.", "[1].")
    with pytest.warns(RtcSnapLenientWarning, match=re.escape(wire_path) + ".*reset to the default"):
        StartSnapshotRequest.from_wire(body, version="2022-06-01", lenient=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is repaired, so nothing is warned
        err = _rejected(body, lenient=True, version="2023-11-01")
    assert err.paths == [wire_path]


def test_every_lenient_entry_point_honours_2023_11_01() -> None:
    kwargs: dict[str, Any] = {
        "app_id": "a",
        "room_id": "r",
        "task_id": "t",
        "image_config": {"interval": 0},
        "storage_config": {"tos_config": {"account_id": "1", "bucket": "b"}},
    }
    with lenient_validation(), pytest.raises(ValidationError) as info:
        StartSnapshotRequest(**kwargs, api_version="2023-11-01")
    assert info.value.paths == ["ImageConfig.Interval"]
    body = {**edit(tos_body(), "ImageConfig.Interval", 0), "api_version": "2023-11-01"}
    with pytest.raises(ValidationError) as info2:
        StartSnapshotRequest.model_validate(body, context={"lenient": True})
    assert info2.value.paths == ["ImageConfig.Interval"]
    update = {"AppId": "a", "RoomId": "r", "TaskId": "t", "ImageConfig": {"Interval": 0}}
    with pytest.raises(ValidationError) as info3:
        UpdateSnapshotRequest.from_wire(update, version="2023-11-01", lenient=True)
    assert info3.value.paths == ["ImageConfig.Interval"]
    with lenient_validation(), pytest.warns(RtcSnapLenientWarning, match="reset to the default 2"):
        assert StartSnapshotRequest(**kwargs, api_version="2022-06-01").to_wire()["ImageConfig"] == {
            "Interval": 2
        }


def test_lenient_2023_11_01_still_ignores_what_the_server_ignores() -> None:
    """Only the reset was removed: unknown keys and no-effect Update fields are still dropped."""
    body = edit(tos_body(), "Surprise", 1)
    with pytest.warns(RtcSnapLenientWarning, match="Surprise: unknown field; lenient mode: dropped"):
        assert (
            StartSnapshotRequest.from_wire(body, version="2023-11-01", lenient=True).to_wire() == tos_body()
        )
    update = {"AppId": "a", "RoomId": "r", "TaskId": "t", "ImageConfig": {"Width": 9, "Interval": 7}}
    with pytest.warns(RtcSnapLenientWarning, match="only ImageConfig.Interval"):
        req = UpdateSnapshotRequest.from_wire(update, version="2023-11-01", lenient=True)
    assert req.to_wire()["ImageConfig"] == {"Interval": 7}


# --------------------------------------------------------------------------- 6. text is str


STRING_FIELDS = [
    ("AppId", tos_body),
    ("BusinessId", tos_body),
    ("RoomId", tos_body),
    ("TaskId", tos_body),
    ("TargetStreams.StreamList.0.UserId", tos_body),
    ("StorageConfig.TosConfig.AccountId", tos_body),
    ("StorageConfig.TosConfig.Bucket", tos_body),
    ("StorageConfig.VeImageXConfig.AccountId", veimagex_body),
    ("StorageConfig.VeImageXConfig.ServiceId", veimagex_body),
    ("StorageConfig.CustomConfig.Bucket", custom_body),
    ("StorageConfig.CustomConfig.AccessKey", custom_body),
    ("StorageConfig.CustomConfig.SecretKey", custom_body),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("lenient", MODES)
@pytest.mark.parametrize("raw", [b"abc", bytearray(b"abc")], ids=["bytes", "bytearray"])
@pytest.mark.parametrize(("path", "body"), STRING_FIELDS)
def test_bytes_are_not_strings(version: str, lenient: bool, raw: bytes, path: str, body: Any) -> None:
    err = _rejected(edit(body(), path, raw), lenient=lenient, version=version)
    assert _rule_at(err, path.replace(".0.", "[0].")) == f"must be a string (got {type(raw).__name__})"


@pytest.mark.parametrize(
    "path", ["StorageConfig.CustomConfig.Bucket", "StorageConfig.CustomConfig.SecretKey", "AppId"]
)
def test_lone_surrogates_are_not_text(path: str) -> None:
    assert _rule_at(_rejected(edit(custom_body(), path, "ab\udc80")), path).startswith("must ")


def test_api_version_must_be_a_version_string() -> None:
    for model in (StopSnapshotRequest, StartSnapshotRequest):
        with pytest.raises(ValidationError) as info:
            model.from_wire(tos_body(), version=b"2022-06-01")  # type: ignore[arg-type]
        assert "api_version" in info.value.paths


def test_standalone_nested_models_follow_the_default_version() -> None:
    """A bare ImageConfig has no API version: lenient mode applies 2022-06-01 (the default)."""
    with pytest.warns(RtcSnapLenientWarning, match="reset to the default 2"):
        cfg = ImageConfig.model_validate({"Interval": 0}, context={"lenient": True})
    assert cfg.interval == 2


def test_responses_ignore_odd_keys_like_any_unknown_key() -> None:
    """A server's reply is parsed tolerantly: an undecodable key is one more key to ignore."""
    reply = {"Result": "ok", "\ud800": 1, "ResponseMetadata": {"RequestId": "r1", "": {"\udc80": 2}}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = SnapshotResponse.from_wire(reply)
    assert (parsed.result, parsed.response_metadata.request_id) == ("ok", "r1")
    assert "\ud800" in reply  # the caller's dict is left alone
