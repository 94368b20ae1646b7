"""Rooms as declared: the TOML file's shape, and the rules a stream must follow.

The rules (`check_*`) are shared with run-time changes (`rtcsnap.emulator.rooms.RoomBook`), so a
stream that could not be declared cannot be published either. They raise `Broken` with a key
path; the file reports it as ``FILE: room[0].user[1].streams[0].width: RULE``, a run-time change
under the argument's name.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtcsnap.errors import ConfigurationError
from rtcsnap.models import ID_PATTERN

CAMERA, SCREEN = 0, 1
DEFAULT_SIZE = {CAMERA: (1280, 720), SCREEN: (1920, 1080)}
MIN_SIDE, MAX_SIDE = 16, 3840
_ID = re.compile(ID_PATTERN)
_ROOM_KEYS = ("app_id", "room_id", "user")
_USER_KEYS = ("user_id", "streams")
_STREAM_KEYS = (
    "type",
    "width",
    "height",
    "source",
    "camera",
    "publishing",
    "text",
    "text_size",
    "text_from",
    "text_until",
)
MAX_TEXT, MAX_TEXT_LINES = 100, 4
"""A stream's text: at most 100 characters on at most 4 lines (enough for a test, and a line of
100 characters is already small on a 1280-pixel frame)."""
TEXT_SIZE, MIN_TEXT_SIZE, MAX_TEXT_SIZE = 0.125, 0.02, 0.5
"""The text's font size as a fraction of the frame height: 1/8 by default."""


class RoomsFileError(ConfigurationError):
    """A rooms TOML file breaks a rule; the message names the file, the key path and the rule."""


@dataclass(frozen=True)
class TextSpec:
    """A text the synthetic pattern draws on every frame, dark on a light box in the middle.

    `size` is the font size as a fraction of the frame height; the text shows from `start` until
    `until` (None: for ever) seconds after the stream last started publishing (its ``since``).
    """

    text: str
    size: float = TEXT_SIZE
    start: float = 0.0
    until: float | None = None

    def shown(self, elapsed: float) -> bool:
        """Whether the text shows `elapsed` seconds after the stream started publishing."""
        return self.start <= elapsed and (self.until is None or elapsed < self.until)


@dataclass(frozen=True)
class StreamSpec:
    stream_type: int
    width: int
    height: int
    source: Path | None = None
    camera: bool = True
    publishing: bool = True
    text: TextSpec | None = None


@dataclass(frozen=True)
class UserSpec:
    user_id: str
    streams: tuple[StreamSpec, ...]


@dataclass(frozen=True)
class RoomSpec:
    app_id: str
    room_id: str
    users: tuple[UserSpec, ...]


# --------------------------------------------------------------------------- the rules


class Broken(Exception):
    """One broken rule at one key path; the caller decides which error reports it."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path}: {rule}")


def check_id(value: object, path: str) -> str:
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise Broken(path, f"must match {ID_PATTERN} (got {value!r:.60})")
    return value


def check_type(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (CAMERA, SCREEN):
        raise Broken(path, f"must be {CAMERA} (camera) or {SCREEN} (screen) (got {value!r:.30})")
    return value


def check_side(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIDE <= value <= MAX_SIDE:
        raise Broken(path, f"must be an integer in [{MIN_SIDE}, {MAX_SIDE}] (got {value!r:.30})")
    return value


def check_size(width: object, height: object, path: str = "") -> tuple[int, int] | None:
    """(width, height), or None when neither is given; one without the other is an error."""
    if width is None and height is None:
        return None
    if width is None or height is None:
        raise Broken(f"{path}{'width' if width is None else 'height'}", "give width and height together")
    return check_side(width, f"{path}width"), check_side(height, f"{path}height")


def check_source(value: object, path: str, base: Path | None = None) -> Path:
    """An existing file; relative paths resolve against `base` (the rooms file's folder) or the cwd."""
    if not isinstance(value, str | Path) or not str(value):
        raise Broken(path, "must be a non-empty path string")
    resolved = ((base or Path.cwd()) / Path(value)).resolve()
    if not resolved.is_file():
        raise Broken(path, f"must be an existing video file (no file at {resolved})")
    return resolved


def check_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise Broken(path, f"must be true or false (got {value!r:.30})")
    return value


def check_text(value: object, path: str) -> str:
    """A text to draw: 1 to `MAX_TEXT` characters on at most `MAX_TEXT_LINES` lines, no control
    characters, and an installed font with a glyph for every character (no tofu boxes)."""
    if not isinstance(value, str):
        raise Broken(path, f"must be a string (got {value!r:.30})")
    if not value.strip():
        raise Broken(path, "must not be empty or only spaces")
    if len(value) > MAX_TEXT:
        raise Broken(path, f"must be at most {MAX_TEXT} characters (got {len(value)})")
    control = next((c for c in value if c != "\n" and unicodedata.category(c) in ("Cc", "Cs")), None)
    if control is not None:
        raise Broken(path, f"must not contain control characters other than newlines (got {control!r})")
    lines = len(value.split("\n"))
    if lines > MAX_TEXT_LINES:
        raise Broken(path, f"must be at most {MAX_TEXT_LINES} lines (got {lines})")
    from rtcsnap.emulator.textbox import MissingGlyphs, font_for

    try:
        font_for(value)
    except MissingGlyphs as exc:
        raise Broken(path, str(exc)) from None
    return value


def check_text_size(value: object, path: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not MIN_TEXT_SIZE <= value <= MAX_TEXT_SIZE
    ):
        raise Broken(
            path,
            f"must be a number in [{MIN_TEXT_SIZE}, {MAX_TEXT_SIZE}] (a fraction of the frame height; "
            f"got {value!r:.30})",
        )
    return float(value)


def check_seconds(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise Broken(path, f"must be a number of seconds >= 0 (got {value!r:.30})")
    return float(value)


def check_text_spec(
    text: object, size: object = None, start: object = None, until: object = None, path: str = ""
) -> TextSpec | None:
    """The stream's text and its options, or None without a text (then no option may be given);
    `path` prefixes each key (``room[0].user[0].streams[0].``)."""
    if text is None:
        for name, value in (("text_size", size), ("text_from", start), ("text_until", until)):
            if value is not None:
                raise Broken(f"{path}{name}", "goes with text: give a text to draw")
        return None
    spec = TextSpec(
        check_text(text, f"{path}text"),
        TEXT_SIZE if size is None else check_text_size(size, f"{path}text_size"),
        0.0 if start is None else check_seconds(start, f"{path}text_from"),
        None if until is None else check_seconds(until, f"{path}text_until"),
    )
    if spec.until is not None and spec.until <= spec.start:
        raise Broken(
            f"{path}text_until", f"must be greater than text_from ({spec.start:g}) (got {spec.until:g})"
        )
    return spec


def check_text_source(text: TextSpec | None, source: Path | None, path: str) -> None:
    """Only the synthetic pattern draws a text: a stream has a source or a text, not both.
    `path` names the key that brought the second one (``…text`` or ``…source``)."""
    if text is None or source is None:
        return
    if path.endswith("source"):
        raise Broken(
            path, "the stream shows a text, which only the synthetic pattern draws: remove the text first"
        )
    raise Broken(path, "only the synthetic pattern draws a text: a stream with a source cannot have one")


def _table(value: object, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Broken(path, "must be a table")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise Broken(path, f"unknown key(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})")
    return value


def _array(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise Broken(path, "must be an array")
    return value


# --------------------------------------------------------------------------- the file


def _stream(data: object, path: str, base: Path | None) -> StreamSpec:
    table = _table(data, path, _STREAM_KEYS)
    if "type" not in table:
        raise Broken(f"{path}.type", "is required")
    stream_type = check_type(table["type"], f"{path}.type")
    size = check_size(table.get("width"), table.get("height"), f"{path}.") or DEFAULT_SIZE[stream_type]
    source = table.get("source")
    source_path = None if source is None else check_source(source, f"{path}.source", base)
    text = check_text_spec(
        table.get("text"), table.get("text_size"), table.get("text_from"), table.get("text_until"), f"{path}."
    )
    check_text_source(text, source_path, f"{path}.text")
    return StreamSpec(
        stream_type,
        *size,
        source=source_path,
        camera=check_bool(table.get("camera", True), f"{path}.camera"),
        publishing=check_bool(table.get("publishing", True), f"{path}.publishing"),
        text=text,
    )


def _user(data: object, path: str, base: Path | None) -> UserSpec:
    table = _table(data, path, _USER_KEYS)
    user_id = check_id(table.get("user_id"), f"{path}.user_id")
    entries = _array(table.get("streams"), f"{path}.streams")
    if not entries:
        raise Broken(f"{path}.streams", "must declare at least one stream")
    streams: list[StreamSpec] = []
    for i, entry in enumerate(entries):
        spec = _stream(entry, f"{path}.streams[{i}]", base)
        if any(s.stream_type == spec.stream_type for s in streams):
            raise Broken(f"{path}.streams[{i}].type", f"user {user_id!r} already has a stream of this type")
        streams.append(spec)
    return UserSpec(user_id, tuple(streams))


def _room(data: object, path: str, base: Path | None) -> RoomSpec:
    table = _table(data, path, _ROOM_KEYS)
    app_id = check_id(table.get("app_id"), f"{path}.app_id")
    room_id = check_id(table.get("room_id"), f"{path}.room_id")
    users: list[UserSpec] = []
    for i, entry in enumerate(_array(table.get("user", []), f"{path}.user")):
        user = _user(entry, f"{path}.user[{i}]", base)
        if any(u.user_id == user.user_id for u in users):
            raise Broken(f"{path}.user[{i}].user_id", f"user {user.user_id!r} is already in this room")
        users.append(user)
    return RoomSpec(app_id, room_id, tuple(users))


def parse_rooms(
    data: Mapping[str, Any], *, origin: str = "rooms", base: Path | None = None
) -> list[RoomSpec]:
    """The rooms of a parsed TOML document; `origin` prefixes every error, `base` anchors sources."""
    try:
        _table(data, "(top level)", ("room",))
        rooms: list[RoomSpec] = []
        for i, entry in enumerate(_array(data.get("room", []), "room")):
            room = _room(entry, f"room[{i}]", base)
            if any((r.app_id, r.room_id) == (room.app_id, room.room_id) for r in rooms):
                raise Broken(
                    f"room[{i}].room_id", f"room {room.room_id!r} of app {room.app_id!r} is declared twice"
                )
            rooms.append(room)
    except Broken as exc:
        raise RoomsFileError(f"{origin}: {exc}") from None
    return rooms


def load_rooms(path: Path) -> list[RoomSpec]:
    """Read and check a rooms TOML file (sources relative to the file's folder)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoomsFileError(f"{path}: cannot read the rooms file: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RoomsFileError(f"{path}: not valid TOML: {exc}") from None
    return parse_rooms(data, origin=str(path), base=path.resolve().parent)


__all__ = [
    "CAMERA",
    "DEFAULT_SIZE",
    "MAX_SIDE",
    "MAX_TEXT",
    "MAX_TEXT_LINES",
    "MAX_TEXT_SIZE",
    "MIN_SIDE",
    "MIN_TEXT_SIZE",
    "SCREEN",
    "TEXT_SIZE",
    "Broken",
    "RoomSpec",
    "RoomsFileError",
    "StreamSpec",
    "TextSpec",
    "UserSpec",
    "check_bool",
    "check_id",
    "check_seconds",
    "check_side",
    "check_size",
    "check_source",
    "check_text",
    "check_text_size",
    "check_text_source",
    "check_text_spec",
    "check_type",
    "load_rooms",
    "parse_rooms",
]
