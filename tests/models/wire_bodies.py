"""Shared valid bodies for the wire-model tests; each test copies and breaks one thing."""

from __future__ import annotations

import copy
from typing import Any

SECRET_KEY = "sk-Very$ecret-4711"
ACCESS_KEY = "AKLT-access-0815"


def tos_body() -> dict[str, Any]:
    return {
        "AppId": "app1",
        "RoomId": "room1",
        "TaskId": "task1",
        "TargetStreams": {
            "StreamList": [{"UserId": "user1", "StreamType": 0}, {"UserId": "user2", "StreamType": 1}]
        },
        "MaxIdleTime": 60,
        "ImageConfig": {"Format": 1, "Width": 640, "Height": 360, "Interval": 5},
        "StorageConfig": {"Type": 0, "TosConfig": {"AccountId": "2000000000", "Bucket": "b1", "Region": 1}},
    }


def custom_body(vendor: int = 0, region: Any = 0) -> dict[str, Any]:
    body = tos_body()
    body["StorageConfig"] = {
        "Type": 2,
        "CustomConfig": {
            "Vendor": vendor,
            "Region": region,
            "Bucket": "b2",
            "AccessKey": ACCESS_KEY,
            "SecretKey": SECRET_KEY,
        },
    }
    return body


def veimagex_body() -> dict[str, Any]:
    body = tos_body()
    body["StorageConfig"] = {
        "Type": 3,
        "VeImageXConfig": {"AccountId": "2000000000", "ServiceId": "svc1", "Region": 0},
    }
    return body


def edit(body: dict[str, Any], path: str, value: Any = ..., *, delete: bool = False) -> dict[str, Any]:
    """A copy of `body` with the dotted path (``A.B.0.C``) set to `value` or deleted."""
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if delete:
        del node[key]
    else:
        node[key] = value
    return out
