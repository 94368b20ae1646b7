"""`rtcsnap emulator room …`: the real CLI (a subprocess) against a served `ControlApi`."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rtcsnap.emulator.config import ManualClock
from rtcsnap.emulator.control import PREFIX, ControlApi
from rtcsnap.emulator.rooms import CAMERA, SCREEN, RoomBook, TextSpec
from rtcsnap.emulator.sources import SyntheticSource
from starlette.responses import JSONResponse, Response

from tests.conftest import run_cli
from tests.emulator.test_control import T0, ControlServer, declared_book
from tests.emulator.test_sources import make_video


@pytest.fixture(scope="module")
def server() -> Iterator[ControlServer]:
    with ControlServer(ControlApi(declared_book(ManualClock(T0)))) as running:
        yield running


@pytest.fixture
def book(server: ControlServer) -> RoomBook:
    fresh = declared_book(ManualClock(T0))
    server.app = ControlApi(fresh)
    return fresh


def room(server: ControlServer, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli("emulator", "room", *args, "--endpoint", server.url, env=env)


def test_publish_camera_unpublish_and_list(server: ControlServer, book: RoomBook, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4")
    relative = os.path.relpath(clip)  # the CLI sends it as an absolute path
    r = room(server, "publish", "app1", "room1", "bob", "--screen", "--size", "800x600", "--source", relative)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"bob screen 800x600: publishing, screen on, source {clip}"
    view = book.stream("app1", "room1", "bob", SCREEN)
    assert view is not None and (view.width, view.height, view.source, view.publishing) == (
        800,
        600,
        clip,
        True,
    )

    assert room(server, "camera", "app1", "room1", "bob", "off", "--screen").returncode == 0
    assert book.stream("app1", "room1", "bob", SCREEN).camera is False  # type: ignore[union-attr]
    r = room(server, "unpublish", "app1", "room1", "alice")
    assert r.returncode == 0 and "alice camera 1280x720: not publishing" in r.stdout
    assert book.stream("app1", "room1", "alice", CAMERA).publishing is False  # type: ignore[union-attr]

    listed = room(server, "list", "app1", "room1", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == httpx.get(f"{server.url}{PREFIX}/rooms/app1/room1").json()
    table = room(server, "list", "app1", "room1")
    rows = [line.split() for line in table.stdout.splitlines()]
    assert rows[0] == ["user", "type", "size", "publishing", "camera", "since", "source"]
    assert [row[:5] for row in rows[1:]] == [
        ["alice", "camera", "1280x720", "no", "on"],
        ["alice", "screen", "1920x1080", "yes", "off"],
        ["bob", "screen", "800x600", "yes", "off"],
    ]
    assert rows[3][-1] == str(clip) and rows[1][-1] == "synthetic"


def test_the_endpoint_comes_from_the_environment(server: ControlServer, book: RoomBook) -> None:
    r = run_cli(
        "emulator", "room", "publish", "app5", "r5", "eve", env={"RTCSNAP_EMULATOR_ENDPOINT": server.url}
    )
    assert r.returncode == 0, r.stderr
    assert book.stream("app5", "r5", "eve", CAMERA) is not None


def test_a_malformed_size_is_refused_before_sending(server: ControlServer, book: RoomBook) -> None:
    r = room(server, "publish", "app1", "room1", "bob", "--size", "800by600")
    assert (r.returncode, r.stderr) == (2, "error: --size: expected WIDTHxHEIGHT, e.g. 1280x720\n")
    assert book.stream("app1", "room1", "bob", CAMERA) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("publish", "app1", "room1", "bob", "--size", "8x600"),
         "error: emulator: width: must be an integer in [16, 3840] (got 8)"),
        (("unpublish", "app1", "room1", "nobody", "--screen"),
         "error: emulator: no stream of type 1 of user 'nobody' in room 'room1' of app 'app1'"),
    ],
)  # fmt: skip
def test_a_refusal_of_the_emulator_is_exit_2_with_its_message(
    server: ControlServer, book: RoomBook, args: tuple[str, ...], message: str
) -> None:
    r = room(server, *args)
    assert (r.returncode, r.stderr.splitlines()) == (2, [message])


def test_a_missing_source_file_is_a_usage_error(
    server: ControlServer, book: RoomBook, tmp_path: Path
) -> None:
    r = room(server, "publish", "app1", "room1", "bob", "--source", str(tmp_path / "none.mp4"))
    assert r.returncode == 2 and "--source" in r.stderr and "does not exist" in r.stderr
    assert book.stream("app1", "room1", "bob", CAMERA) is None


def test_an_unreachable_emulator_is_exit_1_naming_the_endpoint() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    r = run_cli("emulator", "room", "list", "app1", "room1", "--endpoint", endpoint)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(f"error: cannot reach the emulator at {endpoint}: ")
    assert "Traceback" not in r.stderr


def test_a_failing_or_foreign_server_is_exit_1(server: ControlServer) -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        body = {"error": {"code": "InternalError", "message": "The emulator failed to process the request."}}
        await JSONResponse(body, status_code=500)(scope, receive, send)

    async def foreign(scope: Any, receive: Any, send: Any) -> None:
        await Response("<html>hello</html>", media_type="text/html")(scope, receive, send)

    server.app = failing
    r = room(server, "camera", "app1", "room1", "alice", "on")
    assert (r.returncode, r.stderr.splitlines()) == (
        1,
        ["error: emulator: The emulator failed to process the request. (HTTP 500)"],
    )
    server.app = foreign
    r = room(server, "list", "app1", "room1")
    assert r.returncode == 1
    assert r.stderr == f"error: {server.url} did not answer as an rtcsnap emulator (HTTP 200, not JSON)\n"


def test_publish_with_a_text_draws_it_and_lists_it(server: ControlServer, book: RoomBook) -> None:
    r = room(server, "publish", "app1", "room1", "bob", "--size", "320x180", "--text", "BUY GUNS HERE",
             "--text-size", "0.2", "--text-from", "5", "--text-until", "60")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        "bob camera 320x180: publishing, camera on, source synthetic, text 'BUY GUNS HERE' (from 5 s, until 60 s)"
    )
    view = book.stream("app1", "room1", "bob", CAMERA)
    assert view is not None and view.text == TextSpec("BUY GUNS HERE", 0.2, 5.0, 60.0)
    plain = SyntheticSource("bob", CAMERA, 320, 180)
    assert book.frame("app1", "room1", "bob", CAMERA, T0 + 5).tobytes() != plain.frame(T0 + 5).tobytes()
    table = room(server, "list", "app1", "room1").stdout
    assert "synthetic, text 'BUY GUNS HERE' (from 5 s, until 60 s)" in table

    r = room(server, "publish", "app1", "room1", "bob", "--no-text")
    assert r.returncode == 0 and r.stdout.strip().endswith("source synthetic"), r.stderr
    assert book.stream("app1", "room1", "bob", CAMERA).text is None  # type: ignore[union-attr]


def test_a_cjk_text_goes_through_as_it_is(server: ControlServer, book: RoomBook) -> None:
    from rtcsnap.emulator.textbox import MissingGlyphs, font_for

    try:
        font_for("买枪")
    except MissingGlyphs:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    r = room(server, "publish", "app1", "room1", "bob", "--text", "在这里买枪")
    assert r.returncode == 0, r.stderr
    assert book.stream("app1", "room1", "bob", CAMERA).text == TextSpec("在这里买枪")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--text", ""), "error: emulator: text: must not be empty or only spaces"),
        (("--text", "BUY", "--text-size", "0.9"), "error: emulator: text_size: must be a number in [0.02, 0.5]"
         " (a fraction of the frame height; got 0.9)"),
        (("--text-until", "3"), "error: emulator: text_until: goes with text: give a text to draw"),
        (("--text", "BUY", "--no-text"), "error: --text and --no-text: give one of them"),
    ],
)  # fmt: skip
def test_a_bad_text_is_exit_2_with_the_rule(
    server: ControlServer, book: RoomBook, args: tuple[str, ...], message: str
) -> None:
    r = room(server, "publish", "app1", "room1", "bob", *args)
    assert (r.returncode, r.stderr.splitlines()) == (2, [message])
    assert book.stream("app1", "room1", "bob", CAMERA) is None
