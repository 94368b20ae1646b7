"""The built-in detectors: `NudityDetector` (NudeNet) and `TextDetector` (RapidOCR). Each module
imports its model package only when the model loads."""

from rtcsnap_moderation.detectors.nudity import NUDENET_LABELS, NudityDetector, NudityOptions
from rtcsnap_moderation.detectors.text import TextDetector, TextOptions

__all__ = ["NUDENET_LABELS", "NudityDetector", "NudityOptions", "TextDetector", "TextOptions"]
