"""Helpers for the moderation tests: rendered frames, fonts, stand-in detectors."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from rtcsnap_moderation import Detection, Detector, Finding

SIZE = (640, 360)
LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
CJK_MISSING = "no CJK font installed (Debian: apt-get install fonts-noto-cjk); CJK OCR cases need one"


def _fc_files(*pattern: str) -> list[str]:
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(["fc-list", *pattern, "file"], capture_output=True, text=True, timeout=30).stdout
    return sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())


def latin_font_path() -> str | None:
    for path in LATIN_FONTS:
        if Path(path).is_file():
            return path
    found = [p for p in _fc_files(":lang=en") if p.endswith((".ttf", ".otf"))]
    return found[0] if found else None


def cjk_font_path() -> str | None:
    """A font with Simplified Chinese: Noto Sans CJK (Debian's fonts-noto-cjk) first."""
    found = _fc_files(":lang=zh-cn")
    for preferred in ("NotoSansCJK-Regular", "NotoSansCJK-Bold", "NotoSerifCJK-Regular"):
        hit = [p for p in found if preferred in p]
        if hit:
            return hit[0]
    return found[0] if found else None


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    """As a storage provider's `get` returns it."""
    buf = io.BytesIO()
    image.save(buf, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buf.getvalue()


def frame(background: tuple[int, int, int] = (28, 36, 52)) -> Image.Image:
    return Image.new("RGB", SIZE, background)


def render(
    lines: list[str],
    font_path: str,
    *,
    size: int = 44,
    background: tuple[int, int, int] = (28, 36, 52),
    colour: tuple[int, int, int] = (250, 250, 250),
    fmt: str = "JPEG",
) -> bytes:
    """A 640x360 frame with `lines` of text, left-aligned, as JPEG (or PNG) bytes."""
    image = frame(background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path, size)
    y = 40
    for line in lines:
        draw.text((40, y), line, font=font, fill=colour)
        y += int(size * 1.6)
    return encode(image, fmt)


def fixed_detector(
    name: str, scores: dict[str, float], labels: frozenset[str] | None = None
) -> type[Detector]:
    """A `Detector` class named `name` whose every run finds `scores` (label → score, no box)."""
    detections = tuple(Detection(label=label, score=score) for label, score in scores.items())

    class Fixed(Detector):
        def detect_image(self, image: Image.Image) -> Finding:
            return self.finding(detections=detections)

    Fixed.name = name
    Fixed.labels = labels
    Fixed.__name__ = Fixed.__qualname__ = f"Fixed_{name}"
    return Fixed
