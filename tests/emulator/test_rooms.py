"""Declared rooms (the TOML file and its rules) and the live `RoomBook` the engine reads."""

from __future__ import annotations

import queue
import re
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image
from rtcsnap.emulator import rooms as rooms_module
from rtcsnap.emulator.config import ManualClock
from rtcsnap.emulator.rooms import (
    CAMERA,
    DEFAULT_SIZE,
    SCREEN,
    RoomBook,
    RoomError,
    RoomsFileError,
    RoomSpec,
    StreamNotFound,
    StreamSpec,
    StreamView,
    UserSpec,
    load_rooms,
    parse_rooms,
)
from rtcsnap.emulator.sources import SourceClosed, SourceError
from rtcsnap.errors import ConfigurationError

from tests.emulator.test_sources import index_of, make_video

T0 = 1_700_000_000.0
WAIT = 10.0  # seconds an Event may take before the test counts it as never set

EXAMPLE = """
[[room]]
app_id = "app1"
room_id = "room1"

[[room.user]]
user_id = "alice"
streams = [{ type = 0, width = 1280, height = 720 }, { type = 1, width = 1920, height = 1080, camera = false }]

[[room.user]]
user_id = "bob"
streams = [{ type = 0, source = "clips/bob.mp4", publishing = false }]

[[room]]
app_id = "app1"
room_id = "empty"
"""


def write(tmp_path: Path, text: str, name: str = "rooms.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the file


def test_the_documented_example_loads_with_its_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    (conf / "clips").mkdir(parents=True)
    make_video(conf / "clips" / "bob.mp4")
    monkeypatch.chdir(tmp_path)  # relative sources resolve against the file's folder, not the cwd
    rooms = load_rooms(write(conf, EXAMPLE))
    assert rooms == [
        RoomSpec(
            "app1",
            "room1",
            (
                UserSpec(
                    "alice", (StreamSpec(CAMERA, 1280, 720), StreamSpec(SCREEN, 1920, 1080, camera=False))
                ),
                UserSpec(
                    "bob",
                    (
                        StreamSpec(
                            CAMERA, *DEFAULT_SIZE[CAMERA], source=conf / "clips" / "bob.mp4", publishing=False
                        ),
                    ),
                ),
            ),
        ),
        RoomSpec("app1", "empty", ()),
    ]


def test_a_screen_stream_without_a_size_is_1920x1080() -> None:
    rooms = parse_rooms(
        {"room": [{"app_id": "a", "room_id": "r", "user": [{"user_id": "u", "streams": [{"type": 1}]}]}]}
    )
    assert rooms[0].users[0].streams == (StreamSpec(SCREEN, 1920, 1080),)


def test_an_empty_file_declares_no_rooms(tmp_path: Path) -> None:
    assert load_rooms(write(tmp_path, "")) == []


ONE_USER = """
[[room]]
app_id = "app1"
room_id = "room1"
[[room.user]]
user_id = "alice"
streams = [{ type = 0 }]
[[room.user]]
user_id = "bob"
streams = [%s]
"""


@pytest.mark.parametrize(
    ("streams", "message"),
    [
        (
            "{ type = 0, width = 8, height = 720 }",
            "room[0].user[1].streams[0].width: must be an integer in [16, 3840] (got 8)",
        ),
        (
            "{ type = 0, width = 1280, height = 4000 }",
            "room[0].user[1].streams[0].height: must be an integer in [16, 3840]",
        ),
        (
            '{ type = 0, width = "1280", height = 720 }',
            "room[0].user[1].streams[0].width: must be an integer in [16, 3840]",
        ),
        ("{ type = 0, width = 12.5, height = 720 }", "room[0].user[1].streams[0].width: must be an integer"),
        ("{ type = 0, width = true, height = 720 }", "room[0].user[1].streams[0].width: must be an integer"),
        ("{ type = 0, width = 1280 }", "room[0].user[1].streams[0].height: give width and height together"),
        ("{ type = 2 }", "room[0].user[1].streams[0].type: must be 0 (camera) or 1 (screen) (got 2)"),
        ("{ type = false }", "room[0].user[1].streams[0].type: must be 0 (camera) or 1 (screen)"),
        ("{ type = 0.0 }", "room[0].user[1].streams[0].type: must be 0 (camera) or 1 (screen)"),
        ("{ width = 1280, height = 720 }", "room[0].user[1].streams[0].type: is required"),
        ("{ type = 0, fps = 30 }", "room[0].user[1].streams[0]: unknown key(s) 'fps' (allowed: type, width,"),
        ('{ type = 0, camera = "yes" }', "room[0].user[1].streams[0].camera: must be true or false"),
        ("{ type = 0, publishing = 1 }", "room[0].user[1].streams[0].publishing: must be true or false"),
        (
            "{ type = 0 }, { type = 0 }",
            "room[0].user[1].streams[1].type: user 'bob' already has a stream of this type",
        ),
        (
            '{ type = 0, source = "missing.mp4" }',
            "room[0].user[1].streams[0].source: must be an existing video file",
        ),
        ('{ type = 0, source = "" }', "room[0].user[1].streams[0].source: must be a non-empty path string"),
        ("{ type = 0, source = 5 }", "room[0].user[1].streams[0].source: must be a non-empty path string"),
        ("", "room[0].user[1].streams: must declare at least one stream"),
        ("0", "room[0].user[1].streams[0]: must be a table"),
    ],
)
def test_a_broken_stream_rule_names_file_path_and_rule(tmp_path: Path, streams: str, message: str) -> None:
    path = write(tmp_path, ONE_USER % streams)
    with pytest.raises(RoomsFileError) as info:
        load_rooms(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert isinstance(info.value, ConfigurationError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "red"', "(top level): unknown key(s) 'colour' (allowed: room)"),
        ('room = "r"', "room: must be an array"),
        ('[[room]]\napp_id = "a b"\nroom_id = "r"', r"room[0].app_id: must match [a-zA-Z0-9_@\-\.]{1,128} (got 'a b')"),
        ('[[room]]\napp_id = "a"', "room[0].room_id: must match"),
        ('[[room]]\napp_id = "a"\nroom_id = "r"\nname = "x"', "room[0]: unknown key(s) 'name' (allowed: app_id, room_id, user)"),
        ('[[room]]\napp_id = "a"\nroom_id = "r"\n[[room]]\napp_id = "a"\nroom_id = "r"',
         "room[1].room_id: room 'r' of app 'a' is declared twice"),
        ('[[room]]\napp_id = "a"\nroom_id = "r"\n[[room.user]]\nuser_id = "' + "u" * 129 + '"\nstreams = [{type = 0}]',
         "room[0].user[0].user_id: must match"),
        ('[[room]]\napp_id = "a"\nroom_id = "r"\n[[room.user]]\nuser_id = "u"', "room[0].user[0].streams: must be an array"),
        ('[[room]]\napp_id = "a"\nroom_id = "r"\n[[room.user]]\nuser_id = "u"\nstreams = [{type = 0}]\n'
         '[[room.user]]\nuser_id = "u"\nstreams = [{type = 1}]', "room[0].user[1].user_id: user 'u' is already in this room"),
        ('[[room]]\napp_id = "a"\nroom_id = "r"\n[[room.user]]\nuser_id = "u"\nstreams = [{type = 0}]\nmic = true',
         "room[0].user[0]: unknown key(s) 'mic' (allowed: user_id, streams)"),
    ],
)  # fmt: skip
def test_a_broken_room_or_user_rule_names_file_path_and_rule(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RoomsFileError) as info:
        load_rooms(path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_a_file_that_is_not_toml_or_not_there(tmp_path: Path) -> None:
    with pytest.raises(RoomsFileError, match=r"rooms\.toml: not valid TOML: "):
        load_rooms(write(tmp_path, "[[room]\n"))
    with pytest.raises(RoomsFileError, match=r"nothing\.toml: cannot read the rooms file: No such file"):
        load_rooms(tmp_path / "nothing.toml")


def test_parse_rooms_uses_origin_and_base(tmp_path: Path) -> None:
    make_video(tmp_path / "v.mp4")
    data = {
        "room": [
            {
                "app_id": "a",
                "room_id": "r",
                "user": [{"user_id": "u", "streams": [{"type": 0, "source": "v.mp4"}]}],
            }
        ]
    }
    assert parse_rooms(data, base=tmp_path)[0].users[0].streams[0].source == tmp_path / "v.mp4"
    with pytest.raises(
        RoomsFileError, match=r"^inline: room\[0\]\.user\[0\]\.streams\[0\]\.source: must be an existing"
    ):
        parse_rooms(data, origin="inline", base=tmp_path / "elsewhere")


# --------------------------------------------------------------------------- the book


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def book(clock: ManualClock) -> RoomBook:
    return RoomBook(
        clock,
        [
            RoomSpec(
                "app1",
                "room1",
                (
                    UserSpec("bob", (StreamSpec(SCREEN, 640, 360), StreamSpec(CAMERA, 320, 180))),
                    UserSpec("alice", (StreamSpec(CAMERA, 1280, 720, publishing=False),)),
                ),
            ),
            RoomSpec("app1", "quiet", ()),
        ],
    )


def test_declared_streams_are_listed_sorted_with_their_state(book: RoomBook) -> None:
    assert book.rooms() == [("app1", "quiet"), ("app1", "room1")]
    views = book.streams("app1", "room1")
    assert [(v.user_id, v.stream_type, v.width, v.height, v.publishing) for v in views] == [
        ("alice", CAMERA, 1280, 720, False),
        ("bob", CAMERA, 320, 180, True),
        ("bob", SCREEN, 640, 360, True),
    ]
    assert {v.since for v in views} == {T0}
    assert book.streams("app1", "quiet") == [] and book.streams("app1", "nowhere") == []
    assert book.stream("app1", "room1", "bob", SCREEN) == views[2]
    assert book.stream("app1", "room1", "carol", CAMERA) is None


def test_publish_creates_room_user_and_stream_with_default_sizes(book: RoomBook, clock: ManualClock) -> None:
    clock.advance(5)
    view = book.publish("app2", "fresh", "carol", stream_type=SCREEN)
    assert view == StreamView("app2", "fresh", "carol", SCREEN, 1920, 1080, True, True, None, T0 + 5)
    assert book.publish("app2", "fresh", "dave").width == DEFAULT_SIZE[CAMERA][0]
    assert ("app2", "fresh") in book.rooms()
    assert [v.user_id for v in book.streams("app2", "fresh")] == ["carol", "dave"]


def test_unpublish_and_publish_again_track_since(book: RoomBook, clock: ManualClock) -> None:
    clock.advance(10)
    off = book.unpublish("app1", "room1", "bob")
    assert (off.publishing, off.since) == (False, T0 + 10)
    clock.advance(10)
    assert book.unpublish("app1", "room1", "bob").since == T0 + 10  # no change, no new since
    clock.advance(10)
    on = book.publish("app1", "room1", "bob")
    assert (on.publishing, on.since, on.width, on.height) == (True, T0 + 30, 320, 180)  # size kept
    clock.advance(10)
    assert book.publish("app1", "room1", "bob", width=400, height=300).since == T0 + 30  # still publishing


def test_camera_on_and_off(book: RoomBook) -> None:
    assert book.set_camera("app1", "room1", "bob", False, stream_type=SCREEN).camera is False
    assert book.stream("app1", "room1", "bob", SCREEN).camera is False  # type: ignore[union-attr]
    assert book.stream("app1", "room1", "bob", CAMERA).camera is True  # type: ignore[union-attr]
    assert book.set_camera("app1", "room1", "bob", True, stream_type=SCREEN).camera is True


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.unpublish("app1", "room1", "carol"),
        lambda b: b.unpublish("app1", "room1", "alice", stream_type=SCREEN),
        lambda b: b.set_camera("app1", "nowhere", "bob", True),
        lambda b: b.frame("app9", "room1", "bob", CAMERA, T0),
    ],
)
def test_changing_an_unknown_stream_is_stream_not_found(book: RoomBook, call: Any) -> None:
    with pytest.raises(StreamNotFound, match="no stream of type"):
        call(book)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app_id": "bad app"}, "app_id: must match"),
        ({"room_id": ""}, "room_id: must match"),
        ({"user_id": "u/1"}, "user_id: must match"),
        ({"stream_type": 3}, "stream_type: must be 0 (camera) or 1 (screen) (got 3)"),
        ({"width": 15, "height": 100}, "width: must be an integer in [16, 3840] (got 15)"),
        ({"width": 100, "height": 3841}, "height: must be an integer in [16, 3840] (got 3841)"),
        ({"width": 100}, "height: give width and height together"),
        ({"source": Path("/no/such/clip.mp4")}, "source: must be an existing video file"),
    ],
)
def test_runtime_changes_follow_the_file_rules(book: RoomBook, kwargs: dict[str, Any], message: str) -> None:
    args = {"app_id": "app1", "room_id": "room1", "user_id": "bob", **kwargs}
    ids = [args.pop(k) for k in ("app_id", "room_id", "user_id")]
    with pytest.raises(RoomError, match=f"^{re.escape(message)}"):
        book.publish(*ids, **args)
    assert book.stream("app1", "room1", "bob", CAMERA) == book.streams("app1", "room1")[1]  # unchanged
    assert ("bad app", "room1") not in book.rooms()


def test_bad_stream_types_and_flags_are_rule_errors_not_lookups(book: RoomBook) -> None:
    with pytest.raises(RoomError, match=r"^stream_type: must be"):
        book.unpublish("app1", "room1", "bob", stream_type="0")  # type: ignore[arg-type]
    with pytest.raises(RoomError, match=r"^on: must be true or false"):
        book.set_camera("app1", "room1", "bob", 1)  # type: ignore[arg-type]


def test_duplicate_declarations_are_refused(clock: ManualClock) -> None:
    room = RoomSpec("a", "r", ())
    with pytest.raises(RoomError, match="declared twice"):
        RoomBook(clock, [room, room])
    twice = UserSpec("u", (StreamSpec(CAMERA, 64, 64), StreamSpec(CAMERA, 32, 32)))
    with pytest.raises(RoomError, match="two streams of type 0"):
        RoomBook(clock, [RoomSpec("a", "r", (twice,))])


# --------------------------------------------------------------------------- frames


def test_frames_come_from_the_stream_at_its_size(book: RoomBook) -> None:
    image = book.frame("app1", "room1", "bob", SCREEN, T0)
    assert image.size == (640, 360)
    assert book.frame("app1", "room1", "bob", SCREEN, T0 + 0.01) is image  # one source, cached frame
    assert book.frame("app1", "room1", "bob", CAMERA, T0).size == (320, 180)


def test_republishing_with_a_new_size_or_source_replaces_the_frames(book: RoomBook, tmp_path: Path) -> None:
    book.frame("app1", "room1", "bob", CAMERA, T0)
    book.publish("app1", "room1", "bob", width=200, height=100)
    assert book.frame("app1", "room1", "bob", CAMERA, T0).size == (200, 100)
    clip = make_video(tmp_path / "clip.mp4")
    view = book.publish("app1", "room1", "bob", source=clip)
    assert (view.source, view.width) == (clip, 200)
    first = book.frame("app1", "room1", "bob", CAMERA, T0)
    assert first.size == (200, 100) and index_of(first) == 0
    assert index_of(book.frame("app1", "room1", "bob", CAMERA, T0 + 0.45)) == 4
    book.publish("app1", "room1", "bob")  # nothing new: the same video keeps playing
    assert index_of(book.frame("app1", "room1", "bob", CAMERA, T0 + 0.65)) == 6


def test_a_source_is_opened_only_when_a_frame_is_needed(clock: ManualClock, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    spec = RoomSpec("a", "r", (UserSpec("u", (StreamSpec(CAMERA, 64, 48, source=junk),)),))
    book = RoomBook(clock, [spec])  # declaring it decodes nothing
    book.publish("a", "r", "u")
    with pytest.raises(SourceError, match=r"junk\.mp4: cannot decode video"):
        book.frame("a", "r", "u", CAMERA, T0)


class BlockingSource:
    """A frame source whose frame() waits until the test lets it finish."""

    made: ClassVar[list[BlockingSource]] = []
    created: ClassVar[queue.Queue[BlockingSource]] = queue.Queue()
    block: ClassVar[bool] = True

    def __init__(
        self, user_id: str, stream_type: int, width: int, height: int, path: Path | None, **_: object
    ) -> None:
        self.width, self.height = width, height
        self.entered, self.release = threading.Event(), threading.Event()
        self.closed = False
        BlockingSource.made.append(self)
        BlockingSource.created.put(self)

    def frame(self, at: float) -> Image.Image:
        self.entered.set()
        assert not self.block or self.release.wait(WAIT)
        if self.closed:
            raise SourceClosed("closed meanwhile")
        return Image.new("RGB", (self.width, self.height))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def blocking(monkeypatch: pytest.MonkeyPatch) -> list[BlockingSource]:
    BlockingSource.made, BlockingSource.created, BlockingSource.block = [], queue.Queue(), True
    monkeypatch.setattr(rooms_module, "open_source", BlockingSource)
    return BlockingSource.made


def test_rendering_does_not_hold_the_book(book: RoomBook, blocking: list[BlockingSource]) -> None:
    got: list[Image.Image] = []
    worker = threading.Thread(target=lambda: got.append(book.frame("app1", "room1", "bob", CAMERA, T0)))
    worker.start()
    assert BlockingSource.created.get(timeout=WAIT).entered.wait(WAIT)
    # while that frame renders, the book answers and changes
    assert len(book.streams("app1", "room1")) == 3
    assert book.set_camera("app1", "room1", "alice", False).camera is False
    blocking[0].release.set()
    worker.join(WAIT)
    assert got and got[0].size == (320, 180)


def test_a_source_replaced_mid_render_is_retried_on_the_new_one(
    book: RoomBook, blocking: list[BlockingSource]
) -> None:
    got: list[Image.Image] = []
    worker = threading.Thread(target=lambda: got.append(book.frame("app1", "room1", "bob", CAMERA, T0)))
    worker.start()
    first = BlockingSource.created.get(timeout=WAIT)
    assert first.entered.wait(WAIT)
    book.publish("app1", "room1", "bob", width=64, height=32)  # closes the source being rendered
    assert first.closed
    first.release.set()
    second = BlockingSource.created.get(timeout=WAIT)  # frame() took the new source
    assert second.entered.wait(WAIT)
    second.release.set()
    worker.join(WAIT)
    assert got and got[0].size == (64, 32)


def test_unpublish_and_close_release_sources(book: RoomBook, blocking: list[BlockingSource]) -> None:
    BlockingSource.block = False
    book.frame("app1", "room1", "bob", CAMERA, T0)
    book.frame("app1", "room1", "bob", SCREEN, T0)
    book.unpublish("app1", "room1", "bob")
    assert [s.closed for s in blocking] == [True, False]
    book.close()
    assert [s.closed for s in blocking] == [True, True]
    book.frame("app1", "room1", "bob", SCREEN, T0)  # a later frame opens a fresh source
    assert len(blocking) == 3 and not blocking[2].closed


# --------------------------------------------------------------------------- listeners


def test_listeners_get_every_change_outside_the_lock(book: RoomBook) -> None:
    seen: list[StreamView] = []
    unlocked: list[bool] = []

    def listener(view: StreamView) -> None:
        seen.append(view)
        answered = threading.Event()

        def read() -> None:  # blocks if the book's lock is held during this call
            book.streams(view.app_id, view.room_id)
            answered.set()

        threading.Thread(target=read).start()
        unlocked.append(answered.wait(WAIT))

    book.add_listener(listener)
    book.publish("app1", "room1", "carol")
    book.set_camera("app1", "room1", "carol", False)
    book.unpublish("app1", "room1", "carol")
    assert [(v.user_id, v.publishing, v.camera) for v in seen] == [
        ("carol", True, True),
        ("carol", True, False),
        ("carol", False, False),
    ]
    assert unlocked == [True, True, True], "the book's lock is held while listeners run"


def test_a_failing_listener_neither_breaks_the_change_nor_other_listeners(
    book: RoomBook, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken(view: StreamView) -> None:
        raise RuntimeError("listener bug")

    book.add_listener(broken)
    book.add_listener(lambda v: seen.append(v.user_id))
    assert book.publish("app1", "room1", "erin").publishing
    assert seen == ["erin"]
    assert "a room listener failed" in caplog.text
