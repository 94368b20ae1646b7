"""ImageConfig: format, size and interval of the snapshots (spec §3.2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from rtcsnap.models.base import LENIENT_DEFAULT, WireModel
from rtcsnap.models.types import ImageFormat, WireInt, between, enum_of

_Pixels = Annotated[WireInt, AfterValidator(between(0, 1920)), LENIENT_DEFAULT]


class ImageConfig(WireModel):
    """Every field optional. API 2022-06-01 resets an invalid value to its default (and so does
    lenient mode); 2023-11-01 rejects it (spec §9 #7).

    Width/Height 0 mean "the stream's own size"; a different size is scaled proportionally.
    """

    format: Annotated[
        ImageFormat, enum_of(ImageFormat, aliases={"jpg": ImageFormat.JPEG}), LENIENT_DEFAULT
    ] = ImageFormat.JPEG
    width: _Pixels = 0
    height: _Pixels = 0
    interval: Annotated[WireInt, AfterValidator(between(1, 600)), LENIENT_DEFAULT] = 2
    """Seconds between two snapshots of a stream."""
