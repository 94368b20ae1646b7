"""Text: RapidOCR (``rapidocr-onnxruntime`` 1.4, PP-OCRv4 Chinese+English detection and recognition
plus the 180° direction classifier, all ONNX files inside its wheel).

It returns each recognised line, its confidence and box; matching keywords and patterns is the
rules' business (`rtcsnap_moderation.rules`), on NFKC-normalised, casefolded text.

Defaults differ from RapidOCR's in two places, both for speed on snapshot frames: one ONNX thread
(a process pool supplies the parallelism), and the detector sees the frame at its own size up to a
960 px long side (``limit_type="max"``) where RapidOCR scales the *short* side up to 736 px, which
makes a 640x360 frame ~4x the pixels and ~4-5x the time. Small text on low-resolution frames reads
better RapidOCR's way: set ``limit_type = "min"``, ``limit_side_len = 736`` to get it back.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from rtcsnap_moderation import lazy
from rtcsnap_moderation.detector import Detector
from rtcsnap_moderation.images import to_rgb
from rtcsnap_moderation.verdict import Box, Finding, TextLine

if TYPE_CHECKING:
    from PIL.Image import Image


class TextOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: int | None = Field(default=1, ge=1)
    """ONNX Runtime intra-op threads; None = its default (one per core)."""
    limit_type: Literal["max", "min"] = "max"
    """Which side of the frame `limit_side_len` bounds for text detection (RapidOCR: "min")."""
    limit_side_len: int = Field(default=960, ge=32)
    """RapidOCR's default: 736 (with limit_type "min")."""
    text_score: float = Field(default=0.5, ge=0.0, le=1.0)
    """Lines recognised with less confidence are dropped (RapidOCR's default)."""
    box_thresh: float = Field(default=0.5, ge=0.0, le=1.0)
    use_cls: bool = True
    """Run the 180° direction classifier (upside-down text); ~10 ms."""


@cache
def _version() -> str:
    return version("rapidocr-onnxruntime")


def _build(options: TextOptions) -> Any:
    from rtcsnap_moderation.onnx import without_telemetry

    without_telemetry()
    from rapidocr_onnxruntime import RapidOCR

    settings: dict[str, Any] = {
        "det_limit_type": options.limit_type,
        "det_limit_side_len": options.limit_side_len,
        "det_box_thresh": options.box_thresh,
        "text_score": options.text_score,
        "use_cls": options.use_cls,
    }
    if options.threads is not None:
        # RapidOCR ignores a count above the core count; so be it.
        settings |= {"intra_op_num_threads": options.threads, "inter_op_num_threads": 1}
    return RapidOCR(**settings)


class TextDetector(Detector):
    name: ClassVar[str] = "text"
    Options: ClassVar[type[BaseModel]] = TextOptions
    options: TextOptions

    def _key(self) -> tuple[str, TextOptions]:
        return ("rapidocr", self.options)

    def _loaded(self) -> lazy.Loaded[Any]:
        return lazy.load(self._key(), lambda: _build(self.options))

    def load(self) -> float:
        if lazy.is_loaded(self._key()):
            return 0.0
        return self._loaded().load_seconds

    def model_name(self) -> str:
        return f"rapidocr-onnxruntime {_version()} PP-OCRv4"

    def detect_image(self, image: Image) -> Finding:
        loaded = self._loaded()
        with loaded.lock:
            # No per-call keyword arguments: RapidOCR stores those on the shared object.
            result, _elapsed = loaded.model(to_rgb(image))
        lines = [
            TextLine(text=str(text), score=min(1.0, max(0.0, float(score))), box=Box.around(points))
            for points, text, score in (result or [])
        ]
        return self.finding(text=lines)


__all__ = ["TextDetector", "TextOptions"]
