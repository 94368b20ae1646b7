"""The detector registry: built-ins, validation at registration, third-party detectors through
the plugin's own hook and entry-point group."""

from __future__ import annotations

import pytest
from rtcsnap_moderation import (
    Detector,
    DetectorClashError,
    DetectorError,
    DetectorRegistry,
    Finding,
    Moderator,
    UnknownDetectorError,
    hookimpl,
)
from rtcsnap_moderation.detectors import NudityDetector, TextDetector
from rtcsnap_moderation.registry import DetectorLoadWarning

from tests.moderation.conftest import FakeDist
from tests.moderation.helpers import fixed_detector, frame

QR_PLUGIN = """
from rtcsnap_moderation import Detector, hookimpl

class QrDetector(Detector):
    name = "qr"

    def detect_image(self, image):
        return self.finding(text=[{"text": "https://pay.example.cn/qr/123", "score": 1.0}])

@hookimpl
def rtcsnap_moderation_register_detectors(register):
    register(QrDetector)
"""


def test_builtins_are_the_nudity_and_text_detectors(builtin_registry: DetectorRegistry) -> None:
    assert builtin_registry.names() == ["nudity", "text"]
    assert builtin_registry.get("nudity") is NudityDetector
    assert builtin_registry.get("text") is TextDetector
    assert builtin_registry.entry("text").plugin == "builtin"


def test_a_duplicate_name_is_rejected_naming_both(builtin_registry: DetectorRegistry) -> None:
    registry = DetectorRegistry(plugins=False)
    with pytest.raises(
        DetectorClashError,
        match=r"detector 'nudity' from plugin 'mine' has the same name as NudityDetector from plugin 'builtin'",
    ):
        registry.register(fixed_detector("nudity", {}), plugin="mine")
    assert registry.get("nudity") is NudityDetector


@pytest.mark.parametrize(
    ("cls", "why"),
    [
        (object, "which is not a Detector subclass"),
        (fixed_detector("Bad-Name", {}), "name must be lowercase letters"),
        (fixed_detector("x" * 40, {}), "at most 32 characters"),
        (fixed_detector("ok", {}, labels={"A"}), "labels must be a frozenset of str"),  # type: ignore[arg-type]
    ],
)
def test_a_class_breaking_the_contract_is_rejected(
    empty_registry: DetectorRegistry, cls: type, why: str
) -> None:
    with pytest.raises(DetectorError, match=why):
        empty_registry.register(cls)
    assert empty_registry.names() == []


def test_an_abstract_detector_is_rejected(empty_registry: DetectorRegistry) -> None:
    class Half(Detector):
        name = "half"

    with pytest.raises(DetectorError, match="does not implement detect_image"):
        empty_registry.register(Half)  # type: ignore[type-abstract]  # the point of the test


def test_unknown_name_lists_what_is_registered(builtin_registry: DetectorRegistry) -> None:
    with pytest.raises(UnknownDetectorError, match=r"no detector named 'qr' \(registered: nudity, text\)"):
        builtin_registry.get("qr")


def test_a_third_party_detector_registered_through_the_hook_is_used(
    builtin_registry: DetectorRegistry,
) -> None:
    registry = DetectorRegistry(plugins=False)
    face = fixed_detector("face", {"FACE": 0.97}, labels=frozenset({"FACE"}))

    class FacePlugin:
        @hookimpl
        def rtcsnap_moderation_register_detectors(self, register: object) -> None:
            register(face)  # type: ignore[operator]

    registry.add_plugin(FacePlugin(), "face-plugin")
    assert registry.names() == ["face", "nudity", "text"]
    moderator = Moderator({"detectors": ["face"], "labels": {"face": {"FACE": 0.9}}}, registry=registry)
    verdict = moderator.moderate(frame())
    assert verdict.flagged and verdict.fired == ("labels.face.FACE",)
    assert verdict.finding("face") == Finding(
        detector="face",
        detections=({"label": "FACE", "score": 0.97},),
        elapsed_ms=verdict.findings[0].elapsed_ms,
    )


def test_a_plugin_registering_a_taken_name_is_rolled_back_with_a_warning() -> None:
    registry = DetectorRegistry(plugins=False)

    class Clashing:
        @hookimpl
        def rtcsnap_moderation_register_detectors(self, register: object) -> None:
            register(fixed_detector("fine", {}))  # type: ignore[operator]
            register(fixed_detector("text", {}))  # type: ignore[operator]

    with pytest.warns(DetectorLoadWarning, match="moderation plugin 'clashing'.*same name as TextDetector"):
        registry.add_plugin(Clashing(), "clashing")
    assert registry.names() == ["nudity", "text"]  # not even "fine": the plugin is rejected whole
    assert [e.plugin for e in registry.errors] == ["clashing"]


def test_entry_point_plugins_are_found_and_a_broken_one_costs_only_a_warning(fake_dist: FakeDist) -> None:
    fake_dist("rtcsnap-moderation-qr", "modqr_plugin", QR_PLUGIN)
    fake_dist("rtcsnap-moderation-broken", "modbroken_plugin", "raise RuntimeError('no model here')\n")
    registry = DetectorRegistry()
    with pytest.warns(
        DetectorLoadWarning,
        match="moderation plugin 'modbroken_plugin'.*import failed: RuntimeError: no model here",
    ):
        names = registry.names()
    assert "qr" in names and {"nudity", "text"} <= set(names)
    assert [(e.plugin, e.distribution) for e in registry.errors] == [
        ("modbroken_plugin", "rtcsnap-moderation-broken")
    ]

    verdict = Moderator({"detectors": ["qr"], "packs": ["contact.url"]}, registry=registry).moderate(frame())
    assert verdict.fired == ("pack.contact.url",)
    assert verdict.hits[0].matched == "https://pay.example.cn/qr/123"
