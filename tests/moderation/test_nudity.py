"""Nudity: the real NudeNet model on benign frames, and the label/threshold path of the rules."""

from __future__ import annotations

import math
from importlib.metadata import version

import pytest
from PIL import Image, ImageDraw, ImageFilter
from rtcsnap_moderation import DetectorRegistry, Moderator
from rtcsnap_moderation.detectors.nudity import NUDENET_LABELS, NudityDetector
from rtcsnap_moderation.rules import DEFAULT_LABELS

from tests.moderation.helpers import SIZE, encode, fixed_detector, frame


def test_our_label_list_is_the_installed_nudenets() -> None:
    import nudenet.nudenet

    assert frozenset(vars(nudenet.nudenet)["__labels"]) == NUDENET_LABELS
    assert len(NUDENET_LABELS) == 18


def _gradient() -> Image.Image:
    image = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    return Image.merge(
        "RGB",
        (
            image.getchannel(0),
            image.getchannel(0).rotate(180),
            image.getchannel(0).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )


def _shapes() -> Image.Image:
    image = frame((240, 240, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 220, 200), fill=(200, 40, 40))
    draw.ellipse((260, 60, 420, 220), fill=(40, 120, 200))
    draw.polygon([(480, 300), (600, 80), (620, 320)], fill=(40, 160, 60))
    draw.line((0, 340, 640, 250), fill=(0, 0, 0), width=8)
    return image


def _checkerboard() -> Image.Image:
    image = frame()
    draw = ImageDraw.Draw(image)
    for y in range(0, SIZE[1], 40):
        for x in range(0, SIZE[0], 40):
            if (x // 40 + y // 40) % 2:
                draw.rectangle((x, y, x + 39, y + 39), fill=(230, 230, 230))
    return image


def _skin_tones() -> Image.Image:
    """Blurred skin-coloured blobs: the nearest a synthetic frame gets to what the model looks for."""
    image = frame((60, 50, 45))
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate([(224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172)]):
        cx, cy = 110 + i * 140, 180 + int(60 * math.sin(i))
        draw.ellipse((cx - 70, cy - 110, cx + 70, cy + 110), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(12))


def _noise() -> Image.Image:
    return Image.effect_noise(SIZE, 64).convert("RGB")


BENIGN = {
    "gradient": _gradient,
    "shapes": _shapes,
    "checkerboard": _checkerboard,
    "skin_tones": _skin_tones,
    "noise": _noise,
}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_frames_run_the_real_model_and_are_not_flagged(
    name: str, builtin_registry: DetectorRegistry
) -> None:
    data = encode(BENIGN[name]())
    verdict = Moderator({"detectors": ["nudity"]}, registry=builtin_registry).moderate(data, "app1")
    finding = verdict.finding("nudity")
    assert finding is not None and finding.status == "ok", finding
    assert finding.model == f"nudenet {version('nudenet')} 320n.onnx"
    assert not verdict.flagged, verdict.hits
    assert (
        verdict.status == "ok"
        and verdict.image is not None
        and (verdict.image.width, verdict.image.height) == SIZE
    )
    explicit = [d for d in finding.detections if d.label in DEFAULT_LABELS["nudity"]]
    assert all(d.score < DEFAULT_LABELS["nudity"][d.label] for d in explicit)


def test_the_detector_runs_alone_on_bytes_png_greyscale_and_rgba() -> None:
    """No moderator, no rules: bytes of any mode Pillow decodes."""
    detector = NudityDetector()
    for image in (_shapes(), _shapes().convert("L"), _shapes().convert("RGBA")):
        finding = detector.detect(encode(image, "PNG"))
        assert finding.detector == "nudity" and finding.status == "ok"
    assert detector.detect(_shapes()).status == "ok"  # a Pillow image as well


def test_detector_options_are_validated() -> None:
    with pytest.raises(ValueError, match="threads"):
        NudityDetector({"threads": 0})
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        NudityDetector({"thread": 1})


# -- the threshold path, with fixed scores ---------------------------------------------------


def _nudity_stand_in(scores: dict[str, float]) -> DetectorRegistry:
    """A registry whose "nudity" detector returns fixed scores. Nudity positives cannot be
    shipped (nor rendered), so these prove the label/threshold/per-app path with a registered
    stand-in under the real detector's name and labels; the real model is exercised above."""
    registry = DetectorRegistry(builtins=False, plugins=False)
    registry.register(fixed_detector("nudity", scores, labels=NUDENET_LABELS))
    return registry


def test_above_the_default_threshold_flags_with_the_evidence() -> None:
    registry = _nudity_stand_in({"FEMALE_BREAST_EXPOSED": 0.61, "FACE_FEMALE": 0.99, "BELLY_EXPOSED": 0.9})
    verdict = Moderator({"detectors": ["nudity"]}, registry=registry).moderate(encode(frame()))
    assert verdict.flagged
    assert verdict.fired == ("labels.nudity.FEMALE_BREAST_EXPOSED",)  # face / belly: no threshold by default
    (hit,) = verdict.hits
    assert (hit.kind, hit.label, hit.score, hit.threshold) == ("label", "FEMALE_BREAST_EXPOSED", 0.61, 0.6)


def test_below_the_threshold_does_not_flag() -> None:
    registry = _nudity_stand_in({"FEMALE_BREAST_EXPOSED": 0.59, "FEMALE_GENITALIA_EXPOSED": 0.49})
    verdict = Moderator({"detectors": ["nudity"]}, registry=registry).moderate(encode(frame()))
    assert not verdict.flagged and verdict.hits == () and verdict.status == "ok"


def test_the_threshold_is_inclusive() -> None:
    registry = _nudity_stand_in({"ANUS_EXPOSED": 0.5})
    assert Moderator({"detectors": ["nudity"]}, registry=registry).moderate(frame()).flagged


def test_a_per_app_override_changes_the_outcome() -> None:
    registry = _nudity_stand_in({"BUTTOCKS_EXPOSED": 0.45, "BELLY_EXPOSED": 0.7})
    rules = {
        "detectors": ["nudity"],
        "apps": {
            "strict_app": {"labels": {"nudity": {"BUTTOCKS_EXPOSED": 0.4, "BELLY_EXPOSED": 0.6}}},
            "lenient_app": {"labels": {"nudity": {"BUTTOCKS_EXPOSED": "off"}}},
        },
    }
    moderator = Moderator(rules, registry=registry)
    image = encode(frame())
    assert not moderator.moderate(image, "some_app").flagged
    strict = moderator.moderate(image, "strict_app")
    assert strict.fired == ("labels.nudity.BUTTOCKS_EXPOSED", "labels.nudity.BELLY_EXPOSED")
    assert not moderator.moderate(image, "lenient_app").flagged
    assert strict.rules_digest != moderator.moderate(image, "some_app").rules_digest

    lowered = Moderator(
        {"detectors": ["nudity"], "labels": {"nudity": {"BUTTOCKS_EXPOSED": 0.45}}}, registry=registry
    )
    assert lowered.moderate(image, "some_app").fired == ("labels.nudity.BUTTOCKS_EXPOSED",)
