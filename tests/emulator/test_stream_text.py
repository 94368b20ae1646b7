"""A stream's own text (``text = "BUY GUNS HERE"``): the rooms file's rules, the box the synthetic
pattern draws, its time window, and the same option at run time (`RoomBook`, the control API).

No OCR here but the optional last test: a frame with text differs from the same frame without it
only inside the text's box, and that box is dark ink on light paper.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops
from rtcsnap.clock import ManualClock
from rtcsnap.emulator import textbox
from rtcsnap.emulator.control import PREFIX, ControlApi
from rtcsnap.emulator.rooms import (
    CAMERA,
    RoomBook,
    RoomError,
    RoomsFileError,
    StreamSpec,
    TextSpec,
    load_rooms,
    parse_rooms,
)
from rtcsnap.emulator.roomspec import check_text_spec
from rtcsnap.emulator.sources import SyntheticSource

from tests.emulator.test_control import ControlServer
from tests.emulator.test_sources import make_video

T = 1_700_000_000.0  # 40 ms-aligned
FORBIDDEN = "BUY GUNS HERE"
CJK = "在这里买枪"
STREAM = """
[[room]]
app_id = "app1"
room_id = "room1"
[[room.user]]
user_id = "bob"
streams = [%s]
"""


def stream_of(tmp_path: Path, stream: str) -> StreamSpec:
    path = tmp_path / "rooms.toml"
    path.write_text(STREAM % stream, encoding="utf-8")
    return load_rooms(path)[0].users[0].streams[0]


def has_cjk_font() -> bool:
    try:
        textbox.font_for(CJK)
    except textbox.MissingGlyphs:
        return False
    return True


needs_cjk = pytest.mark.skipif(not has_cjk_font(), reason="no CJK font installed (Debian: fonts-noto-cjk)")


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only DejaVu (or nothing) installed: no known CJK file, fontconfig finds nothing."""
    monkeypatch.setattr(textbox, "FONT_FILES", tuple(f for f in textbox.FONT_FILES if "CJK" not in f[0]))
    monkeypatch.setattr(textbox, "_fontconfig", lambda chars: [])
    textbox.font_for.cache_clear()
    yield
    textbox.font_for.cache_clear()


# --------------------------------------------------------------------------- the rooms file


def test_a_text_gets_its_defaults(tmp_path: Path) -> None:
    spec = stream_of(tmp_path, f'{{ type = 0, text = "{FORBIDDEN}" }}')
    assert spec.text == TextSpec(FORBIDDEN, size=0.125, start=0.0, until=None)
    assert spec == StreamSpec(CAMERA, 1280, 720, text=spec.text)
    assert stream_of(tmp_path, "{ type = 0 }").text is None


def test_text_options_are_read(tmp_path: Path) -> None:
    spec = stream_of(
        tmp_path, '{ type = 0, text = "BUY\\nGUNS", text_size = 0.2, text_from = 5, text_until = 12.5 }'
    )
    assert spec.text == TextSpec("BUY\nGUNS", size=0.2, start=5.0, until=12.5)


@needs_cjk
def test_a_cjk_text_is_accepted_with_a_cjk_font(tmp_path: Path) -> None:
    assert stream_of(tmp_path, f'{{ type = 0, text = "{CJK} {FORBIDDEN}" }}').text == TextSpec(
        f"{CJK} {FORBIDDEN}"
    )


P = "room[0].user[0].streams[0]"


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ('{ type = 0, text = "" }', f"{P}.text: must not be empty or only spaces"),
        ('{ type = 0, text = "  \\n " }', f"{P}.text: must not be empty or only spaces"),
        ('{ type = 0, text = "' + "x" * 101 + '" }', f"{P}.text: must be at most 100 characters (got 101)"),
        ("{ type = 0, text = 5 }", f"{P}.text: must be a string (got 5)"),
        ("{ type = 0, text = true }", f"{P}.text: must be a string (got True)"),
        ('{ type = 0, text = ["BUY"] }', f"{P}.text: must be a string"),
        ('{ type = 0, text = "BUY\\tGUNS" }', f"{P}.text: must not contain control characters other than newlines (got '\\t')"),
        ('{ type = 0, text = "a\\nb\\nc\\nd\\ne" }', f"{P}.text: must be at most 4 lines (got 5)"),
        ('{ type = 0, text = "BUY", text_size = 0 }', f"{P}.text_size: must be a number in [0.02, 0.5] (a fraction of the frame height; got 0)"),
        ('{ type = 0, text = "BUY", text_size = 0.9 }', f"{P}.text_size: must be a number in [0.02, 0.5]"),
        ('{ type = 0, text = "BUY", text_size = "big" }', f"{P}.text_size: must be a number in [0.02, 0.5]"),
        ('{ type = 0, text = "BUY", text_size = true }', f"{P}.text_size: must be a number"),
        ('{ type = 0, text = "BUY", text_from = -1 }', f"{P}.text_from: must be a number of seconds >= 0 (got -1)"),
        ('{ type = 0, text = "BUY", text_until = inf }', f"{P}.text_until: must be a number of seconds >= 0 (got inf)"),
        ('{ type = 0, text = "BUY", text_until = "10s" }', f"{P}.text_until: must be a number of seconds >= 0"),
        ('{ type = 0, text = "BUY", text_from = 5, text_until = 5 }', f"{P}.text_until: must be greater than text_from (5) (got 5)"),
        ("{ type = 0, text_size = 0.2 }", f"{P}.text_size: goes with text: give a text to draw"),
        ("{ type = 0, text_until = 3 }", f"{P}.text_until: goes with text: give a text to draw"),
        ('{ type = 0, text = "BUY", text_colour = "red" }', f"{P}: unknown key(s) 'text_colour' (allowed: type,"),
    ],
)  # fmt: skip
def test_a_bad_text_option_names_the_field_and_the_rule(tmp_path: Path, stream: str, message: str) -> None:
    with pytest.raises(RoomsFileError) as info:
        stream_of(tmp_path, stream)
    assert str(info.value).startswith(f"{tmp_path / 'rooms.toml'}: {message}")


def test_a_text_cannot_go_with_a_video_source(tmp_path: Path) -> None:
    make_video(tmp_path / "clip.mp4")
    with pytest.raises(RoomsFileError, match=re.escape(f"{P}.text: only the synthetic pattern draws a text")):
        stream_of(tmp_path, '{ type = 0, source = "clip.mp4", text = "BUY" }')


def test_a_cjk_text_without_a_cjk_font_is_refused_at_load(tmp_path: Path, no_cjk_font: None) -> None:
    with pytest.raises(RoomsFileError) as info:
        stream_of(tmp_path, f'{{ type = 0, text = "{FORBIDDEN} {CJK}" }}')
    message = str(info.value)
    assert f"{P}.text: no font with these glyphs installed (" in message
    assert "'买'" in message and "'B'" not in message  # only what is missing
    assert message.endswith("install fonts-noto-cjk (Debian/Ubuntu) or another CJK font")
    assert stream_of(tmp_path, f'{{ type = 0, text = "{FORBIDDEN}" }}').text is not None  # Latin still fine


def test_without_any_font_file_latin_text_falls_back_to_pillows_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textbox, "FONT_FILES", ())
    monkeypatch.setattr(textbox, "_fontconfig", lambda chars: [])
    textbox.font_for.cache_clear()
    try:
        assert textbox.font_for(FORBIDDEN) == textbox.FontChoice(None)
        box, _ = textbox.render_box(FORBIDDEN, 0.125, 640, 360)
        assert box.height >= 45  # large: Pillow's built-in font at 1/8 of the height, not 11 pixels
    finally:
        textbox.font_for.cache_clear()


# --------------------------------------------------------------------------- the frames


def source(
    text: str | None,
    width: int = 1280,
    height: int = 720,
    *,
    size: float | None = None,
    start: float | None = None,
    until: float | None = None,
    origin: float = 0.0,
) -> SyntheticSource:
    """alice's camera pattern, with `text` checked as the rooms file checks it."""
    spec = None if text is None else check_text_spec(text, size, start, until)
    return SyntheticSource("alice", CAMERA, width, height, spec, origin)


def changed(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageChops.difference(a, b).getbbox()


def inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def ink_and_paper(image: Image.Image) -> tuple[float, float]:
    """The shares of near-black and near-white pixels."""
    histogram = image.convert("L").histogram()
    total = sum(histogram)
    return sum(histogram[:48]) / total, sum(histogram[232:]) / total


@pytest.mark.parametrize("at", [T, T + 0.4, T + 4.0, T + 7.96])  # the moving box under, beside the text
def test_the_text_changes_only_its_box_which_is_dark_on_light(at: float) -> None:
    plain, texty = source(None), source(FORBIDDEN)
    box = texty.text_box
    assert box is not None and plain.text_box is None
    diff = changed(plain.frame(at), texty.frame(at))
    assert diff is not None and inside(diff, box)
    left, top, right, bottom = box
    assert abs((left + right) / 2 - 640) <= 1 and abs((top + bottom) / 2 - 360) <= 1  # centred
    assert 0.125 * 720 <= bottom - top <= 0.125 * 720 * 2  # large: the font is 1/8 of the height
    ink, paper = ink_and_paper(texty.frame(at).crop(box))
    assert ink > 0.08 and paper > 0.5 and ink + paper > 0.9  # high contrast, little in between


def test_text_size_scales_the_box() -> None:
    small, large = source("BUY", size=0.05).text_box, source("BUY", size=0.25).text_box
    assert small is not None and large is not None
    assert (large[3] - large[1]) > 4 * (small[3] - small[1])
    wide = source(FORBIDDEN, size=0.25).text_box  # too wide at that size: shrunk to the frame's width
    assert wide is not None and wide[2] - wide[0] <= 1280 and wide[3] - wide[1] < large[3] - large[1]


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (320, 180), (16, 16), (17, 3001)])
def test_a_long_text_shrinks_to_fit_and_the_box_stays_in_the_frame(width: int, height: int) -> None:
    src = source("W" * 100, width, height, size=0.5)
    box = src.text_box
    assert box is not None and inside(box, (0, 0, width, height))
    assert src.frame(T).size == (width, height)


@needs_cjk
def test_cjk_text_is_drawn_with_glyphs_not_boxes() -> None:
    texty, plain = source(CJK), source(None)
    box = texty.text_box
    assert box is not None
    ink, _ = ink_and_paper(texty.frame(T).crop(box))
    assert ink > 0.08
    diff = changed(plain.frame(T), texty.frame(T))
    assert diff is not None and inside(diff, box)
    drawn = []  # two different characters draw differently (tofu boxes would all look alike)
    for char in "买枪":
        one = source(char, 200, 200)
        assert one.text_box is not None
        drawn.append(one.frame(T).crop(one.text_box).tobytes())
    assert drawn[0] != drawn[1]


def test_the_text_shows_only_in_its_window_counted_from_the_origin() -> None:
    plain = source(None)
    # published mid-period: the window counts whole frames from the one showing at the origin (T)
    texty = source(FORBIDDEN, start=2.0, until=5.0, origin=T + 0.013)

    def shows(at: float) -> bool:
        return changed(plain.frame(at), texty.frame(at)) is not None

    assert [shows(T + s) for s in (0.013, 1.0, 1.96, 1.999, 2.0, 3.5, 4.96, 4.999, 5.0, 9.0)] == [
        False, False, False, False, True, True, True, True, False, False,
    ]  # fmt: skip
    later = source(FORBIDDEN, origin=T + 10)
    assert changed(plain.frame(T + 9.96), later.frame(T + 9.96)) is None  # before publishing: no text
    assert changed(plain.frame(T + 10), later.frame(T + 10)) is not None


def test_frames_with_text_stay_deterministic_and_shared() -> None:
    a, b = source(FORBIDDEN), source(FORBIDDEN)
    assert a.frame(T + 1.23).tobytes() == b.frame(T + 1.23).tobytes()
    assert a.frame(T + 1.23) is a.frame(T + 1.239)
    before = a.frame(T + 3).tobytes()
    a.close()
    assert a.frame(T + 3).tobytes() == before


# --------------------------------------------------------------------------- at run time


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T)


@pytest.fixture
def book(clock: ManualClock) -> RoomBook:
    return RoomBook(clock)


def test_publish_with_a_text_draws_it_timed_from_publishing(book: RoomBook, clock: ManualClock) -> None:
    clock.advance(1)
    view = book.publish("app1", "r", "bob", width=320, height=180, text=FORBIDDEN, text_from=2)
    assert view.text == TextSpec(FORBIDDEN, start=2.0) and view.since == T + 1
    plain = SyntheticSource("bob", CAMERA, 320, 180)
    assert changed(book.frame("app1", "r", "bob", CAMERA, T + 2.96), plain.frame(T + 2.96)) is None
    assert changed(book.frame("app1", "r", "bob", CAMERA, T + 3), plain.frame(T + 3)) is not None

    book.unpublish("app1", "r", "bob")
    clock.advance(10)
    book.publish("app1", "r", "bob")  # published again: the window counts from now
    assert book.stream("app1", "r", "bob", CAMERA).text == TextSpec(FORBIDDEN, start=2.0)  # type: ignore[union-attr]
    assert changed(book.frame("app1", "r", "bob", CAMERA, T + 12), plain.frame(T + 12)) is None
    assert changed(book.frame("app1", "r", "bob", CAMERA, T + 13), plain.frame(T + 13)) is not None


def test_a_new_or_removed_text_replaces_the_frames(book: RoomBook) -> None:
    book.publish("app1", "r", "bob", width=320, height=180)
    plain = book.frame("app1", "r", "bob", CAMERA, T)
    book.publish("app1", "r", "bob", text="HELLO")
    hello = book.frame("app1", "r", "bob", CAMERA, T)
    assert changed(plain, hello) is not None
    book.publish("app1", "r", "bob", width=320, height=180)  # no text given: kept
    assert book.frame("app1", "r", "bob", CAMERA, T) is hello
    book.publish("app1", "r", "bob", text=None)
    assert book.stream("app1", "r", "bob", CAMERA).text is None  # type: ignore[union-attr]
    assert changed(plain, book.frame("app1", "r", "bob", CAMERA, T)) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ""}, "text: must not be empty or only spaces"),
        ({"text": 5}, "text: must be a string (got 5)"),
        ({"text": "BUY", "text_size": 2}, "text_size: must be a number in [0.02, 0.5]"),
        ({"text_from": 3}, "text_from: goes with text: give a text to draw"),
        ({"text": None, "text_size": 0.1}, "text_size: goes with text"),
    ],
)
def test_runtime_text_follows_the_file_rules(book: RoomBook, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RoomError) as info:
        book.publish("app1", "r", "bob", **kwargs)
    assert str(info.value).startswith(message)
    assert book.stream("app1", "r", "bob", CAMERA) is None


def test_a_text_and_a_video_exclude_each_other_at_run_time(book: RoomBook, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4")
    book.publish("app1", "r", "bob", source=clip)
    with pytest.raises(RoomError, match=r"^text: only the synthetic pattern draws a text"):
        book.publish("app1", "r", "bob", text="BUY")
    book.publish("app1", "r", "carol", text="BUY")
    with pytest.raises(RoomError, match=r"^source: the stream shows a text, which only the synthetic"):
        book.publish("app1", "r", "carol", source=clip)
    assert book.publish("app1", "r", "carol", source=clip, text=None).source == clip  # both at once: fine
    with pytest.raises(RoomError, match=r"^text: only the synthetic pattern draws a text"):
        book.publish("app1", "new-room", "dave", source=clip, text="BUY")
    assert book.rooms() == [("app1", "r")]  # the refused publish created nothing


def test_a_cjk_text_without_a_font_is_a_runtime_error_too(book: RoomBook, no_cjk_font: None) -> None:
    with pytest.raises(RoomError, match=r"^text: no font with these glyphs installed .*fonts-noto-cjk"):
        book.publish("app1", "r", "bob", text=CJK)


def test_declared_text_reaches_the_frames(clock: ManualClock) -> None:
    rooms = parse_rooms(
        {
            "room": [
                {
                    "app_id": "a",
                    "room_id": "r",
                    "user": [
                        {"user_id": "u", "streams": [{"type": 0, "width": 320, "height": 180, "text": "BUY"}]}
                    ],
                }
            ]
        }
    )
    book = RoomBook(clock, rooms)
    plain = SyntheticSource("u", CAMERA, 320, 180)
    assert changed(book.frame("a", "r", "u", CAMERA, T), plain.frame(T)) is not None


# --------------------------------------------------------------------------- the control API


@pytest.fixture(scope="module")
def server() -> Iterator[ControlServer]:
    with ControlServer(ControlApi(RoomBook(ManualClock(T)))) as running:
        yield running


@pytest.fixture
def api(server: ControlServer, book: RoomBook) -> Iterator[httpx.Client]:
    server.app = ControlApi(book)
    with httpx.Client(base_url=server.url + PREFIX) as client:
        yield client


def test_the_control_api_sets_shows_and_removes_a_text(api: httpx.Client, book: RoomBook) -> None:
    body = {"text": FORBIDDEN, "text_size": 0.2, "text_from": 1, "text_until": 30}
    resp = api.post("/rooms/app1/r/users/bob/publish", json=body)
    assert resp.status_code == 200, resp.text
    assert {k: resp.json()[k] for k in body} == {**body, "text_from": 1.0}
    assert book.stream("app1", "r", "bob", CAMERA).text == TextSpec(FORBIDDEN, 0.2, 1.0, 30.0)  # type: ignore[union-attr]
    listed = api.get("/rooms/app1/r").json()["streams"][0]
    assert listed["text"] == FORBIDDEN
    kept = api.post("/rooms/app1/r/users/bob/publish", json={"width": 640, "height": 360}).json()
    assert kept["text"] == FORBIDDEN  # absent: kept
    removed = api.post("/rooms/app1/r/users/bob/publish", json={"text": None}).json()
    assert [removed[k] for k in body] == [None, None, None, None]  # null: removed


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "text: must not be empty or only spaces"),
        ({"text": ["BUY"]}, "text: must be a string"),
        ({"text": "x" * 101}, "text: must be at most 100 characters (got 101)"),
        ({"text": "BUY", "text_until": -2}, "text_until: must be a number of seconds >= 0 (got -2)"),
        ({"text_size": 0.3}, "text_size: goes with text: give a text to draw"),
    ],
)
def test_bad_text_fields_are_400_naming_field_and_rule(
    api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    resp = api.post("/rooms/app1/r/users/bob/publish", json=body)
    error = resp.json()["error"]
    assert (resp.status_code, error["code"]) == (400, "InvalidField") and error["message"].startswith(message)


# --------------------------------------------------------------------------- real OCR (optional)


@pytest.mark.skipif(
    importlib.util.find_spec("rapidocr_onnxruntime") is None,
    reason="rapidocr_onnxruntime is not installed in this venv (the moderation plugin's tests do OCR)",
)
@pytest.mark.parametrize("text", [FORBIDDEN, pytest.param(CJK, marks=needs_cjk)])
def test_ocr_reads_the_text_off_a_frame(text: str) -> None:
    import numpy as np
    from rapidocr_onnxruntime import RapidOCR

    result, _ = RapidOCR()(np.asarray(source(text).frame(T + 1)))
    read = [str(line[1]).upper() for line in result or []]
    assert text in read, read  # one line, as the moderation plugin's keyword rules see it
