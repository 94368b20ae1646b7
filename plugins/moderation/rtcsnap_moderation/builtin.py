"""The built-in detectors, registered through the same hook a third-party plugin implements, so
the registry has one code path (as simonw/llm's default plugins do)."""

from __future__ import annotations

from rtcsnap_moderation.hookspecs import RegisterDetector, hookimpl


@hookimpl
def rtcsnap_moderation_register_detectors(register: RegisterDetector) -> None:
    from rtcsnap_moderation.detectors import NudityDetector, TextDetector

    register(NudityDetector)
    register(TextDetector)
