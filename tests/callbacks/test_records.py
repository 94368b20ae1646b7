"""Callback bodies into events and snapshot records: what is accepted, and every refusal named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rtcsnap.callbacks.records import BadEnvelope, event_time_of, parse_body, parse_event, snapshot_records
from rtcsnap.protocol import callback_signature as cbsig


def snapshot_envelope(**data_overrides: Any) -> dict[str, str]:
    image = cbsig.ImageRecord(
        user_id="alice",
        stream_type=1,
        index=2,
        object_key="a/b.jpg",
        veimagex_uri=None,
        format=0,
        width=640,
        height=360,
        size=28802,
        timestamp_ms=1647316896085,
    )
    data = cbsig.snapshot_event_data(
        app_id="app1", business_id="biz", room_id="room1", task_id="t1", bucket="snaps", images=[image]
    )
    data.update(data_overrides)
    return cbsig.envelope(cbsig.EVENT_SNAPSHOT, data, app_id="app1", version="2023-11-01", secret="s3cret-x")


def parsed(envelope: dict[str, Any]) -> Any:
    raw = json.dumps(envelope)
    return parse_event(parse_body(raw.encode()), raw)


def test_a_snapshot_event_yields_one_record_per_image() -> None:
    env = snapshot_envelope()
    event = parsed(env)
    assert event.event_id == env["EventId"] and event.raw == json.dumps(env)
    (record,) = snapshot_records(event)
    assert (record.user_id, record.stream_type, record.stream_index) == ("alice", 1, 2)
    assert (record.bucket, record.object_key, record.veimagex_uri) == ("snaps", "a/b.jpg", None)
    assert (record.width, record.height, record.size, record.timestamp_ms) == (640, 360, 28802, 1647316896085)
    assert (record.room_id, record.task_id, record.business_id) == ("room1", "t1", "biz")


def test_several_images_in_one_callback() -> None:
    env = snapshot_envelope()
    data = json.loads(env["EventData"])
    data["Data"].append({**data["Data"][0], "ObjectKey": "a/c.jpg", "Stream": {"UserId": "bob"}})
    env["EventData"] = json.dumps(data)
    records = snapshot_records(parsed(env))
    assert [(r.user_id, r.stream_type, r.object_key) for r in records] == [
        ("alice", 1, "a/b.jpg"),
        ("bob", 0, "a/c.jpg"),
    ]


def test_other_event_types_are_events_without_records() -> None:
    env = cbsig.envelope("RoomCreate", {"RoomId": "r"}, app_id="a", version="2020-12-01", secret="s3cret-x")
    assert snapshot_records(parsed(env)) == []


@pytest.mark.parametrize(
    "text",
    [
        "2023-03-21T15:32:04+08:00",
        "1970-07-01T00:00:00.000000000Z",
        "2024-01-02T03:04:05.123456789Z",
        "2024-01-02T03:04:05Z",
    ],
)
def test_event_times_with_offsets_and_nanoseconds(text: str) -> None:
    assert event_time_of(text).tzinfo is not None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.pop("EventId"), "EventId: required"),
        (lambda e: e.update(EventTime="yesterday"), "EventTime"),
        (lambda e: e.update(EventTime="2024-01-02T03:04:05"), "no time zone"),
        (lambda e: e.pop("Nonce"), "Nonce: required"),
        (lambda e: e.update(AppId=7), "AppId: required, a string"),
    ],
)
def test_bad_envelopes_name_the_field(mutate: Any, message: str) -> None:
    env: dict[str, Any] = snapshot_envelope()
    mutate(env)
    with pytest.raises(BadEnvelope, match=message):
        parsed(env)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Data": []}, r"EventData.Data: required, a non-empty array"),
        (
            {"Data": [{"Stream": {"UserId": "u"}, "Width": 1, "Height": 1, "Size": 1, "TimeStamp": 1}]},
            "needs ObjectKey or VeImageXUri",
        ),
        (
            {"Data": [{"ObjectKey": "k", "Width": 1, "Height": 1, "Size": 1, "TimeStamp": 1}]},
            r"Data\[0\].Stream",
        ),
        (
            {
                "Data": [
                    {
                        "ObjectKey": "k",
                        "Stream": {"UserId": "u"},
                        "Width": -1,
                        "Height": 1,
                        "Size": 1,
                        "TimeStamp": 1,
                    }
                ]
            },
            r"Data\[0\].Width",
        ),
        ({"RoomId": ""}, "EventData.RoomId"),
    ],
)
def test_bad_snapshot_data_names_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(BadEnvelope, match=message):
        snapshot_records(parsed(snapshot_envelope(**overrides)))


def test_bodies_that_are_not_json_objects() -> None:
    for body in (b"\xff\xfe", b"[1]", b"{"):
        with pytest.raises(BadEnvelope, match="body"):
            parse_body(body)
