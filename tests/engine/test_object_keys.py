"""Object key templates: validated up front (assumption A30 is only the default)."""

from __future__ import annotations

from typing import Any

import pytest
from rtcsnap.emulator.object_keys import DEFAULT_TEMPLATE, KeyTemplate
from rtcsnap.errors import ConfigurationError

ARGS: dict[str, Any] = dict(
    app_id="app1",
    room_id="room1",
    task_id="t1",
    business_id=None,
    user_id="alice",
    stream_type=1,
    index=None,
    timestamp_ms=1700000000123,
    ext="png",
)


def test_default_layout() -> None:
    assert KeyTemplate(DEFAULT_TEMPLATE).render(**ARGS) == "app1/room1/t1/alice_1_1700000000123.png"


def test_custom_template_with_every_field() -> None:
    t = KeyTemplate(
        "snaps/{BusinessId}/{AppId}-{RoomId}-{TaskId}/{UserId}/{StreamType}{Index}/{TimeStamp}.{ext}"
    )
    assert (
        t.render(**{**ARGS, "business_id": "biz", "index": 3})
        == "snaps/biz/app1-room1-t1/alice/13/1700000000123.png"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{AppId}/{Nope}_{TimeStamp}", "unknown placeholder {Nope}"),
        ("{AppId}/{UserId}.jpg", "must contain {TimeStamp}"),
        ("{TimeStamp:>20}", "takes no format spec"),
        ("/{AppId}/{TimeStamp}", "no leading '/'"),
        ("{AppId}//{TimeStamp}", "no empty path segment"),
        ("{AppId/{TimeStamp}", "--object-key-template"),
    ],
)
def test_bad_templates_are_refused_with_the_rule(template: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match="--object-key-template") as err:
        KeyTemplate(template)
    assert message in str(err.value)
