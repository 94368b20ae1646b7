"""rtcsnap-moderation: flag snapshots that show nudity or forbidden text.

The integrator's call::

    from rtcsnap_moderation import Moderator, load_rules_toml

    moderator = Moderator(load_rules_toml(config_text))      # RulesError names field and rule
    verdict = moderator.moderate(image_bytes, app_id)        # never raises; a Verdict
    verdict.flagged, verdict.fired, verdict.model_dump_json()

Importing this package loads neither Pillow, NumPy, OpenCV nor ONNX Runtime (the rtcsnap CLI
imports every plugin); the detectors import their models on first use.
"""

from rtcsnap_moderation.detector import Detector, NoOptions
from rtcsnap_moderation.hookspecs import hookimpl
from rtcsnap_moderation.moderator import Moderator
from rtcsnap_moderation.registry import (
    DetectorClashError,
    DetectorError,
    DetectorRegistry,
    UnknownDetectorError,
)
from rtcsnap_moderation.rules import (
    AppliedRules,
    AppRules,
    ModerationRules,
    RuleProblem,
    RulesError,
    TextRule,
    load_rules_toml,
    parse_rules,
)
from rtcsnap_moderation.verdict import Box, Detection, Finding, ImageInfo, RuleHit, TextLine, Verdict

__all__ = [
    "AppRules",
    "AppliedRules",
    "Box",
    "Detection",
    "Detector",
    "DetectorClashError",
    "DetectorError",
    "DetectorRegistry",
    "Finding",
    "ImageInfo",
    "ModerationRules",
    "Moderator",
    "NoOptions",
    "RuleHit",
    "RuleProblem",
    "RulesError",
    "TextLine",
    "TextRule",
    "UnknownDetectorError",
    "Verdict",
    "hookimpl",
    "load_rules_toml",
    "parse_rules",
]
