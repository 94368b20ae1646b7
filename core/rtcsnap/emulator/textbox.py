"""A stream's own text (the rooms file's ``text``): the font that has its glyphs, and its box.

The synthetic pattern can show a given text, large, dark on a light box in the middle of every
frame, for tests that need a stream to *show* something (an OCR moderation test: "the images of
this stream showed BUY GUNS HERE"). The box is drawn once per source (`render_box`) and pasted
onto each frame, which costs a few microseconds, not a text layout per frame.

Fonts: the first of `FONT_FILES` (Noto Sans CJK Bold, then DejaVu Sans Bold) that has a glyph for
every character, then any font fontconfig (``fc-list``) finds with all of them, then Pillow's
built-in font. A text no installed font can draw is refused when it is declared (`font_for`
raises `MissingGlyphs`), so a stream never shows tofu boxes instead of its text.
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

FONT_FILES: tuple[tuple[str, str | None], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", None),
)
"""(file, preferred face of a collection): Debian's fonts-noto-cjk, then fonts-dejavu-core. Noto
Sans CJK has Latin too, and RapidOCR reads ``BUY GUNS HERE`` in it as one line at every size we
tried, where DejaVu's wide spaces often split it into words; its Simplified Chinese face draws
Han characters as a Chinese OCR model expects them. DejaVu covers Greek, Cyrillic, Hebrew…"""
INK, PAPER = (0, 0, 0), (250, 250, 250)
"""Text and box colours: as far apart as they go, so the text reads at any JPEG quality."""
MIN_PIXELS = 6
_PROBE = 32
"""Font size used to check glyph coverage (coverage does not depend on the size)."""
_NO_SUCH_CHARACTER = "\U000ffffd"
"""A private-use code point no text font maps: it renders as the font's missing-glyph shape."""
_LOCK = threading.Lock()
_CJK_NAMES = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC", "FULLWIDTH")


class MissingGlyphs(ValueError):
    """No installed font can draw every character of a text; the message says what to install."""


@dataclass(frozen=True)
class FontChoice:
    """A font file and face index; `path` None is Pillow's built-in font."""

    path: str | None
    index: int = 0

    def load(self, pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        from PIL import ImageFont

        if self.path is None:
            return ImageFont.load_default(size=pixels)
        return ImageFont.truetype(self.path, pixels, index=self.index)


def _needed(text: str) -> list[str]:
    """The characters that must have a glyph (not spaces or invisible format characters)."""
    return sorted({c for c in text if not c.isspace() and unicodedata.category(c) != "Cf"})


def _shape(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> tuple[object, bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@functools.lru_cache(maxsize=32)
def _probe(
    choice: FontChoice,
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, tuple[object, bytes]] | None:
    """The font at the probe size and its missing-glyph shape; None if it cannot be loaded."""
    try:
        font = choice.load(_PROBE)
        return font, _shape(font, _NO_SUCH_CHARACTER)
    except (OSError, ValueError):  # an unreadable or bitmap-only font: not a candidate
        return None


def _covers(choice: FontChoice, chars: list[str]) -> bool:
    probe = _probe(choice)
    if probe is None:
        return False
    font, missing = probe
    try:
        return all(_shape(font, c) != missing for c in chars)
    except (OSError, ValueError):
        return False


@functools.lru_cache(maxsize=16)
def _face(path: str, preferred: str | None) -> int:
    """The index of the `preferred` face (family name) in a font collection, else 0."""
    if preferred is None:
        return 0
    from PIL import ImageFont

    for index in range(16):
        try:
            family = ImageFont.truetype(path, _PROBE, index=index).getname()[0]
        except OSError:
            break
        if family == preferred:
            return index
    return 0


def _fontconfig(chars: list[str]) -> list[FontChoice]:
    """Fonts fontconfig knows with all of `chars`, sans before serif, bold before regular."""
    fc_list = shutil.which("fc-list")
    if fc_list is None or not chars:
        return []
    charset = " ".join(f"{ord(c):x}" for c in chars)
    try:
        out = subprocess.run(
            [fc_list, "-f", "%{file}\t%{index}\t%{family}\t%{style}\n", f":charset={charset}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    ranked: list[tuple[tuple[object, ...], FontChoice]] = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        path, index, family, style = parts[0], int(parts[1]), parts[2].lower(), parts[3].lower()
        rank = (
            "sans" not in family,
            "mono" in family or "serif" in family,
            {"bold": 0, "regular": 1, "book": 1}.get(style.split(",")[0], 2),
            " sc" not in family,
            path,
            index,
        )
        ranked.append((rank, FontChoice(path, index)))
    return [choice for _, choice in sorted(ranked, key=lambda r: r[0])]


def _candidates(chars: list[str]) -> list[FontChoice]:
    from pathlib import Path

    known = [FontChoice(path, _face(path, face)) for path, face in FONT_FILES if Path(path).is_file()]
    return [*known, *_fontconfig(chars), FontChoice(None)]


@functools.lru_cache(maxsize=256)
def font_for(text: str) -> FontChoice:
    """The font that draws every character of `text`, or `MissingGlyphs` saying what to install."""
    with _LOCK:  # the probe fonts are shared, and a FreeType face is not safe across threads
        return _find(text)


def _find(text: str) -> FontChoice:
    chars = _needed(text)
    candidates = _candidates(chars)
    for choice in candidates:
        if _covers(choice, chars):
            return choice
    missing = [c for c in chars if not any(_covers(choice, [c]) for choice in candidates)]
    listed = ", ".join(repr(c) for c in (missing or chars)[:8]) + (", …" if len(missing or chars) > 8 else "")
    if not missing:
        raise MissingGlyphs(f"no single installed font has glyphs for all of {listed}: use fewer scripts")
    if any(unicodedata.name(c, "").startswith(_CJK_NAMES) for c in missing):
        hint = "install fonts-noto-cjk (Debian/Ubuntu) or another CJK font"
    else:
        hint = "install a font that has them, e.g. fonts-noto-core (Debian/Ubuntu)"
    raise MissingGlyphs(f"no font with these glyphs installed ({listed}): {hint}")


def render_box(text: str, size: float, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """`text` dark on a light box centred in a width x height frame: (the box, its top left).

    The font is `size` x the frame height (shrunk to fit the width), lines centred; the box is
    clipped to the frame if it is larger (a tiny frame).
    """
    from PIL import Image, ImageDraw

    choice = font_for(text)
    pixels = max(MIN_PIXELS, round(size * height))
    scratch = ImageDraw.Draw(Image.new("L", (1, 1)))
    for _ in range(4):  # shrink until it fits: text widths are near enough linear in the size
        font, spacing, pad = choice.load(pixels), max(1, pixels // 4), max(2, round(pixels * 0.35))
        bbox = scratch.multiline_textbbox((0, 0), text, font=font, spacing=spacing, align="center")
        left, top, right, bottom = (
            math.floor(bbox[0]),
            math.floor(bbox[1]),
            math.ceil(bbox[2]),
            math.ceil(bbox[3]),
        )
        room = width * 0.94 - 2 * pad
        if right - left <= room or pixels == MIN_PIXELS:
            break
        pixels = max(MIN_PIXELS, int(pixels * room / (right - left)))
    box = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), PAPER)
    ImageDraw.Draw(box).multiline_text(
        (pad - left, pad - top), text, font=font, fill=INK, spacing=spacing, align="center"
    )
    x, y = (width - box.width) // 2, (height - box.height) // 2
    if x < 0 or y < 0:  # larger than a tiny frame: keep its middle
        cx, cy = max(0, -x), max(0, -y)
        box = box.crop((cx, cy, cx + min(box.width, width), cy + min(box.height, height)))
        x, y = max(0, x), max(0, y)
    return box, (x, y)


__all__ = ["FONT_FILES", "FontChoice", "MissingGlyphs", "font_for", "render_box"]
