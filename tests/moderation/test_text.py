"""Text: real RapidOCR runs on frames rendered with Pillow, judged by keyword and pattern rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rtcsnap_moderation import DetectorRegistry, Moderator, Verdict
from rtcsnap_moderation.detectors.text import TextDetector
from rtcsnap_moderation.normalise import normalise

from tests.moderation.helpers import encode, frame, render

RULES = {
    "detectors": ["text"],
    "text": [
        {"name": "weapons", "keywords": ["buy guns", "枪支"]},
        {"name": "gambling", "keywords": ["赌博", "ＣＡＳＩＮＯ"], "patterns": [r"\bbet\s*365"]},
    ],
}


@pytest.fixture(scope="module")
def moderator(builtin_registry: DetectorRegistry) -> Iterator[Moderator]:
    yield Moderator(RULES, registry=builtin_registry)


def read(verdict: Verdict) -> list[str]:
    finding = verdict.finding("text")
    assert finding is not None and finding.status == "ok", finding
    return [line.text for line in finding.text]


def test_latin_forbidden_text_flags_with_the_keyword_and_its_box(
    moderator: Moderator, latin_font: str
) -> None:
    verdict = moderator.moderate(render(["BUY GUNS HERE"], latin_font), "app1")
    assert "buy guns" in normalise(" ".join(read(verdict)))
    assert verdict.flagged and verdict.fired == ("text.weapons",)
    (hit,) = verdict.hits
    assert (hit.kind, hit.keyword, hit.detector) == ("keyword", "buy guns", "text")
    assert hit.matched is not None and normalise(hit.matched).replace(" ", "") == "buyguns"
    assert hit.box is not None and 30 <= hit.box.x <= 60 and 30 <= hit.box.y <= 60 and hit.box.w > 200


def test_benign_text_is_read_but_not_flagged(moderator: Moderator, latin_font: str) -> None:
    verdict = moderator.moderate(render(["WELCOME TO THE", "WEEKLY MEETING"], latin_font), "app1")
    assert "welcome" in normalise(" ".join(read(verdict)))  # the OCR did run and read it
    assert not verdict.flagged and verdict.status == "ok"


def test_a_text_free_frame_reads_nothing(moderator: Moderator) -> None:
    verdict = moderator.moderate(encode(frame()), "app1")
    assert read(verdict) == [] and not verdict.flagged


def test_case_variants_match(moderator: Moderator, latin_font: str) -> None:
    verdict = moderator.moderate(render(["Buy Guns Here"], latin_font, fmt="PNG"), "app1")
    assert verdict.fired == ("text.weapons",)


def test_a_full_width_keyword_matches_half_width_text(moderator: Moderator, latin_font: str) -> None:
    verdict = moderator.moderate(render(["PLAY CASINO"], latin_font), "app1")
    assert verdict.fired == ("text.gambling",)
    assert verdict.hits[0].keyword == "ＣＡＳＩＮＯ"  # reported as configured


def test_full_width_rendered_text_matches_a_half_width_keyword(moderator: Moderator, cjk_font: str) -> None:
    verdict = moderator.moderate(render(["ＢＵＹ　ＧＵＮＳ　ＨＥＲＥ"], cjk_font), "app1")
    assert verdict.fired == ("text.weapons",), read(verdict)


def test_a_pattern_matches_ocr_text(moderator: Moderator, latin_font: str) -> None:
    verdict = moderator.moderate(render(["BET 365 BONUS"], latin_font), "app1")
    assert verdict.fired == ("text.gambling",)
    assert (verdict.hits[0].kind, verdict.hits[0].pattern) == ("pattern", r"\bbet\s*365")


def test_cjk_forbidden_text_flags(moderator: Moderator, cjk_font: str) -> None:
    verdict = moderator.moderate(render(["网上赌博平台"], cjk_font), "app1")
    assert "赌博" in "".join(read(verdict))
    assert verdict.fired == ("text.gambling",) and verdict.hits[0].keyword == "赌博"


def test_benign_cjk_text_is_not_flagged(moderator: Moderator, cjk_font: str) -> None:
    verdict = moderator.moderate(render(["欢迎参加会议"], cjk_font), "app1")
    assert read(verdict) and not verdict.flagged


def test_per_app_keywords(builtin_registry: DetectorRegistry, latin_font: str) -> None:
    rules = {**RULES, "apps": {"gun_club": {"text": [{"name": "weapons", "enabled": False}]}}}
    moderator = Moderator(rules, registry=builtin_registry)
    image = render(["BUY GUNS HERE"], latin_font)
    assert moderator.moderate(image, "other").flagged
    assert not moderator.moderate(image, "gun_club").flagged


# -- the contact pack on rendered text --------------------------------------------------------


@pytest.fixture(scope="module")
def contact(builtin_registry: DetectorRegistry) -> Moderator:
    return Moderator({"detectors": ["text"], "packs": ["contact"]}, registry=builtin_registry)


@pytest.mark.parametrize(
    ("lines", "digits"),
    [(["Call 138 0013 8000"], "13800138000"), (["Call +44 20 7946 0958"], "442079460958")],
)
def test_the_contact_pack_finds_a_phone_number_in_an_image(
    contact: Moderator, latin_font: str, lines: list[str], digits: str
) -> None:
    verdict = contact.moderate(render(lines, latin_font), "app1")
    assert verdict.fired == ("pack.contact.phone",), read(verdict)
    assert "".join(c for c in verdict.hits[0].matched or "" if c.isdigit()) == digits


def test_the_contact_pack_finds_a_wechat_id_in_an_image(contact: Moderator, cjk_font: str) -> None:
    verdict = contact.moderate(render(["加微信: abc_12345"], cjk_font), "app1")
    assert verdict.fired == ("pack.contact.wechat",), read(verdict)
    assert (verdict.hits[0].matched or "").endswith("abc_12345")


def test_the_contact_pack_finds_a_url_in_an_image(contact: Moderator, latin_font: str) -> None:
    verdict = contact.moderate(render(["www.example-shop.com"], latin_font), "app1")
    assert verdict.fired == ("pack.contact.url",), read(verdict)


def test_a_camera_timestamp_is_not_a_phone_number(contact: Moderator, latin_font: str) -> None:
    verdict = contact.moderate(render(["2024-05-01 12:30:45", "CAM 03"], latin_font), "app1")
    assert read(verdict) and not verdict.flagged, verdict.hits


def test_the_detector_runs_alone_with_options() -> None:
    detector = TextDetector({"limit_type": "min", "limit_side_len": 736, "threads": 1})
    finding = detector.detect(encode(frame()))
    assert finding.status == "ok" and finding.text == ()
    assert finding.model is not None and finding.model.startswith("rapidocr-onnxruntime 1.4.")
