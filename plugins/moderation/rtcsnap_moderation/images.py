"""Bytes from a storage provider's ``get`` (JPEG or PNG) to one RGB Pillow image, decoded once per
moderation call and shared by every detector.

Pillow is imported here, on first use, not at package import: the rtcsnap CLI loads every plugin,
and a CLI run that never moderates must not pay for Pillow, NumPy or the ONNX runtime.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, TypeAlias

from rtcsnap_moderation.verdict import ImageInfo

if TYPE_CHECKING:
    from PIL.Image import Image

ImageInput: TypeAlias = "bytes | bytearray | memoryview | Image"
"""What a detector's ``detect`` and the moderator's ``moderate`` accept: encoded bytes or a decoded image."""


def decode(data: bytes | bytearray | memoryview) -> tuple[Image, ImageInfo]:
    """Decode fully (``load()``: a truncated file fails here, not inside a model) and convert to
    RGB (alpha dropped, palette and greyscale expanded): every detector gets 3-channel pixels.
    Pillow's decompression-bomb limit stays in force."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(bytes(data))) as opened:
        opened.load()
        fmt = opened.format
        rgb = opened.convert("RGB")
    return rgb, ImageInfo(width=rgb.width, height=rgb.height, format=fmt)


def to_rgb(image: ImageInput) -> Image:
    """`image` as an RGB Pillow image: bytes are decoded, an image in another mode converted."""
    if isinstance(image, bytes | bytearray | memoryview):
        return decode(image)[0]
    return image if image.mode == "RGB" else image.convert("RGB")


__all__ = ["ImageInput", "decode", "to_rgb"]
