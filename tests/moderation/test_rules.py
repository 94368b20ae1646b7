"""The ``[moderation]`` schema: defaults, TOML, per-app overrides, and errors that name the field
and the rule."""

from __future__ import annotations

import pytest
from rtcsnap_moderation import DetectorRegistry, ModerationRules, RulesError, load_rules_toml, parse_rules
from rtcsnap_moderation.detectors.nudity import NUDENET_LABELS
from rtcsnap_moderation.rules import DEFAULT_LABELS

from tests.moderation.helpers import fixed_detector

EXAMPLE = """
[moderation]
detectors = ["nudity", "text"]
packs = ["contact"]

[moderation.labels.nudity]
FEMALE_BREAST_EXPOSED = 0.7
BELLY_EXPOSED = 0.8

[[moderation.text]]
name = "gambling"
keywords = ["赌博", "online casino"]
patterns = ['\\bbet\\s*365\\b']

[[moderation.text]]
name = "weapons"
keywords = ["buy guns"]

[moderation.detector_options.text]
threads = 1

[moderation.apps.app_kids]
labels.nudity.FEMALE_BREAST_EXPOSED = 0.3
labels.nudity.BELLY_EXPOSED = "off"

[[moderation.apps.app_kids.text]]
name = "weapons"
keywords = ["gun", "枪"]

[moderation.apps.app_adult]
detectors = ["text"]
packs = []

[[moderation.apps.app_adult.text]]
name = "gambling"
enabled = false
"""


def problems(data: dict[str, object]) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(data)
    return [str(p) for p in caught.value.problems]


def test_defaults_flag_nudenets_explicit_classes_only() -> None:
    rules = ModerationRules()
    applied = rules.for_app(None)
    assert applied.detectors == ("nudity", "text")
    assert applied.thresholds["nudity"] == DEFAULT_LABELS["nudity"]
    assert set(DEFAULT_LABELS["nudity"]) <= NUDENET_LABELS
    assert all("COVERED" not in label and "FACE" not in label for label in applied.thresholds["nudity"])
    assert applied.text == ()


def test_the_documented_example_parses_and_applies_per_app(builtin_registry: DetectorRegistry) -> None:
    rules = load_rules_toml(EXAMPLE)
    assert rules.check(builtin_registry) == []

    base = rules.for_app("some_other_app")
    assert base.thresholds["nudity"]["FEMALE_BREAST_EXPOSED"] == 0.7  # set
    assert base.thresholds["nudity"]["ANUS_EXPOSED"] == 0.5  # default kept
    assert base.thresholds["nudity"]["BELLY_EXPOSED"] == 0.8
    assert [r.name for r in base.text] == [
        "text.gambling",
        "text.weapons",
        "pack.contact.phone",
        "pack.contact.wechat",
        "pack.contact.url",
    ]

    kids = rules.for_app("app_kids")
    assert kids.thresholds["nudity"]["FEMALE_BREAST_EXPOSED"] == 0.3
    assert "BELLY_EXPOSED" not in kids.thresholds["nudity"]  # "off"
    weapons = next(r for r in kids.text if r.name == "text.weapons")
    assert [k for k, _ in weapons.keywords] == ["gun", "枪"]  # replaced by name, not appended
    assert kids.detectors == ("nudity", "text")

    adult = rules.for_app("app_adult")
    assert adult.detectors == ("text",)
    assert [r.name for r in adult.text] == ["text.weapons"]  # gambling disabled, packs emptied

    assert len({base.digest, kids.digest, adult.digest}) == 3
    assert rules.for_app(None).digest == base.digest  # the digest is of the rules, not the app id


def test_a_missing_section_is_the_defaults() -> None:
    assert load_rules_toml("[accounts.prod]\nregion = 'x'\n") == ModerationRules()


def test_invalid_regex_names_its_index_the_rule_and_the_re_error() -> None:
    found = problems(
        {"text": [{"name": "ok", "keywords": ["x"]}, {"name": "gambling", "patterns": ["bet", "(bet"]}]}
    )
    assert found == [
        "moderation.text[1].patterns[1] (text rule 'gambling'): invalid regular expression '(bet': "
        "missing ), unterminated subpattern at position 0"
    ]


def test_invalid_regex_in_an_app_override_names_the_app() -> None:
    found = problems({"apps": {"app1": {"text": [{"name": "w", "patterns": ["[a-"]}]}}})
    assert len(found) == 1
    assert found[0].startswith(
        "moderation.apps.app1.text[0].patterns[0] (text rule 'w'): invalid regular expression"
    )


def test_unknown_keys_are_errors_not_ignored() -> None:
    assert problems({"text": [{"name": "w", "keyword": ["gun"]}]}) == [
        "moderation.text[0].keyword (text rule 'w'): unknown key"
    ]
    assert problems({"threshold": 0.5}) == ["moderation.threshold: unknown key"]


def test_a_rule_with_nothing_to_match_is_an_error_unless_it_disables() -> None:
    assert problems({"text": [{"name": "w"}]}) == [
        "moderation.text[0] (text rule 'w'): needs at least one keyword or pattern (or enabled = false, to drop a base rule)"
    ]
    parse_rules({"apps": {"a": {"text": [{"name": "w", "enabled": False}]}}})


@pytest.mark.parametrize("bad", [1.5, -0.1, "of", True])
def test_a_bad_threshold_names_the_label_rule(bad: object) -> None:
    assert problems({"labels": {"nudity": {"ANUS_EXPOSED": bad}}}) == [
        "moderation.labels.nudity.ANUS_EXPOSED (label rule labels.nudity.ANUS_EXPOSED): a threshold is a "
        f'score from 0 to 1 (flag at score >= it) or "off"; got {bad!r}'
    ]


def test_empty_keyword_unknown_pack_and_duplicate_names() -> None:
    assert problems({"text": [{"name": "w", "keywords": ["gun", "　 "]}]}) == [
        "moderation.text[0].keywords[1] (text rule 'w'): keyword '\\u3000 ' is empty once normalised (NFKC, casefold, spaces)"
    ]
    assert problems({"packs": ["contacts"]}) == [
        "moderation.packs[0]: unknown pack 'contacts' (known: contact, contact.phone, contact.url, contact.wechat)"
    ]
    assert problems({"text": [{"name": "w", "keywords": ["a"]}, {"name": "w", "keywords": ["b"]}]}) == [
        "moderation.text: text[1]: rule name 'w' is already used by text[0]"
    ]


def test_check_names_unknown_detectors_labels_and_options(builtin_registry: DetectorRegistry) -> None:
    rules = parse_rules(
        {
            "detectors": ["nudity", "qr"],
            "labels": {"nudity": {"FEMALE_BRAST_EXPOSED": 0.5}},
            "detector_options": {"text": {"thread": 2}},
            "apps": {"a1": {"detectors": ["face"]}},
        }
    )
    found = [str(p) for p in rules.check(builtin_registry)]
    assert found[0] == "moderation.detectors[1]: no detector named 'qr' (registered: nudity, text)"
    assert found[1].startswith(
        "moderation.labels.nudity.FEMALE_BRAST_EXPOSED: detector 'nudity' has no label 'FEMALE_BRAST_EXPOSED' (its labels: ANUS_COVERED,"
    )
    assert found[2] == "moderation.apps.a1.detectors[0]: no detector named 'face' (registered: nudity, text)"
    assert found[3] == "moderation.detector_options.text.thread: unknown key"
    assert len(found) == 4


def test_moderator_refuses_rules_that_fail_the_check(empty_registry: DetectorRegistry) -> None:
    from rtcsnap_moderation import Moderator

    empty_registry.register(fixed_detector("face", {"FACE": 0.9}, labels=frozenset({"FACE"})))
    with pytest.raises(
        RulesError, match=r"moderation\.labels\.face\.FACES: detector 'face' has no label 'FACES'"
    ):
        Moderator({"detectors": ["face"], "labels": {"face": {"FACES": 0.5}}}, registry=empty_registry)
    with pytest.raises(RulesError, match=r"moderation\.detectors\[0\]: no detector named 'nudity'"):
        Moderator({}, registry=empty_registry)  # the default detectors are not registered here


def _readme_toml() -> str:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "plugins" / "moderation" / "README.md").read_text(encoding="utf-8")
    return readme.split("```toml\n", 1)[1].split("```", 1)[0]


def _docstring_toml() -> str:
    import textwrap

    from rtcsnap_moderation import rules

    doc = rules.__doc__ or ""
    return textwrap.dedent(doc.split("::\n", 1)[1].split("\nErrors name", 1)[0])


@pytest.mark.parametrize("source", [_readme_toml, _docstring_toml], ids=["README", "rules-docstring"])
def test_the_documented_examples_are_valid(source: object, builtin_registry: DetectorRegistry) -> None:
    rules = load_rules_toml(source())  # type: ignore[operator]
    assert rules.text and rules.apps
    assert rules.check(builtin_registry) == []
