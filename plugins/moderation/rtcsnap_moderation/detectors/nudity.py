"""Nudity: NudeNet 3.4's detector (``320n.onnx``, a YOLOv8-n shipped in the nudenet wheel).

It returns every region scoring >= 0.2 (NudeNet's own floor) with its class and box; which classes
flag at what score is the rules' business (``[moderation.labels.nudity]``). Pixels are handed over
as a BGR array, exactly what ``NudeDetector.detect(path)`` would read with ``cv2.imread``, so the
preprocessing matches NudeNet's own path for files (and greyscale or alpha inputs, which NudeNet's
``cv2.imdecode`` path would mishandle, arrive as 3 channels).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from rtcsnap_moderation import lazy
from rtcsnap_moderation.detector import Detector
from rtcsnap_moderation.images import to_rgb
from rtcsnap_moderation.verdict import Box, Detection, Finding

if TYPE_CHECKING:
    from PIL.Image import Image

NUDENET_LABELS: frozenset[str] = frozenset(
    {
        "FEMALE_GENITALIA_COVERED",
        "FACE_FEMALE",
        "BUTTOCKS_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_BREAST_EXPOSED",
        "ANUS_EXPOSED",
        "FEET_EXPOSED",
        "BELLY_COVERED",
        "FEET_COVERED",
        "ARMPITS_COVERED",
        "ARMPITS_EXPOSED",
        "FACE_MALE",
        "BELLY_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_COVERED",
        "FEMALE_BREAST_COVERED",
        "BUTTOCKS_COVERED",
    }
)
"""NudeNet 3.4's 18 classes (``nudenet.nudenet.__labels``), spelled out so validating rules does not
import NudeNet; a test checks them against the installed package."""


class NudityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: int | None = Field(default=1, ge=1)
    """ONNX Runtime intra-op threads; None = its default (one per core). 1 suits a process pool."""
    model_path: str | None = None
    """Another NudeNet-compatible ONNX file (e.g. the 640m model); None = the wheel's 320n.onnx."""
    inference_resolution: int = Field(default=320, ge=32, multiple_of=32)
    """Must match the model's input size (320 for 320n.onnx, 640 for 640m.onnx)."""


@cache
def _version() -> str:
    return version("nudenet")


def _build(options: NudityOptions) -> Any:
    from rtcsnap_moderation.onnx import without_telemetry

    without_telemetry()
    import nudenet
    import onnxruntime

    path = options.model_path or str(Path(nudenet.__file__).parent / "320n.onnx")
    detector = nudenet.NudeDetector(model_path=path, inference_resolution=options.inference_resolution)
    if options.threads is not None:
        # NudeDetector takes no session options; rebuild its session with ours (same model file).
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = options.threads
        opts.inter_op_num_threads = 1
        detector.onnx_session = onnxruntime.InferenceSession(
            path, sess_options=opts, providers=["CPUExecutionProvider"]
        )
        detector.input_name = detector.onnx_session.get_inputs()[0].name
    return detector


class NudityDetector(Detector):
    name: ClassVar[str] = "nudity"
    labels: ClassVar[frozenset[str] | None] = NUDENET_LABELS
    Options: ClassVar[type[BaseModel]] = NudityOptions
    options: NudityOptions

    def _loaded(self) -> lazy.Loaded[Any]:
        return lazy.load(("nudenet", self.options), lambda: _build(self.options))

    def load(self) -> float:
        key = ("nudenet", self.options)
        if lazy.is_loaded(key):
            return 0.0
        return self._loaded().load_seconds

    def model_name(self) -> str:
        return f"nudenet {_version()} {Path(self.options.model_path or '320n.onnx').name}"

    def detect_image(self, image: Image) -> Finding:
        import numpy as np

        bgr = np.ascontiguousarray(np.asarray(to_rgb(image))[:, :, ::-1])
        loaded = self._loaded()
        with loaded.lock:
            raw = loaded.model.detect(bgr)
        return self.finding(
            Detection(
                label=str(d["class"]),
                score=min(1.0, max(0.0, float(d["score"]))),
                box=Box(
                    x=int(d["box"][0]),
                    y=int(d["box"][1]),
                    w=max(0, int(d["box"][2])),
                    h=max(0, int(d["box"][3])),
                ),
            )
            for d in raw
        )


__all__ = ["NUDENET_LABELS", "NudityDetector", "NudityOptions"]
