"""Frame sources: the synthetic pattern (deterministic, moving, per-stream) and looped video files.

The videos are made here with PyAV itself: 64x48 at 10 fps, 12 frames, frame i a solid colour
from `COLOURS`, so a decoded frame is identified by its colour (the codec is lossy, so the
nearest colour wins).
"""

from __future__ import annotations

import math
import sys
import threading
import wave
from pathlib import Path

import av
import pytest
from PIL import Image
from rtcsnap.emulator.sources import (
    SourceClosed,
    SourceError,
    SyntheticSource,
    VideoSource,
    open_source,
)

T = 1_700_000_000.0  # a whole second, 40 ms-aligned
COLOURS = [
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255),
    (255, 255, 255), (0, 0, 0), (128, 0, 0), (0, 128, 0), (0, 0, 128), (128, 128, 128),
]  # fmt: skip
FPS, SIZE = 10, (64, 48)
DURATION = len(COLOURS) / FPS


def make_video(path: Path, colours: list[tuple[int, int, int]] = COLOURS) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        for i, colour in enumerate(colours):
            frame = av.VideoFrame.from_image(Image.new("RGB", SIZE, colour))
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def index_of(image: Image.Image) -> int:
    """Which of `COLOURS` the image shows (the nearest one to its centre pixel)."""
    px = image.getpixel((image.width // 2, image.height // 2))
    assert isinstance(px, tuple)
    return min(
        range(len(COLOURS)), key=lambda i: sum((a - b) ** 2 for a, b in zip(COLOURS[i], px, strict=True))
    )


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return make_video(tmp_path / "clip.mp4")


# --------------------------------------------------------------------------- synthetic


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (16, 16), (3840, 16), (17, 3001)])
def test_synthetic_frames_are_rgb_at_the_declared_size(width: int, height: int) -> None:
    image = SyntheticSource("alice", 0, width, height).frame(T)
    assert (image.mode, image.size) == ("RGB", (width, height))


def test_synthetic_is_deterministic_in_time() -> None:
    a, b = SyntheticSource("alice", 0, 320, 180), SyntheticSource("alice", 0, 320, 180)
    assert a.frame(T + 12.34).tobytes() == b.frame(T + 12.34).tobytes()
    b.frame(T + 99)  # rendering other times first changes nothing
    assert SyntheticSource("alice", 0, 320, 180).frame(T + 5).tobytes() == b.frame(T + 5).tobytes()


@pytest.mark.parametrize("gap", [1.0, 0.04, 60.0])
def test_synthetic_frames_apart_in_time_differ(gap: float) -> None:
    src = SyntheticSource("alice", 0, 1280, 720)
    assert src.frame(T).tobytes() != src.frame(T + gap).tobytes()


def test_tiny_synthetic_frames_still_change_over_a_second() -> None:
    src = SyntheticSource("a", 0, 16, 16)
    assert src.frame(T).tobytes() != src.frame(T + 1).tobytes()


def test_one_frame_period_gives_the_same_shared_image() -> None:
    src = SyntheticSource("alice", 0, 320, 180)
    first = src.frame(T + 0.001)
    assert src.frame(T + 0.039) is first  # same 40 ms period
    second = src.frame(T + 0.040)
    assert second is not first
    assert src.frame(T + 0.079) is second


def test_streams_of_different_users_and_types_look_different() -> None:
    def background(user: str, kind: int) -> object:
        return SyntheticSource(user, kind, 320, 180).frame(T).getpixel((3, 3))

    colours = {background("alice", 0), background("alice", 1), background("bob", 0), background("bob", 1)}
    assert len(colours) == 4


def test_the_title_is_static_and_the_clock_part_moves() -> None:
    src = SyntheticSource("alice", 0, 640, 360)
    a, b = src.frame(T), src.frame(T + 1)
    title = (0, 0, 640, 120)  # user, kind and size: drawn once into the background
    clock = (0, 240, 640, 300)  # the UTC clock line
    assert a.crop(title).tobytes() == b.crop(title).tobytes()
    assert a.crop(clock).tobytes() != b.crop(clock).tobytes()


def test_the_box_moves_across_the_frame() -> None:
    src = SyntheticSource("alice", 0, 640, 360)

    def box_left(at: float) -> int:
        image = src.frame(at)
        plain = {image.getpixel((3, 3)), image.getpixel((80, 3)), (255, 255, 255)}  # background, grid, border
        return next(x for x in range(image.width) if image.getpixel((x, 180)) not in plain)

    positions = [box_left(T + i * 0.4) for i in range(5)]
    assert positions == sorted(positions) and len(set(positions)) == 5


def test_a_closed_synthetic_source_renders_again() -> None:
    src = SyntheticSource("alice", 0, 64, 36)
    before = src.frame(T).tobytes()
    src.close()
    assert src.frame(T).tobytes() == before


# --------------------------------------------------------------------------- video


def test_a_missing_video_file_is_refused_at_construction(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nope\.mp4: no such video file"):
        VideoSource(tmp_path / "nope.mp4")


def test_construction_does_not_open_the_file(tmp_path: Path) -> None:
    path = tmp_path / "later.mp4"
    path.write_bytes(b"not a video yet")
    src = VideoSource(path)  # only checks that the file exists
    make_video(path)
    assert index_of(src.frame(T)) == 0


def test_an_undecodable_file_fails_on_first_frame_naming_path_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "junk.mp4"
    path.write_bytes(b"\x00garbage" * 100)
    src = VideoSource(path, 64, 48)
    with pytest.raises(SourceError) as info:
        src.frame(T)
    assert str(path) in str(info.value) and "Invalid data" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_file_without_video_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sound.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    with pytest.raises(SourceError, match="no video stream"):
        VideoSource(path).frame(T)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0.0, 0),
        (0.05, 0),
        (0.1, 1),
        (0.35, 3),
        (1.15, 11),  # the last frame plays for one frame period
        (1.2, 0),  # then the file loops
        (1.25, 0),
        (DURATION * 5 + 0.75, 7),
    ],
)
def test_the_frame_at_a_time_is_the_file_frame_at_that_offset_modulo_duration(
    video: Path, offset: float, expected: int
) -> None:
    src = VideoSource(video)
    assert index_of(src.frame(T)) == 0  # the first call starts the file's clock
    assert index_of(src.frame(T + offset)) == expected


def test_going_back_in_time_seeks_back(video: Path) -> None:
    src = VideoSource(video)
    seen = [index_of(src.frame(T + off)) for off in (0.0, 0.95, 0.25, 1.05, 0.05, 0.55)]
    assert seen == [0, 9, 2, 10, 0, 5]


def test_many_loops_keep_selecting_the_right_frame(video: Path) -> None:
    src = VideoSource(video)
    for step in range(0, 80):
        at = step * 0.13
        assert index_of(src.frame(T + at)) == math.floor(round(at % DURATION * FPS, 6))


def test_one_video_frame_period_gives_the_same_image(video: Path) -> None:
    src = VideoSource(video)
    src.frame(T)
    first = src.frame(T + 0.31)
    assert src.frame(T + 0.39) is first
    assert src.frame(T + 0.41) is not first


def test_video_frames_are_scaled_to_the_declared_size(video: Path) -> None:
    src = VideoSource(video, 32, 20)
    image = src.frame(T)  # the file's clock starts here
    assert (image.mode, image.size, src.width, src.height) == ("RGB", (32, 20), 32, 20)
    assert index_of(src.frame(T + 0.35)) == 3


def test_without_a_size_the_file_size_is_used(video: Path) -> None:
    src = VideoSource(video)
    assert (src.width, src.height) == SIZE
    assert src.frame(T).size == SIZE


def test_width_and_height_go_together(video: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        VideoSource(video, 32, None)


def test_concurrent_callers_each_get_the_right_frame(video: Path) -> None:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, mid-decode included
    try:
        src = VideoSource(video)
        src.frame(T)
        errors: list[str] = []
        start = threading.Barrier(8)

        def worker(k: int) -> None:
            start.wait()
            for step in range(150):
                n = (k * 7 + step * 5) % 24  # jumps back and forth, across the loop point
                try:
                    got = index_of(src.frame(T + n * 0.05 + 0.01))
                except Exception as exc:
                    errors.append(repr(exc))
                    return
                if got != n // 2:
                    errors.append(f"offset {n * 0.05 + 0.01:.2f}: frame {got}")

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_a_closed_video_source_refuses_frames(video: Path) -> None:
    src = VideoSource(video)
    src.frame(T)
    src.close()
    with pytest.raises(SourceClosed):
        src.frame(T + 0.1)


def test_open_source_picks_video_or_synthetic(video: Path) -> None:
    synthetic = open_source("alice", 1, 48, 32, None)
    assert isinstance(synthetic, SyntheticSource) and synthetic.frame(T).size == (48, 32)
    clip = open_source("alice", 0, 40, 30, video)
    assert isinstance(clip, VideoSource) and clip.frame(T).size == (40, 30)
