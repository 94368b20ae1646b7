"""From a stream's frame to the bytes of one snapshot: the size rule, scaling and encoding.

The size rule for a requested Width/Height that differs from the stream's is undocumented beyond
"scaled proportionally" (spec §3.2, SEED note 3); `output_size` is our reading of it, assumption
A29 in docs/assumptions.md. Encoding parameters are fixed here too, so the benchmark's bare-Pillow
baseline can use exactly the same calls (`resample_for`, `JPEG_QUALITY`, `PNG_COMPRESS_LEVEL`).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

from PIL import Image

from rtcsnap.models import ImageConfig

JPEG, PNG = 0, 1
"""ImageConfig.Format values (spec §3.2)."""
EXTENSIONS = {JPEG: "jpg", PNG: "png"}
CONTENT_TYPES = {JPEG: "image/jpeg", PNG: "image/png"}
REDUCE = Image.Resampling.BOX
"""Reducing (the usual case: 1280x720 into 800x800): an area average — every source pixel counts
once, so no aliasing — at ~70 % of bilinear's CPU in Pillow (the engine benchmark's budget is
170 images/s on two cores)."""
ENLARGE = Image.Resampling.BILINEAR
"""Enlarging: bilinear (a box filter would show blocks)."""
JPEG_QUALITY = 85
PNG_COMPRESS_LEVEL = 1
"""zlib level 1: PNG stays lossless at any level; level 6 (Pillow's default) costs ~5x the CPU
for ~10 % fewer bytes on camera-like frames."""


def output_size(source: tuple[int, int], requested: tuple[int, int]) -> tuple[int, int]:
    """The snapshot's size for a `source` frame and the task's requested (Width, Height).

    Assumption A29: (0, 0) keeps the source size; otherwise the box is (Width or the source's
    width, Height or the source's height) and the frame is scaled by one factor, the largest that
    fits the box, so the aspect ratio is kept (1280x720 into 800x800 gives 800x450) — upscaling
    included. Each side is rounded and at least 1 pixel.
    """
    sw, sh = source
    rw, rh = requested
    if rw == 0 and rh == 0:
        return sw, sh
    bw, bh = rw or sw, rh or sh
    scale = min(bw / sw, bh / sh)
    return max(1, round(sw * scale)), max(1, round(sh * scale))


@dataclass(frozen=True)
class Snapshot:
    """One encoded image and what it cost (thread CPU seconds, for the engine's statistics)."""

    data: bytes
    width: int
    height: int
    format: int
    scale_cpu: float
    encode_cpu: float

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def resample_for(source: tuple[int, int], size: tuple[int, int]) -> Image.Resampling:
    """The filter for scaling `source` to `size` (same factor on both sides, see `output_size`)."""
    return REDUCE if size[0] <= source[0] and size[1] <= source[1] else ENLARGE


def scale(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`frame` at `size`; the frame itself when it already has that size (frames are shared and
    never modified, so no copy is needed)."""
    if frame.size == size:
        return frame
    return frame.resize(size, resample_for(frame.size, size))


def encode(image: Image.Image, fmt: int) -> bytes:
    buf = io.BytesIO()
    if fmt == PNG:
        image.save(buf, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        image.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def snapshot(frame: Image.Image, config: ImageConfig) -> Snapshot:
    """Scale `frame` per the task's ImageConfig and encode it in the configured format."""
    fmt = int(config.format)
    if fmt not in EXTENSIONS:
        raise ValueError(f"ImageConfig.Format {fmt}: expected 0 (JPEG) or 1 (PNG)")
    t0 = time.thread_time()
    image = scale(frame, output_size(frame.size, (config.width, config.height)))
    t1 = time.thread_time()
    data = encode(image, fmt)
    t2 = time.thread_time()
    return Snapshot(data, image.width, image.height, fmt, t1 - t0, t2 - t1)


__all__ = [
    "CONTENT_TYPES",
    "ENLARGE",
    "EXTENSIONS",
    "JPEG",
    "JPEG_QUALITY",
    "PNG",
    "PNG_COMPRESS_LEVEL",
    "REDUCE",
    "Snapshot",
    "encode",
    "output_size",
    "resample_for",
    "scale",
    "snapshot",
]
