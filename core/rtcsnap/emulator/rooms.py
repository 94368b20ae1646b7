"""The rooms the emulator pretends exist, live: who publishes what, and the frames they show.

Declared rooms (`rtcsnap.emulator.roomspec`) are the starting state; the control API and the CLI
change it at run time under the same rules. Changes happen under one lock; rendering a frame and
calling listeners never do, so a slow video decode or the engine's reaction to a change cannot
stall the control API.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from PIL import Image

from rtcsnap.emulator.config import Clock
from rtcsnap.emulator.roomspec import (
    CAMERA,
    DEFAULT_SIZE,
    MAX_SIDE,
    MIN_SIDE,
    SCREEN,
    Broken,
    RoomsFileError,
    RoomSpec,
    StreamSpec,
    TextSpec,
    UserSpec,
    check_bool,
    check_id,
    check_size,
    check_source,
    check_text_source,
    check_text_spec,
    check_type,
    load_rooms,
    parse_rooms,
)
from rtcsnap.emulator.sources import FrameSource, SourceClosed, open_source
from rtcsnap.errors import ConfigurationError

log = logging.getLogger(__name__)


class Keep(enum.Enum):
    """`RoomBook.publish`'s "leave the stream's text as it is" (None removes the text)."""

    KEEP = "keep"


KEEP = Keep.KEEP


class RoomError(ConfigurationError):
    """A runtime change breaks a rule (bad id, type or size, missing source file)."""


class StreamNotFound(RoomError):
    """Unpublish, camera or frame of a stream nobody ever published in that room."""


@dataclass(frozen=True)
class StreamView:
    """One stream's state at one moment; `since` is when it last started or stopped publishing."""

    app_id: str
    room_id: str
    user_id: str
    stream_type: int
    width: int
    height: int
    publishing: bool
    camera: bool
    source: Path | None
    since: float
    text: TextSpec | None = None


@dataclass
class _Stream:
    spec: StreamSpec
    since: float
    frames: FrameSource | None = None


@contextmanager
def _runtime_rules() -> Iterator[None]:
    """The file's rules, reported for a runtime change (the path is the argument's name)."""
    try:
        yield
    except Broken as exc:
        raise RoomError(str(exc)) from None


class RoomBook:
    """Every room's publishers, changed at run time and read by the snapshot engine."""

    def __init__(self, clock: Clock, rooms: Iterable[RoomSpec] = ()) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rooms: dict[tuple[str, str], dict[tuple[str, int], _Stream]] = {}
        self._listeners: list[Callable[[StreamView], None]] = []
        now = clock()
        for room in rooms:
            if (room.app_id, room.room_id) in self._rooms:
                raise RoomError(f"room {room.room_id!r} of app {room.app_id!r} is declared twice")
            streams = self._rooms[(room.app_id, room.room_id)] = {}
            for user in room.users:
                for spec in user.streams:
                    if (user.user_id, spec.stream_type) in streams:
                        raise RoomError(f"user {user.user_id!r} has two streams of type {spec.stream_type}")
                    streams[(user.user_id, spec.stream_type)] = _Stream(spec, now)

    def add_listener(self, fn: Callable[[StreamView], None]) -> None:
        """Call `fn(view)` after every change (outside the lock, in the changing thread)."""
        with self._lock:
            self._listeners.append(fn)

    def _changed(self, view: StreamView, retired: FrameSource | None = None) -> StreamView:
        if retired is not None:
            retired.close()
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(view)
            except Exception:
                log.exception("a room listener failed on %s/%s/%s", view.app_id, view.room_id, view.user_id)
        return view

    @staticmethod
    def _view(key: tuple[str, str], user_id: str, s: _Stream) -> StreamView:
        spec = s.spec
        return StreamView(
            app_id=key[0],
            room_id=key[1],
            user_id=user_id,
            stream_type=spec.stream_type,
            width=spec.width,
            height=spec.height,
            publishing=spec.publishing,
            camera=spec.camera,
            source=spec.source,
            since=s.since,
            text=spec.text,
        )

    def _find(self, app_id: str, room_id: str, user_id: str, stream_type: int) -> _Stream:
        s = self._rooms.get((app_id, room_id), {}).get((user_id, stream_type))
        if s is None:
            raise StreamNotFound(
                f"no stream of type {stream_type} of user {user_id!r} in room {room_id!r} of app {app_id!r}"
            )
        return s

    def publish(
        self,
        app_id: str,
        room_id: str,
        user_id: str,
        *,
        stream_type: int = CAMERA,
        width: int | None = None,
        height: int | None = None,
        source: Path | None = None,
        text: str | Literal[Keep.KEEP] | None = KEEP,
        text_size: float | None = None,
        text_from: float | None = None,
        text_until: float | None = None,
    ) -> StreamView:
        """Start publishing (creating the room, user or stream as needed); a new size, source or
        text replaces the stream's frames. Size, source and text not given keep the stream's
        current ones; ``text=None`` removes the text. The text options go with a text (a new
        text without them gets their defaults)."""
        with _runtime_rules():
            key = check_id(app_id, "app_id"), check_id(room_id, "room_id")
            check_id(user_id, "user_id")
            stream_type = check_type(stream_type, "stream_type")
            size = check_size(width, height)
            path = None if source is None else check_source(source, "source")
            new_text = check_text_spec(None if text is KEEP else text, text_size, text_from, text_until)
        retired = None
        with self._lock:
            now = self._clock()
            s = self._rooms.get(key, {}).get((user_id, stream_type))
            if s is None:
                w, h = size or DEFAULT_SIZE[stream_type]
                spec = StreamSpec(stream_type, w, h, path, text=new_text)
            else:
                w, h = size or (s.spec.width, s.spec.height)
                spec = replace(
                    s.spec,
                    width=w,
                    height=h,
                    source=path or s.spec.source,
                    publishing=True,
                    text=s.spec.text if text is KEEP else new_text,
                )
            with _runtime_rules():
                check_text_source(spec.text, spec.source, "source" if text is KEEP else "text")
            if s is None:  # the room too, once the stream is known to be fine
                s = self._rooms.setdefault(key, {})[(user_id, stream_type)] = _Stream(spec, now)
            else:
                if not s.spec.publishing:  # the text's window counts from here: fresh frames
                    s.since = now
                    retired, s.frames = s.frames, None
                elif (spec.width, spec.height, spec.source, spec.text) != (
                    s.spec.width,
                    s.spec.height,
                    s.spec.source,
                    s.spec.text,
                ):
                    retired, s.frames = s.frames, None
                s.spec = spec
            view = self._view(key, user_id, s)
        return self._changed(view, retired)

    def unpublish(self, app_id: str, room_id: str, user_id: str, *, stream_type: int = CAMERA) -> StreamView:
        """Stop publishing (the stream stays known; a video restarts when published again)."""
        with _runtime_rules():
            stream_type = check_type(stream_type, "stream_type")
        with self._lock:
            s = self._find(app_id, room_id, user_id, stream_type)
            if s.spec.publishing:
                s.spec, s.since = replace(s.spec, publishing=False), self._clock()
            retired, s.frames = s.frames, None
            view = self._view((app_id, room_id), user_id, s)
        return self._changed(view, retired)

    def set_camera(
        self, app_id: str, room_id: str, user_id: str, on: bool, *, stream_type: int = CAMERA
    ) -> StreamView:
        """Turn the stream's camera (or screen share) on or off while it stays published."""
        with _runtime_rules():
            stream_type, on = check_type(stream_type, "stream_type"), check_bool(on, "on")
        with self._lock:
            s = self._find(app_id, room_id, user_id, stream_type)
            s.spec = replace(s.spec, camera=on)
            view = self._view((app_id, room_id), user_id, s)
        return self._changed(view)

    def streams(self, app_id: str, room_id: str) -> list[StreamView]:
        """Every known stream of the room, publishing or not, by (user_id, stream_type)."""
        with self._lock:
            streams = self._rooms.get((app_id, room_id), {})
            return [self._view((app_id, room_id), u, streams[(u, t)]) for u, t in sorted(streams)]

    def stream(self, app_id: str, room_id: str, user_id: str, stream_type: int) -> StreamView | None:
        with self._lock:
            s = self._rooms.get((app_id, room_id), {}).get((user_id, stream_type))
            return None if s is None else self._view((app_id, room_id), user_id, s)

    def rooms(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._rooms)

    def frame(self, app_id: str, room_id: str, user_id: str, stream_type: int, at: float) -> Image.Image:
        """The stream's frame at `at` (whatever its state); its source is created on first need."""
        for attempt in range(2):
            with self._lock:
                s = self._find(app_id, room_id, user_id, stream_type)
                if s.frames is None:
                    spec = s.spec
                    s.frames = open_source(
                        user_id,
                        spec.stream_type,
                        spec.width,
                        spec.height,
                        spec.source,
                        text=spec.text,
                        origin=s.since,
                    )
                frames = s.frames
            try:
                return frames.frame(at)
            except SourceClosed:  # replaced while we rendered: take the new one
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every source (a later frame() opens a fresh one)."""
        with self._lock:
            retired = [s.frames for room in self._rooms.values() for s in room.values() if s.frames]
            for room in self._rooms.values():
                for s in room.values():
                    s.frames = None
        for frames in retired:
            frames.close()


__all__ = [
    "CAMERA",
    "DEFAULT_SIZE",
    "KEEP",
    "MAX_SIDE",
    "MIN_SIDE",
    "SCREEN",
    "Keep",
    "RoomBook",
    "RoomError",
    "RoomSpec",
    "RoomsFileError",
    "StreamNotFound",
    "StreamSpec",
    "StreamView",
    "TextSpec",
    "UserSpec",
    "load_rooms",
    "parse_rooms",
]
