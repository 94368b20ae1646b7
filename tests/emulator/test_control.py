"""The control API over real HTTP: uvicorn on 127.0.0.1 (port 0) serving `ControlApi`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rtcsnap.asgi.server import BackgroundServer
from rtcsnap.clock import ManualClock
from rtcsnap.emulator.config import MAX_BODY_BYTES
from rtcsnap.emulator.control import PREFIX, ControlApi
from rtcsnap.emulator.rooms import CAMERA, SCREEN, RoomBook, RoomSpec, StreamSpec, StreamView, UserSpec

from tests.emulator.test_sources import make_video

T0 = 1_700_000_000.0
NO_TEXT = {"text": None, "text_size": None, "text_from": None, "text_until": None}
"""A stream's text fields when it has no text."""


class ControlServer(BackgroundServer):
    """The shared background server; `app` is swapped between tests (one server per module, a fresh
    `ControlApi` per test)."""


def declared_book(clock: ManualClock) -> RoomBook:
    alice = UserSpec("alice", (StreamSpec(CAMERA, 1280, 720), StreamSpec(SCREEN, 1920, 1080, camera=False)))
    return RoomBook(clock, [RoomSpec("app1", "room1", (alice,))])


class Tasks:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = [{"task_id": "t1", "images": 3}]
        self.fail = False

    def task_status(self) -> list[dict[str, Any]]:
        if self.fail:
            raise RuntimeError("engine bug")
        return self.rows


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def book(clock: ManualClock) -> RoomBook:
    return declared_book(clock)


@pytest.fixture
def tasks() -> Tasks:
    return Tasks()


@pytest.fixture(scope="module")
def server() -> Iterator[ControlServer]:
    with ControlServer(ControlApi(declared_book(ManualClock(T0)))) as running:
        yield running


@pytest.fixture
def api(server: ControlServer, book: RoomBook, tasks: Tasks) -> Iterator[httpx.Client]:
    server.app = ControlApi(book, tasks)
    with httpx.Client(base_url=server.url + PREFIX) as client:
        yield client


def err(resp: httpx.Response) -> tuple[int, str, str]:
    assert resp.headers["content-type"] == "application/json"
    e = resp.json()["error"]
    return resp.status_code, e["code"], e["message"]


def test_rooms_and_room_listing(api: httpx.Client, book: RoomBook) -> None:
    book.publish("app2", "other", "zed")
    assert api.get("/rooms").json() == {
        "rooms": [{"app_id": "app1", "room_id": "room1"}, {"app_id": "app2", "room_id": "other"}]
    }
    resp = api.get("/rooms/app1/room1")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    assert resp.json() == {
        "app_id": "app1",
        "room_id": "room1",
        "streams": [
            {"user_id": "alice", "stream_type": 0, "width": 1280, "height": 720, "publishing": True,
             "camera": True, "source": None, "since": T0, **NO_TEXT},
            {"user_id": "alice", "stream_type": 1, "width": 1920, "height": 1080, "publishing": True,
             "camera": False, "source": None, "since": T0, **NO_TEXT},
        ],
    }  # fmt: skip
    assert api.get("/rooms/app1/nobody-here").json() == {
        "app_id": "app1",
        "room_id": "nobody-here",
        "streams": [],
    }


def test_publish_unpublish_and_camera_change_the_book(
    api: httpx.Client, book: RoomBook, clock: ManualClock, tmp_path: Path
) -> None:
    seen: list[StreamView] = []
    book.add_listener(seen.append)
    clip = make_video(tmp_path / "clip.mp4")
    clock.advance(3)
    resp = api.post(
        "/rooms/app1/room1/users/bob/publish",
        json={"stream_type": 1, "width": 800, "height": 600, "source": str(clip)},
    )
    assert resp.status_code == 200
    assert resp.json() == {"user_id": "bob", "stream_type": 1, "width": 800, "height": 600, "publishing": True,
                           "camera": True, "source": str(clip), "since": T0 + 3, **NO_TEXT}  # fmt: skip
    assert book.stream("app1", "room1", "bob", SCREEN) == seen[-1]
    assert book.frame("app1", "room1", "bob", SCREEN, T0).size == (800, 600)

    clock.advance(2)
    off = api.post("/rooms/app1/room1/users/alice/unpublish", json={}).json()
    assert (off["stream_type"], off["publishing"], off["since"]) == (0, False, T0 + 5)
    cam = api.post("/rooms/app1/room1/users/alice/camera", json={"stream_type": 1, "on": True}).json()
    assert (cam["stream_type"], cam["camera"]) == (1, True)
    assert [(v.user_id, v.stream_type, v.publishing, v.camera) for v in seen] == [
        ("bob", 1, True, True),
        ("alice", 0, False, True),
        ("alice", 1, True, True),
    ]


def test_an_empty_publish_body_publishes_a_default_camera(api: httpx.Client) -> None:
    stream = api.post("/rooms/app9/r9/users/carol/publish").json()
    assert (stream["stream_type"], stream["width"], stream["height"], stream["source"]) == (
        0,
        1280,
        720,
        None,
    )


def test_path_segments_are_url_decoded(api: httpx.Client, book: RoomBook) -> None:
    assert api.post("/rooms/app%2D1/room%2E1/users/a%40b.c/publish").status_code == 200
    assert book.stream("app-1", "room.1", "a@b.c", CAMERA) is not None
    assert api.get("/rooms/app%2D1/room%2E1").json()["streams"][0]["user_id"] == "a@b.c"


def test_tasks_come_from_the_task_source(api: httpx.Client, tasks: Tasks) -> None:
    assert api.get("/tasks").json() == {"tasks": [{"task_id": "t1", "images": 3}]}
    tasks.rows = []
    assert api.get("/tasks").json() == {"tasks": []}


def test_without_a_task_source_tasks_is_empty(server: ControlServer, book: RoomBook) -> None:
    server.app = ControlApi(book)
    assert httpx.get(f"{server.url}{PREFIX}/tasks").json() == {"tasks": []}


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("publish", {"width": 8, "height": 600}, (400, "InvalidField", "width: must be an integer in [16, 3840] (got 8)")),
        ("publish", {"width": 800}, (400, "InvalidField", "height: give width and height together")),
        ("publish", {"stream_type": 2}, (400, "InvalidField", "stream_type: must be 0 (camera) or 1 (screen) (got 2)")),
        ("publish", {"stream_type": True}, (400, "InvalidField", "stream_type: must be 0 (camera) or 1 (screen)")),
        ("publish", {"source": "clip.mp4"}, (400, "InvalidField", "source: must be an absolute path (a string) or null")),
        ("publish", {"source": "/no/such.mp4"}, (400, "InvalidField", "source: must be an existing video file")),
        ("publish", {"fps": 30}, (400, "InvalidField", "body: unknown field(s) 'fps' (allowed: stream_type, width, height, source, text, text_size, text_from, text_until)")),
        ("camera", {"stream_type": 0}, (400, "InvalidField", "on: is required (true or false)")),
        ("camera", {"on": "yes"}, (400, "InvalidField", "on: must be true or false")),
        ("unpublish", {"on": True}, (400, "InvalidField", "body: unknown field(s) 'on' (allowed: stream_type)")),
        ("unpublish", {"stream_type": 1.5}, (400, "InvalidField", "stream_type: must be 0 (camera) or 1 (screen)")),
    ],
)  # fmt: skip
def test_bad_fields_are_400_naming_field_and_rule(
    api: httpx.Client, path: str, body: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    status, code, message = err(api.post(f"/rooms/app1/room1/users/alice/{path}", json=body))
    assert (status, code) == expected[:2] and message.startswith(expected[2])


def test_bad_ids_in_the_path_are_400(api: httpx.Client) -> None:
    status, code, message = err(api.post("/rooms/app%201/room1/users/alice/publish"))
    assert (status, code) == (400, "InvalidField") and message.startswith("app_id: must match")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "body: not valid JSON"),
        (b"[1, 2]", "body: must be a JSON object"),
        (b'"x"', "body: must be"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(api: httpx.Client, raw: bytes, message: str) -> None:
    status, code, text = err(api.post("/rooms/app1/room1/users/alice/publish", content=raw))
    assert (status, code) == (400, "InvalidJSON") and text.startswith(message)


@pytest.mark.parametrize("action", ["unpublish", "camera"])
def test_changing_an_unknown_stream_is_404(api: httpx.Client, action: str) -> None:
    body = {"on": False} if action == "camera" else {}
    status, code, message = err(api.post(f"/rooms/app1/room1/users/nobody/{action}", json=body))
    assert (status, code) == (404, "StreamNotFound") and "'nobody'" in message


@pytest.mark.parametrize(
    "path",
    ["/_rtcsnap/v1/nothing", "/_rtcsnap/v1/rooms/app1", "/_rtcsnap/v1/rooms/app1/room1/users/alice/dance",
     "/_rtcsnap/v1/rooms//room1", "/_rtcsnap/v1/", "/_rtcsnap/v1", "/elsewhere"],
)  # fmt: skip
def test_unknown_routes_are_404_json(api: httpx.Client, path: str) -> None:
    resp = httpx.get(str(api.base_url.copy_with(path=path, raw_path=path.encode())))
    assert err(resp)[:2] == (404, "NotFound")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/rooms", "GET"),
        ("DELETE", "/rooms/app1/room1", "GET"),
        ("GET", "/rooms/app1/room1/users/alice/publish", "POST"),
        ("PUT", "/tasks", "GET"),
    ],
)
def test_wrong_methods_are_405_with_allow(api: httpx.Client, method: str, path: str, allow: str) -> None:
    resp = api.request(method, path)
    assert err(resp)[:2] == (405, "MethodNotAllowed") and resp.headers["allow"] == allow


def test_a_declared_oversized_body_is_413_unread(api: httpx.Client, book: RoomBook) -> None:
    body = json.dumps({"width": 800, "height": 600, "pad": "x" * MAX_BODY_BYTES}).encode()
    resp = api.post("/rooms/app1/room1/users/zoe/publish", content=body)
    assert err(resp)[:2] == (413, "RequestEntityTooLarge")
    assert resp.headers["connection"] == "close"
    assert book.stream("app1", "room1", "zoe", CAMERA) is None


def test_a_streamed_oversized_body_is_cut_off_at_the_limit(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked, so only reading can tell
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b" " * 4096  # JSON whitespace: only the size can make this fail

    resp = api.post("/rooms/app1/room1/users/zoe/publish", content=chunks())
    assert err(resp)[:2] == (413, "RequestEntityTooLarge")


def test_a_failing_task_source_is_a_logged_500(
    api: httpx.Client, tasks: Tasks, caplog: pytest.LogCaptureFixture
) -> None:
    tasks.fail = True
    with caplog.at_level(logging.ERROR, logger="rtcsnap.emulator.control"):
        status, code, message = err(api.get("/tasks"))
    assert (status, code) == (500, "InternalError") and "engine bug" not in message
    assert "control API failed on GET /_rtcsnap/v1/tasks" in caplog.text


def test_non_http_scopes_are_ignored(book: RoomBook) -> None:
    import asyncio

    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(ControlApi(book)({"type": "lifespan"}, receive, send))
    assert sent == []
