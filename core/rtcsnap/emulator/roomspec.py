"""Rooms as declared: the TOML file's shape, and the rules a stream must follow.

The rules (`check_*`) are shared with run-time changes (`rtcsnap.emulator.rooms.RoomBook`), so a
stream that could not be declared cannot be published either. They raise `Broken` with a key
path; the file reports it as ``FILE: room[0].user[1].streams[0].width: RULE``, a run-time change
under the argument's name.
"""

from __future__ import annotations

import re
import tomllib
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
_STREAM_KEYS = ("type", "width", "height", "source", "camera", "publishing")


class RoomsFileError(ConfigurationError):
    """A rooms TOML file breaks a rule; the message names the file, the key path and the rule."""


@dataclass(frozen=True)
class StreamSpec:
    stream_type: int
    width: int
    height: int
    source: Path | None = None
    camera: bool = True
    publishing: bool = True


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
    return StreamSpec(
        stream_type,
        *size,
        source=None if source is None else check_source(source, f"{path}.source", base),
        camera=check_bool(table.get("camera", True), f"{path}.camera"),
        publishing=check_bool(table.get("publishing", True), f"{path}.publishing"),
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
    "MIN_SIDE",
    "SCREEN",
    "Broken",
    "RoomSpec",
    "RoomsFileError",
    "StreamSpec",
    "UserSpec",
    "check_bool",
    "check_id",
    "check_side",
    "check_size",
    "check_source",
    "check_type",
    "load_rooms",
    "parse_rooms",
]
