"""Fuzzing the emulator's body and query parsing: a model, or an `ApiError` with a documented code.

Anything else — a `RecursionError`, a `ValueError` from `int()`, a `UnicodeEncodeError` later —
would reach the handler's catch-all and be answered 500, which our client retries: a broken
body must be a 400 with a catalogue code, every time. The parsing functions are called
in-process for speed (the same functions the app calls); a few cases then go over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rtcsnap.emulator.envelope import ApiError
from rtcsnap.emulator.validation import app_id_of, json_body, parse, query_fields
from rtcsnap.models import (
    ApiVersion,
    GetSnapshotTaskRequest,
    RequestModel,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.protocol import codes
from rtcsnap.testing.emulator import EmulatorClient

from tests.emulator.helpers import code, start_body

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)
BODY_MODELS: list[type[RequestModel]] = [StartSnapshotRequest, UpdateSnapshotRequest, StopSnapshotRequest]
VERSIONS = list(ApiVersion)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "app-1", "a b", "\ud83d\ude00", "\x00", "0", "-1", "1e3", "x" * 200])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)


def _maybe(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value for the field, sometimes any JSON value at all."""
    return st.one_of(plausible, plausible, json_values)


ids = _maybe(st.sampled_from(["app-1", "room-1", "task-1", "A_b.c-d@e", "", " ", "x" * 129, "名字"]))
ints = _maybe(
    st.integers(min_value=-5, max_value=100_000) | st.sampled_from([0, 1, 2, 600, 601, 86400, 86401])
)
tos = st.fixed_dictionaries({}, optional={"AccountId": ids, "Bucket": ids, "Region": ints})
custom = st.fixed_dictionaries(
    {},
    optional={
        "Vendor": ints,
        "Region": ints,
        "Bucket": ids,
        "AccessKey": ids,
        "SecretKey": ids,
        "Endpoint": ids,
    },
)
storage = st.fixed_dictionaries(
    {"Type": _maybe(st.sampled_from([0, 1, 2, 3, 4, -1]))},
    optional={"TosConfig": _maybe(tos), "CustomConfig": _maybe(custom), "VeImageXConfig": _maybe(tos)},
)
image = st.fixed_dictionaries({}, optional={"Format": ints, "Width": ints, "Height": ints, "Interval": ints})
streams = st.fixed_dictionaries(
    {},
    optional={
        "StreamList": _maybe(
            st.lists(
                st.fixed_dictionaries({"UserId": ids}, optional={"StreamType": ints, "Index": ints}),
                max_size=3,
            )
        )
    },
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "AppId": ids,
        "RoomId": ids,
        "TaskId": ids,
        "BusinessId": ids,
        "StorageConfig": _maybe(storage),
        "ImageConfig": _maybe(image),
        "TargetStreams": _maybe(streams),
        "MaxIdleTime": ints,
        "Extra": json_values,
    },
)
NASTY = [
    "NaN",
    "-Infinity",
    "1e400",
    "9" * 5000,
    '"\\ud800"',
    "[" * 40,
    "]",
    "}",
    '"',
    "\\",
    "\x00",
    "\ufeff",
    ",",
    ":",
    "0x10",
    "1_000",
    "true",
    "nul",
]


def check(model: type[RequestModel], body: bytes, version: ApiVersion) -> None:
    """The app's body path, in-process: JSON object -> AppId -> model; only documented failures."""
    try:
        data = json_body(body)
        app_id_of(data)
        parsed = parse(model, data, version)
    except ApiError as err:
        assert err.code in codes.ALL, err.code
        assert err.entry.http_status == 400, err
        return
    assert isinstance(parsed, model)
    json.dumps(parsed.to_wire(), ensure_ascii=False).encode()  # what the emulator may echo must encode


@FUZZ
@given(st.binary(max_size=256), st.sampled_from(BODY_MODELS), st.sampled_from(VERSIONS))
def test_arbitrary_bytes(body: bytes, model: type[RequestModel], version: ApiVersion) -> None:
    check(model, body, version)


@FUZZ
@given(bodies, st.sampled_from(BODY_MODELS), st.sampled_from(VERSIONS))
def test_structured_bodies(body: dict[str, Any], model: type[RequestModel], version: ApiVersion) -> None:
    check(model, json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"), version)


@FUZZ
@given(
    bodies,
    st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(NASTY), st.booleans()), max_size=3),
    st.sampled_from(VERSIONS),
)
def test_mutated_json_text(
    body: dict[str, Any], edits: list[tuple[int, str, bool]], version: ApiVersion
) -> None:
    text = json.dumps(body)
    for at, token, replace in edits:
        i = at % (len(text) + 1)
        text = text[:i] + token + text[i + (len(token) if replace else 0) :]
    check(StartSnapshotRequest, text.encode("utf-8", "surrogatepass"), version)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["AppId", "RoomId", "TaskId", "Other"]),
        st.lists(st.text(max_size=20), max_size=2),
        max_size=4,
    ),
    st.sampled_from(VERSIONS),
)
def test_get_snapshot_task_queries(query: dict[str, list[str]], version: ApiVersion) -> None:
    try:
        fields = query_fields(query, ("AppId", "RoomId", "TaskId"))
        app_id_of(fields)
        parsed = parse(GetSnapshotTaskRequest, fields, version)
    except ApiError as err:
        assert err.code in codes.ALL and err.entry.http_status == 400, err
        return
    assert isinstance(parsed, GetSnapshotTaskRequest)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 40 + b"]" * 40,
        b'{"AppId": "app-1", "RoomId": "room-1", "TaskId": "t", "MaxIdleTime": 1e999}',
        b'{"AppId": "app-1", "RoomId": "room-1", "TaskId": "t", "ImageConfig": {"Interval": '
        + b"7" * 4400
        + b"}}",
        b'{"AppId": "app-1", "RoomId": "\\udfff"}',
        b'{"AppId": ["app-1"]}',
        b'{"AppId": "app-1", "StorageConfig": {"Type": {"x": [1, {"y": null}]}}}',
    ],
)
def test_over_http_the_answer_is_a_documented_400(emulator_client: EmulatorClient, body: bytes) -> None:
    resp = emulator_client.call("StartSnapshot", body)
    assert resp.status_code == 400 and code(resp) in codes.ALL, resp.text[:300]


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(bodies)
def test_over_http_fuzzed_bodies_are_never_500(emulator_client: EmulatorClient, body: dict[str, Any]) -> None:
    resp = emulator_client.call(
        "StartSnapshot", json.dumps({**start_body(), **body}).encode("utf-8", "surrogatepass")
    )
    assert resp.status_code in (200, 400) and code(resp) in {*codes.ALL, "OK"}, resp.text[:300]
