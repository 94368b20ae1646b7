"""What a published stream shows: a synthetic moving pattern, or a video file played in a loop.

Sources are pull-based: nothing renders or decodes until a snapshot asks for the frame at some
emulator time, so a room of idle publishers costs nothing. A returned image is shared (the
engine scales it into a new image and never mutates it), and asking twice within one frame
period returns the very same object, so several tasks capturing one stream render it once.

The synthetic pattern is built for people and tests alike: the background (colour from the
user id and stream type, the user and kind in large text, the size) is drawn once; each frame
only copies it and draws a moving box, the UTC clock of the frame and a frame counter, which
keeps a 1280x720 frame well under the engine's 2 ms CPU budget (~0.6 ms here). A stream's own
text (`TextSpec`) is rendered once into a box (`rtcsnap.emulator.textbox`) and pasted last, over
the moving box, so it is never hidden.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image, ImageDraw, ImageFont

from rtcsnap.emulator.roomspec import TextSpec
from rtcsnap.emulator.textbox import render_box
from rtcsnap.errors import RtcSnapError

if TYPE_CHECKING:
    import av.container
    import av.video.frame
    import av.video.stream

SYNTHETIC_FPS = 25
"""Synthetic frames are quantised to 40 ms: what a 25 fps camera would deliver."""
FRAMES_PER_DAY = SYNTHETIC_FPS * 86400
_RECENT = 1
"""Frames kept per source, so tasks capturing a stream in the same frame period share it. One:
at 170 streams of 1280x720 each kept frame is 630 MB of live images, and keeping four made the
allocator churn through 2.5 GB, which halved the engine's throughput (docs/benchmarks.md)."""
_BOX_STEPS = 100
"""Frames the moving box takes to cross the picture (then it comes back)."""
KIND = {0: "camera", 1: "screen"}
_EPS = 1e-6
"""Seconds of float noise ignored when comparing a time with a frame boundary."""


class SourceError(RtcSnapError, ValueError):
    """A stream's source cannot produce frames (missing or undecodable file)."""


class SourceClosed(SourceError):
    """frame() on a source that was closed (its stream was re-published or unpublished meanwhile)."""


class FrameSource(Protocol):
    """Frames of one stream, by emulator time (seconds since the epoch)."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    def frame(self, at: float) -> Image.Image:
        """The RGB frame shown at `at`, exactly width x height; shared: never mutate it."""
        ...

    def close(self) -> None: ...


def _remember(cache: OrderedDict[Any, Image.Image], key: Any, image: Image.Image) -> Image.Image:
    """Keep `image` among the last `_RECENT` frames of a source."""
    cache[key] = image
    while len(cache) > _RECENT:
        cache.popitem(last=False)
    return image


def _colours(user_id: str, stream_type: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(background, box) colours: a stable hue per stream, muted behind white text, box opposite."""
    digest = hashlib.sha256(f"{user_id}\0{stream_type}".encode()).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536

    def rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return round(r * 255), round(g * 255), round(b * 255)

    return rgb(hue, 0.6, 0.45), rgb(hue + 0.5, 0.8, 0.95)


def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, int(size)))


class SyntheticSource:
    """A moving test pattern at the declared size; deterministic in `at` (same time, same pixels).

    With a `text`, the text's box is pasted onto the frames whose time is within the text's
    window, counted from `origin` (the emulator time the stream started publishing).
    """

    def __init__(
        self,
        user_id: str,
        stream_type: int,
        width: int,
        height: int,
        text: TextSpec | None = None,
        origin: float = 0.0,
    ) -> None:
        self.user_id = user_id
        self.stream_type = stream_type
        self.width = width
        self.height = height
        self.text = text
        self.origin = origin
        self._origin_n = math.floor(origin * SYNTHETIC_FPS + _EPS)
        """The frame the text's window counts from: the one showing at `origin`."""
        self._lock = threading.Lock()
        self._background: Image.Image | None = None
        self._text_box: tuple[Image.Image, tuple[int, int]] | None = None
        self._recent: OrderedDict[int, Image.Image] = OrderedDict()
        self._box = max(2, min(width, height) // 5)
        self._clock_font = _font(height / 12)
        self._count_font = _font(height / 18)

    def _render_background(self) -> Image.Image:
        w, h = self.width, self.height
        back, _ = _colours(self.user_id, self.stream_type)
        image = Image.new("RGB", (w, h), back)
        draw = ImageDraw.Draw(image)
        grid = tuple(min(255, c + 24) for c in back)
        for i in range(1, 8):  # a grid shows scaling and cropping at a glance
            draw.line((i * w // 8, 0, i * w // 8, h), fill=grid)
            draw.line((0, i * h // 8, w, i * h // 8), fill=grid)
        draw.rectangle((0, 0, w - 1, h - 1), outline=(255, 255, 255))
        title = f"{self.user_id} · {KIND.get(self.stream_type, str(self.stream_type))}"
        size = min(h / 8, 1.6 * w / max(len(title), 1))
        draw.text((w // 2, h // 4), title, font=_font(size), anchor="mm", fill=(255, 255, 255))
        draw.text((w // 2, h * 3 // 8), f"{w}x{h}", font=_font(size * 0.6), anchor="mm", fill=(230, 230, 230))
        return image

    def frame(self, at: float) -> Image.Image:
        n = math.floor(at * SYNTHETIC_FPS + _EPS)
        with self._lock:
            cached = self._recent.get(n)
            if cached is not None:
                return cached
            if self._background is None:
                self._background = self._render_background()
                if self.text is not None:
                    self._text_box = render_box(self.text.text, self.text.size, self.width, self.height)
            image = self._draw(self._background, n)
            if self._text_box is not None and self._shows_text(n):
                image.paste(*self._text_box)
            return _remember(self._recent, n, image)

    def _shows_text(self, n: int) -> bool:
        return self.text is not None and self.text.shown((n - self._origin_n) / SYNTHETIC_FPS)

    @property
    def text_box(self) -> tuple[int, int, int, int] | None:
        """Where the text's box is drawn, (left, top, right, bottom) exclusive; None without text."""
        if self.text is None:
            return None
        with self._lock:
            if self._text_box is None:
                self._text_box = render_box(self.text.text, self.text.size, self.width, self.height)
            box, (x, y) = self._text_box
        return x, y, x + box.width, y + box.height

    def _draw(self, background: Image.Image, n: int) -> Image.Image:
        w, h, box = self.width, self.height, self._box
        image = background.copy()
        draw = ImageDraw.Draw(image)
        phase = n % (2 * _BOX_STEPS)
        step = phase if phase <= _BOX_STEPS else 2 * _BOX_STEPS - phase
        x = (w - box) * step // _BOX_STEPS
        y = h // 2 - box // 2
        draw.rectangle((x, y, x + box - 1, y + box - 1), fill=_colours(self.user_id, self.stream_type)[1])
        seconds, ms = divmod(n * 1000 // SYNTHETIC_FPS, 1000)
        clock = time.strftime("%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d} UTC"
        white = (255, 255, 255)
        draw.text((w // 2, h * 3 // 4), clock, font=self._clock_font, anchor="mm", fill=white)
        counter = f"frame {n % FRAMES_PER_DAY:07d}"
        draw.text((w // 2, h * 7 // 8), counter, font=self._count_font, anchor="mm", fill=white)
        return image

    def close(self) -> None:
        with self._lock:
            self._recent.clear()
            self._background = self._text_box = None

    def __repr__(self) -> str:
        text = "" if self.text is None else f", text={self.text.text!r}"
        return f"SyntheticSource({self.user_id!r}, {self.stream_type}, {self.width}x{self.height}{text})"


class _Decoded:
    """One decoded video frame and where it starts, in seconds from the file's first frame."""

    __slots__ = ("frame", "start")

    def __init__(self, frame: av.video.frame.VideoFrame, start: float) -> None:
        self.frame = frame
        self.start = start


class VideoSource:
    """A video file decoded forward with PyAV and looped; opened on the first frame() only.

    The file's clock starts at the first call: the frame shown at `at` is the one playing at
    ``(at - t_first_call) mod duration`` in the file. Frames are scaled to width x height when
    those are given and differ from the file's size.
    """

    def __init__(self, path: Path, width: int | None = None, height: int | None = None) -> None:
        if (width is None) != (height is None):
            raise ValueError("VideoSource: give width and height together, or neither")
        if not path.is_file():
            raise SourceError(f"{path}: no such video file")
        self.path = path
        self._size = (width, height) if width is not None and height is not None else None
        self._lock = threading.Lock()
        self._closed = False
        self._container: av.container.InputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._frames: Iterator[av.video.frame.VideoFrame] | None = None
        self._origin: float | None = None  # the file time of its first frame
        self._t0 = 0.0  # the emulator time of the first frame() call
        self._period = 0.04
        self._duration: float | None = None  # known once the end was reached
        self._current: _Decoded | None = None
        self._next: _Decoded | None = None
        self._shown: OrderedDict[tuple[float, float], Image.Image] = OrderedDict()
        """Recently shown frames by (start, end) in the file."""

    @property
    def width(self) -> int:
        return self._dimensions()[0]

    @property
    def height(self) -> int:
        return self._dimensions()[1]

    def _dimensions(self) -> tuple[int, int]:
        if self._size is not None:
            return self._size
        with self._lock:
            stream = self._open()
            return stream.codec_context.width, stream.codec_context.height

    def _fail(self, exc: BaseException) -> SourceError:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return SourceError(f"{self.path}: cannot decode video: {reason}")

    def _open(self) -> av.video.stream.VideoStream:
        if self._closed:
            raise SourceClosed(f"{self.path}: the source was closed")
        if self._stream is not None:
            return self._stream
        import av  # lazily: PyAV costs ~100 ms to import and most runs never decode a file

        try:
            container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as exc:
            raise self._fail(exc) from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"{self.path}: cannot decode video: the file has no video stream")
        self._container, self._stream = container, container.streams.video[0]
        rate = self._stream.average_rate or self._stream.guessed_rate
        if rate:
            self._period = float(1 / rate)
        return self._stream

    def frame(self, at: float) -> Image.Image:
        with self._lock:
            if self._current is None:  # first call (or every decode so far failed)
                self._open()
                if self._frames is None:
                    self._t0 = at
                self._rewind()
            offset = at - self._t0
            offset = offset % self._duration if self._duration else max(0.0, offset)
            for (start, end), image in self._shown.items():  # a recent frame: no seeking back
                if start - _EPS <= offset < end - _EPS:
                    return image
            try:
                shown = self._locate(offset)
            except _av_errors() as exc:
                raise self._fail(exc) from None
            end = self._next.start if self._next is not None else (self._duration or math.inf)
            return _remember(self._shown, (shown.start, end), self._to_image(shown.frame))

    def _rewind(self) -> None:
        assert self._container is not None and self._stream is not None
        try:
            if self._frames is not None:
                self._container.seek(0, stream=self._stream, backward=True)
            self._frames = iter(self._container.decode(self._stream))
            self._current, self._next = None, None
            self._current = self._read()
        except _av_errors() as exc:
            raise self._fail(exc) from None
        if self._current is None:
            raise SourceError(f"{self.path}: cannot decode video: the file has no frames")

    def _read(self) -> _Decoded | None:
        assert self._frames is not None
        frame = next(self._frames, None)
        if frame is None:
            return None
        if frame.time is None:
            start = 0.0 if self._current is None else self._current.start + self._period
        else:
            if self._origin is None:
                self._origin = frame.time
            start = frame.time - self._origin
        return _Decoded(frame, start)

    def _locate(self, offset: float) -> _Decoded:
        """The frame playing at `offset` seconds into the file, decoding forward (or looping)."""
        assert self._current is not None
        if offset < self._current.start - _EPS:
            self._rewind()
        while True:
            current = self._current
            assert current is not None
            if self._next is None:
                self._next = self._read()
            if self._next is None:  # the end: the last frame plays for one frame period
                if self._duration is None:
                    self._duration = current.start + self._period
                if offset < self._duration:
                    return current
                offset %= self._duration
                self._rewind()
                continue
            if self._next.start > offset + _EPS:
                return current
            self._current, self._next = self._next, None

    def _to_image(self, frame: av.video.frame.VideoFrame) -> Image.Image:
        if self._size is not None and self._size != (frame.width, frame.height):
            frame = frame.reformat(width=self._size[0], height=self._size[1], format="rgb24")
        image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV's stub is untyped
        return image if image.mode == "RGB" else image.convert("RGB")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._shown.clear()
            self._current = self._next = None
            self._frames = None
            if self._container is not None:
                self._container.close()
                self._container = self._stream = None

    def __repr__(self) -> str:
        return f"VideoSource({str(self.path)!r})"


def _av_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a decode step can raise (PyAV is imported only once a file is opened)."""
    import av

    return (av.FFmpegError, OSError)


def open_source(
    user_id: str,
    stream_type: int,
    width: int,
    height: int,
    path: Path | None = None,
    *,
    text: TextSpec | None = None,
    origin: float = 0.0,
) -> FrameSource:
    """The source of one stream: its video file scaled to its size, or the synthetic pattern
    (with its `text` timed from `origin`; only the synthetic pattern draws one)."""
    if path is not None:
        if text is not None:
            raise ValueError("open_source: only the synthetic pattern draws a text")
        return VideoSource(path, width, height)
    return SyntheticSource(user_id, stream_type, width, height, text, origin)


__all__ = [
    "FRAMES_PER_DAY",
    "SYNTHETIC_FPS",
    "FrameSource",
    "SourceClosed",
    "SourceError",
    "SyntheticSource",
    "VideoSource",
    "open_source",
]
