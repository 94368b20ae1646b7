"""Shared pieces of the engine tests: room files, callback checks, reading images back."""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from PIL import Image
from rtcsnap.emulator.uploads import Destination, Uploader
from rtcsnap.protocol import callback_signature
from rtcsnap.providers.contract import ObjectInfo
from rtcsnap.storage import iter_objects, open_session
from rtcsnap.testing.service import SnapshotService

TWO_USERS = """
[[room]]
app_id = "app1"
room_id = "room1"

[[room.user]]
user_id = "alice"
streams = [{ type = 0, width = 1280, height = 720 }]

[[room.user]]
user_id = "bob"
streams = [{ type = 0, width = 640, height = 480 }, { type = 1, width = 1920, height = 1080 }]
"""


def rooms_file(tmp_path: Path, text: str = TWO_USERS) -> Path:
    path = tmp_path / "rooms.toml"
    path.write_text(text)
    return path


def events(svc: SnapshotService) -> list[dict[str, Any]]:
    """Every delivered callback, each checked: signature valid with the service's secret, then
    decoded (`EventData` parsed)."""
    assert svc.callbacks is not None
    sender = svc.engine.callbacks
    assert sender is None or sender.stats.failed == 0, sender.stats
    out = []
    for body in svc.callbacks.bodies():
        assert callback_signature.verify(body, svc.callback_secret), body
        out.append({**body, "EventData": json.loads(body["EventData"])})
    return out


def images(svc: SnapshotService) -> list[dict[str, Any]]:
    """One record per image announced: the Data[] entries with their event's fields."""
    out = []
    for event in events(svc):
        assert event["EventType"] == "SnapshotRealTimeData"
        for item in event["EventData"]["Data"]:
            out.append({**item, "event": event})
    return out


def series(svc: SnapshotService) -> dict[tuple[str, int], list[int]]:
    """(UserId, StreamType) -> the images' TimeStamps, sorted."""
    by: dict[tuple[str, int], list[int]] = defaultdict(list)
    for item in images(svc):
        by[(item["Stream"]["UserId"], item["Stream"]["StreamType"])].append(item["TimeStamp"])
    return {k: sorted(v) for k, v in by.items()}


def stored(svc: SnapshotService, kind: str) -> dict[str, bytes]:
    """Every object in the service's bucket on `kind`, read back with the admin key."""
    target = svc.target(kind, "admin")
    with open_session(target) as session:
        keys = [o.key for o in iter_objects(target)]
        out = {}
        for key in keys:
            with session.get(key) as stream:
                out[key] = stream.read()
    return out


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class RecordingUploader(Uploader):
    """The real uploader, remembering the bytes it was asked to store (to compare downloads), and
    able to hold puts until released (to stop a task with an upload in flight)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: dict[str, bytes] = {}
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Semaphore(0)

    def put(self, dest: Destination, key: str, data: bytes, content_type: str, **kwargs: Any) -> ObjectInfo:
        self.entered.release()
        self.gate.wait()
        info = super().put(dest, key, data, content_type, **kwargs)
        self.sent[key] = data
        return info
