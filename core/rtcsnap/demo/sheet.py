"""The contact sheet: every downloaded image of a task on one PNG, one row per stream, in time.

Columns are slots of the finest interval the task used, and an image sits in the slot of its
own timestamp, so the sheet is a timeline: before an UpdateSnapshot that halved the interval
every other slot is empty, after it every slot is filled — the cadence change is visible
without reading a label. Each row is labelled with its user and stream type, each image with
its capture time (UTC), and the update is a marked vertical line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

THUMB_W, THUMB_H = 160, 90
CAPTION_H = 18
PAD = 6
LABEL_W = 170
HEADER_H = 64
BACKGROUND, INK, MUTED, MARK = (24, 26, 30), (235, 235, 235), (150, 150, 150), (230, 70, 60)
FLAG = (249, 115, 22)
"""Frame and caption of an image a plugin flagged."""
STREAM_KIND = {0: "camera", 1: "screen share"}


@dataclass(frozen=True)
class Shot:
    """One image on the sheet: which stream, when, the file it was downloaded to, and whether a
    plugin's verdict flagged it (framed and captioned in `FLAG`)."""

    user_id: str
    stream_type: int
    timestamp_ms: int
    path: Path
    flagged: bool = False


@dataclass(frozen=True)
class Change:
    """An UpdateSnapshot during the task: when it was answered, and the interval it set."""

    at_ms: int
    interval: int


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def _thumbnail(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        image = opened.convert("RGB")
        image.thumbnail((THUMB_W, THUMB_H))
    cell = Image.new("RGB", (THUMB_W, THUMB_H), (0, 0, 0))
    cell.paste(image, ((THUMB_W - image.width) // 2, (THUMB_H - image.height) // 2))
    return cell


def slot_of(timestamp_ms: int, start_ms: int, slot_ms: int) -> int:
    """The column of an image taken at `timestamp_ms`: the nearest slot after `start_ms`."""
    return max(0, round((timestamp_ms - start_ms) / slot_ms))


def contact_sheet(
    shots: Sequence[Shot],
    out: Path,
    *,
    title: str,
    interval: int,
    changes: Sequence[Change] = (),
    streams: Sequence[tuple[str, int]] = (),
) -> Path:
    """Write the sheet of `shots` to `out` (PNG). `interval` is the task's first interval and
    `changes` its updates; rows are `streams` in that order, then any other stream found."""
    if not shots:
        raise ValueError("contact sheet: no images to show")
    slot_ms = 1000 * min([interval, *(c.interval for c in changes)])
    start_ms = min(s.timestamp_ms for s in shots)
    order = list(dict.fromkeys([*streams, *sorted({(s.user_id, s.stream_type) for s in shots})]))
    rows = {stream: i for i, stream in enumerate(order)}
    columns = max(slot_of(s.timestamp_ms, start_ms, slot_ms) for s in shots) + 1
    cell_w, cell_h = THUMB_W + PAD, THUMB_H + CAPTION_H + PAD
    width = LABEL_W + columns * cell_w + PAD
    height = HEADER_H + len(order) * cell_h + PAD
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((PAD, PAD), title, font=_font(18), fill=INK)
    cadence = ", then ".join(
        [f"every {interval} s", *(f"every {c.interval} s from {_clock(c.at_ms)} UTC" for c in changes)]
    )
    draw.text((PAD, PAD + 26), f"{len(shots)} images, {cadence}", font=_font(14), fill=MUTED)
    for (user, stream_type), row in rows.items():
        y = HEADER_H + row * cell_h
        draw.text((PAD, y + 20), user, font=_font(18), fill=INK)
        kind = STREAM_KIND.get(stream_type, "stream")
        draw.text((PAD, y + 44), f"{kind} (type {stream_type})", font=_font(13), fill=MUTED)
    taken: set[tuple[int, int]] = set()
    for shot in sorted(shots, key=lambda s: s.timestamp_ms):
        row = rows[(shot.user_id, shot.stream_type)]
        column = slot_of(shot.timestamp_ms, start_ms, slot_ms)
        while (row, column) in taken:  # two images rounding into one slot: keep both visible
            column += 1
        taken.add((row, column))
        if column >= columns:
            sheet = _widen(sheet, LABEL_W + (column + 1) * cell_w + PAD)
            draw = ImageDraw.Draw(sheet)
            columns = column + 1
        x, y = LABEL_W + column * cell_w, HEADER_H + row * cell_h
        sheet.paste(_thumbnail(shot.path), (x, y))
        if shot.flagged:
            draw.rectangle([(x - 3, y - 3), (x + THUMB_W + 2, y + THUMB_H + 2)], outline=FLAG, width=3)
        draw.text(
            (x + THUMB_W // 2, y + THUMB_H + 2),
            _clock(shot.timestamp_ms) + (" · flagged" if shot.flagged else ""),
            font=_font(13),
            fill=FLAG if shot.flagged else INK,
            anchor="mt",
        )
    for change in changes:
        x = LABEL_W + round((change.at_ms - start_ms) / slot_ms * cell_w) - PAD // 2
        if LABEL_W <= x < sheet.width:
            draw.line([(x, HEADER_H - 8), (x, sheet.height - PAD)], fill=MARK, width=3)
            draw.text(
                (x + 4, HEADER_H - 20), f"UpdateSnapshot: {change.interval} s", font=_font(13), fill=MARK
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG", optimize=True)
    return out


def _widen(sheet: Image.Image, width: int) -> Image.Image:
    wider = Image.new("RGB", (width, sheet.height), BACKGROUND)
    wider.paste(sheet, (0, 0))
    return wider


__all__ = ["Change", "Shot", "contact_sheet", "slot_of"]
