"""The size rule (assumption A29) and the encoders, on real Pillow images."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from rtcsnap.emulator import imaging
from rtcsnap.models import ImageConfig


@pytest.mark.parametrize(
    ("source", "requested", "expected"),
    [
        ((1280, 720), (0, 0), (1280, 720)),  # 0 x 0 keeps the stream's size
        ((1280, 720), (800, 800), (800, 450)),  # fits the box, aspect kept
        ((1280, 720), (640, 0), (640, 360)),  # Height 0 follows the stream's height: box 640x720
        ((1280, 720), (0, 360), (640, 360)),
        ((720, 1280), (800, 800), (450, 800)),  # portrait
        ((640, 360), (1920, 1080), (1920, 1080)),  # upscaled to fit
        ((1920, 1080), (1, 1), (1, 1)),  # never below one pixel
    ],
)
def test_output_size(source: tuple[int, int], requested: tuple[int, int], expected: tuple[int, int]) -> None:
    assert imaging.output_size(source, requested) == expected


@pytest.mark.parametrize(("fmt", "pil_name"), [(0, "JPEG"), (1, "PNG")])
def test_snapshot_is_the_configured_format_at_the_computed_size(fmt: int, pil_name: str) -> None:
    frame = Image.linear_gradient("L").convert("RGB").resize((1280, 720))
    snap = imaging.snapshot(frame, ImageConfig(format=fmt, width=800, height=800))
    decoded = Image.open(io.BytesIO(snap.data))
    assert decoded.format == pil_name
    assert decoded.size == (snap.width, snap.height) == (800, 450)
    assert snap.content_type == f"image/{pil_name.lower()}"


def test_same_size_is_not_resampled() -> None:
    frame = Image.new("RGB", (320, 240), (10, 200, 30))
    assert imaging.scale(frame, (320, 240)) is frame
    png = Image.open(io.BytesIO(imaging.snapshot(frame, ImageConfig(format=1)).data))
    assert png.getpixel((5, 5)) == (10, 200, 30)  # lossless: the exact frame
