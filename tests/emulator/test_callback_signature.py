"""The callback envelope and signature (spec §7.2–§7.4): vectors, tolerance, tamper detection."""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rtcsnap.protocol import callback_signature as cbsig
from rtcsnap.protocol.callback_signature import ImageRecord

OFFICIAL = {
    "EventType": "RoomCreate",
    "EventData": '{"RoomId":"room1","Timestamp":1679383924691}',
    "EventTime": "2023-03-21T15:32:04+08:00",
    "EventId": "123456",
    "Version": "2020-12-01",
    "AppId": "appId",
    "Nonce": "aaBc",
}
OFFICIAL_SECRET = "1234"
OFFICIAL_SIGNATURE = "1c7200723842eff514b65fc3f065597432bbb4249e10d33db79b3853d05f3691"

OURS = {
    "EventType": "SnapshotRealTimeData",
    "EventData": '{"AppId":"Your_AppId","BusinessId":"","RoomId":"Your_RoomId","TaskId":"Your_TaskId",'
    '"Code":0,"ErrorMessage":""}',
    "EventTime": "2024-01-02T03:04:05.123456789Z",
    "EventId": "evt-0001",
    "AppId": "Your_AppId",
    "Version": "2022-06-01",
    "Nonce": "1234",
}
OURS_SECRET = "my_callback_secret"
OURS_SIGNATURE = "8cb1dbce7a8799bc4a11fa8a91526c0a8dd775e4c591a9df39ecd2845ae19fe5"

DOC_EXAMPLE = (
    '{"AppId":"Your_AppId","BusinessId":"Your_BusinessId","RoomId":"Your_RoomId","TaskId":"Your_TaskId",'
    '"Bucket":"Your_Bucket","Data":[{"Stream":{"UserId":"Your_UserId","StreamType":0},'
    '"ObjectKey":"Your_ObjectKey","Format":0,"Width":640,"Height":360,"Size":28802,"TimeStamp":1647316896085}]}'
)


def signed(fields: dict[str, str], signature: str) -> dict[str, str]:
    return {**fields, "Signature": signature}


# ---------------------------------------------------------------------- sign / verify


def test_official_vector() -> None:
    assert cbsig.sign(OFFICIAL, OFFICIAL_SECRET) == OFFICIAL_SIGNATURE
    assert cbsig.verify(signed(OFFICIAL, OFFICIAL_SIGNATURE), OFFICIAL_SECRET)


def test_our_reading_vector() -> None:
    assert cbsig.sign(OURS, OURS_SECRET) == OURS_SIGNATURE
    assert cbsig.verify(signed(OURS, OURS_SIGNATURE), OURS_SECRET)


def test_wrong_secret_fails() -> None:
    assert not cbsig.verify(signed(OFFICIAL, OFFICIAL_SIGNATURE), "12345")


def test_older_noce_spelling_is_accepted() -> None:
    fields = {k: v for k, v in OFFICIAL.items() if k != "Nonce"} | {"Noce": OFFICIAL["Nonce"]}
    assert cbsig.sign(fields, OFFICIAL_SECRET) == OFFICIAL_SIGNATURE
    assert cbsig.verify(signed(fields, OFFICIAL_SIGNATURE), OFFICIAL_SECRET)


def test_upper_case_hex_verifies() -> None:
    assert cbsig.verify(signed(OFFICIAL, OFFICIAL_SIGNATURE.upper()), OFFICIAL_SECRET)


def test_unsigned_fields_do_not_count() -> None:
    fields = {**OFFICIAL, "BusinessId": "biz", "Extra": "x"}
    assert cbsig.sign(fields, OFFICIAL_SECRET) == OFFICIAL_SIGNATURE


def _change_one_byte(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("b" if last == "a" else "a")


@pytest.mark.parametrize("name", [*cbsig.SIGNED_FIELDS, "Signature"])
def test_one_changed_byte_in_any_field_fails(name: str) -> None:
    message = signed(OFFICIAL, OFFICIAL_SIGNATURE)
    message[name] = _change_one_byte(message[name])
    assert not cbsig.verify(message, OFFICIAL_SECRET)


@pytest.mark.parametrize("name", [*cbsig.SIGNED_FIELDS, "Signature"])
def test_missing_field_is_false(name: str) -> None:
    message = signed(OFFICIAL, OFFICIAL_SIGNATURE)
    del message[name]
    assert cbsig.verify(message, OFFICIAL_SECRET) is False


@pytest.mark.parametrize("name", cbsig.SIGNED_FIELDS)
def test_sign_names_the_missing_field(name: str) -> None:
    fields = {k: v for k, v in OFFICIAL.items() if k != name}
    with pytest.raises(ValueError, match=rf"^{name}: missing"):
        cbsig.sign(fields, OFFICIAL_SECRET)


@pytest.mark.parametrize(
    "change",
    [
        {"EventData": {"RoomId": "room1"}},  # a decoded object, not the JSON string
        {"AppId": None},
        {"Nonce": 1234},
        {"Signature": None},
        {"Signature": OFFICIAL_SIGNATURE[:-1] + "é"},
        {"EventId": "\ud800"},  # a lone surrogate, as json.loads makes of "\ud800"
    ],
)
def test_malformed_messages_are_false_not_errors(change: dict[str, Any]) -> None:
    message: dict[str, Any] = {**signed(OFFICIAL, OFFICIAL_SIGNATURE), **change}
    assert cbsig.verify(message, OFFICIAL_SECRET) is False


def test_non_mapping_message_is_false() -> None:
    assert cbsig.verify([("Signature", OFFICIAL_SIGNATURE)], OFFICIAL_SECRET) is False  # type: ignore[arg-type]


def test_sort_is_by_utf8_bytes_and_includes_the_secret() -> None:
    # An oracle written out by hand: upper case before lower case, digits before letters,
    # non-ASCII (UTF-8 lead byte >= 0xC3) after every ASCII value.
    fields = {
        "EventType": "b",
        "EventData": "é",
        "EventTime": "A",
        "EventId": "a",
        "AppId": "Z",
        "Version": "9",
        "Nonce": "z",
    }
    order = ["9", "A", "Z", "a", "b", "s", "z", "é"]
    expected = hashlib.sha256("".join(order).encode("utf-8")).hexdigest()
    assert cbsig.sign(fields, "s") == expected


_FIELD_VALUES = st.text()  # hypothesis excludes lone surrogates by default


@given(
    values=st.fixed_dictionaries({name: _FIELD_VALUES for name in cbsig.SIGNED_FIELDS}),
    # under rtcsnap.secrets.MIN_LENGTH: generated values must not join the process-wide secret set
    secret=st.text(max_size=7),
    shuffle=st.randoms(use_true_random=False),
)
def test_sign_is_order_independent_and_verifies(
    values: dict[str, str], secret: str, shuffle: random.Random
) -> None:
    items = list(values.items())
    shuffle.shuffle(items)
    reordered = dict(items)
    signature = cbsig.sign(values, secret)
    assert cbsig.sign(reordered, secret) == signature
    assert re.fullmatch(r"[0-9a-f]{64}", signature)
    assert cbsig.verify({**reordered, "Signature": signature}, secret)


# ---------------------------------------------------------------------- envelope


def test_envelope_round_trip() -> None:
    data = {"RoomId": "房间", "N": 1}
    env = cbsig.envelope(
        "SnapshotRealTimeData",
        data,
        app_id="app",
        version="2022-06-01",
        secret=OURS_SECRET,
        business_id="biz",
    )
    assert list(env) == [
        "EventType",
        "EventData",
        "EventTime",
        "EventId",
        "AppId",
        "Version",
        "BusinessId",
        "Nonce",
        "Signature",
    ]
    assert cbsig.verify(env, OURS_SECRET)
    assert env["EventData"] == '{"RoomId":"房间","N":1}'  # compact, non-ASCII kept
    assert json.loads(env["EventData"]) == data
    assert re.fullmatch(r"[0-9a-f]{32}", env["EventId"])
    assert re.fullmatch(r"[A-Za-z0-9]{4}", env["Nonce"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", env["EventTime"])
    assert (env["AppId"], env["Version"], env["BusinessId"]) == ("app", "2022-06-01", "biz")


def test_envelope_defaults_are_fresh_and_business_id_is_optional() -> None:
    a = cbsig.envelope("E", "{}", app_id="app", version="v", secret=OURS_SECRET)
    b = cbsig.envelope("E", "{}", app_id="app", version="v", secret=OURS_SECRET)
    assert "BusinessId" not in a
    assert a["EventData"] == "{}"  # a string is taken verbatim
    assert a["EventId"] != b["EventId"]


def test_envelope_with_given_values_reproduces_the_vector() -> None:
    env = cbsig.envelope(
        OURS["EventType"],
        OURS["EventData"],
        app_id=OURS["AppId"],
        version=OURS["Version"],
        secret=OURS_SECRET,
        event_id=OURS["EventId"],
        nonce=OURS["Nonce"],
        event_time=OURS["EventTime"],
    )
    assert env == signed(OURS, OURS_SIGNATURE)


def test_envelope_formats_a_numeric_event_time() -> None:
    env = cbsig.envelope("E", "{}", app_id="a", version="v", secret=OURS_SECRET, event_time=1704164645.5)
    assert env["EventTime"] == "2024-01-02T03:04:05.500000000Z"


# ---------------------------------------------------------------------- event_time, nonce


def test_event_time_has_nanoseconds_in_utc() -> None:
    assert cbsig.event_time(1704164645.123456789).startswith("2024-01-02T03:04:05.123456")
    assert cbsig.event_time(1704164645.0) == "2024-01-02T03:04:05.000000000Z"
    assert cbsig.event_time(0.9999999999) == "1970-01-01T00:00:01.000000000Z"  # rounding carries


def test_event_time_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="finite"):
        cbsig.event_time(float("nan"))


def test_new_nonce() -> None:
    assert cbsig.new_nonce(random.Random(3)) == cbsig.new_nonce(random.Random(3))
    nonces = {cbsig.new_nonce() for _ in range(50)}
    assert all(re.fullmatch(r"[A-Za-z0-9]{4}", n) for n in nonces)
    assert len(nonces) > 1


# ---------------------------------------------------------------------- SnapshotRealTimeData


def test_snapshot_event_data_matches_the_doc_example() -> None:
    data = cbsig.snapshot_event_data(
        app_id="Your_AppId",
        business_id="Your_BusinessId",
        room_id="Your_RoomId",
        task_id="Your_TaskId",
        bucket="Your_Bucket",
        images=[
            ImageRecord(
                user_id="Your_UserId",
                stream_type=0,
                object_key="Your_ObjectKey",
                format=0,
                width=640,
                height=360,
                size=28802,
                timestamp_ms=1647316896085,
            )
        ],
    )
    assert data == json.loads(DOC_EXAMPLE)
    assert json.dumps(data, separators=(",", ":")) == DOC_EXAMPLE  # key order too


def test_snapshot_event_data_for_veimagex_with_index_and_no_business_id() -> None:
    image = ImageRecord(
        user_id="u",
        stream_type=1,
        index=2,
        veimagex_uri="tos-cn-i-x/a.png",
        format=1,
        width=16,
        height=9,
        size=10,
        timestamp_ms=5,
    )
    data = cbsig.snapshot_event_data(
        app_id="a",
        business_id=None,
        room_id="r",
        task_id="t",
        veimagex_service_id="svc",
        images=[image, image],
    )
    assert data["BusinessId"] == ""
    assert data["VeImageXServiceId"] == "svc"
    assert "Bucket" not in data
    assert data["Data"][0] == {
        "Stream": {"UserId": "u", "StreamType": 1, "Index": 2},
        "VeImageXUri": "tos-cn-i-x/a.png",
        "Format": 1,
        "Width": 16,
        "Height": 9,
        "Size": 10,
        "TimeStamp": 5,
    }
    assert len(data["Data"]) == 2


def _image(**change: Any) -> ImageRecord:
    base: dict[str, Any] = dict(
        user_id="u", stream_type=0, object_key="k", format=0, width=1, height=1, size=1, timestamp_ms=1
    )
    return ImageRecord(**(base | change))


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ({"bucket": "b", "veimagex_service_id": "s"}, "exactly one of bucket and veimagex_service_id"),
        ({}, "exactly one of bucket and veimagex_service_id"),
    ],
)
def test_snapshot_event_data_needs_exactly_one_storage(storage: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cbsig.snapshot_event_data(
            app_id="a", business_id="", room_id="r", task_id="t", images=[_image()], **storage
        )


def test_snapshot_event_data_rejects_an_image_of_the_other_storage() -> None:
    with pytest.raises(ValueError, match=r"Data\[0\]: must carry veimagex_uri"):
        cbsig.snapshot_event_data(
            app_id="a", business_id="", room_id="r", task_id="t", veimagex_service_id="s", images=[_image()]
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"veimagex_uri": "v"}, "exactly one of object_key and veimagex_uri"),
        ({"object_key": None}, "exactly one of object_key and veimagex_uri"),
        ({"width": -1}, r"ImageRecord.width: must be an integer in \[0, 4294967295\]"),
        ({"format": 2}, r"ImageRecord.format: must be an integer in \[0, 1\]"),
        ({"stream_type": True}, r"ImageRecord.stream_type: must be an integer"),
        ({"index": 2**32}, r"ImageRecord.index: must be an integer"),
        ({"timestamp_ms": 1.5}, r"ImageRecord.timestamp_ms: must be an integer"),
    ],
)
def test_image_record_validation(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _image(**change)
