"""The ``[moderation]`` section of rtcsnap's config file: its schema (pydantic, unknown keys are
errors), per-app overrides, and the compiled form the evaluator uses.

::

    [moderation]
    detectors = ["nudity", "text"]          # which detectors run (default: both built-ins)
    packs = ["contact"]                     # named pattern packs (rtcsnap_moderation.packs)

    [moderation.labels.nudity]              # label thresholds, per detector: flag at score >= value
    FEMALE_BREAST_EXPOSED = 0.7             # merged over the defaults (DEFAULT_LABELS); "off" disables
    BELLY_EXPOSED = 0.8

    [[moderation.text]]                     # keyword / regex rules on OCR text, fired as text.<name>
    name = "gambling"
    keywords = ["赌博", "online casino"]     # NFKC + casefold: "ＣＡＳＩＮＯ" matches too
    patterns = ['\\bbet\\s*365\\b']          # Python re, IGNORECASE, on normalised text

    [moderation.detector_options.text]      # per-process detector settings (their Options model)
    threads = 1

    [moderation.apps.661e0000aaaa]          # per-app override: what it sets replaces the base
    detectors = ["nudity"]                  # (labels merge label by label; text rules by name,
    labels.nudity.BUTTOCKS_EXPOSED = "off"  #  enabled = false drops one; packs replace)

Errors name the field and the rule: ``moderation.text[1].patterns[0] (text rule 'gambling'):
invalid regular expression '(bet': missing ), unterminated subpattern at position 0``. Detector
names, their labels and their options are checked against a registry by `ModerationRules.check`
(the `Moderator` does it on construction), because a third-party detector brings its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)
from rtcsnap.errors import ConfigurationError

from rtcsnap_moderation import packs as _packs
from rtcsnap_moderation.normalise import keyword_pattern, normalise

if TYPE_CHECKING:
    from rtcsnap_moderation.registry import DetectorRegistry

SECTION = "moderation"

DEFAULT_DETECTORS: tuple[str, ...] = ("nudity", "text")
DEFAULT_LABELS: dict[str, dict[str, float]] = {
    "nudity": {
        "FEMALE_GENITALIA_EXPOSED": 0.5,
        "MALE_GENITALIA_EXPOSED": 0.5,
        "ANUS_EXPOSED": 0.5,
        "FEMALE_BREAST_EXPOSED": 0.6,
        "BUTTOCKS_EXPOSED": 0.6,
    }
}
"""Flag NudeNet's explicit classes out of the box; the covered / face / feet classes are informational."""

PATTERN_FLAGS = re.IGNORECASE
_RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DETECTOR_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


# ------------------------------------------------------------------------------------ validators


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern, PATTERN_FLAGS)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return pattern


def _keyword(keyword: str) -> str:
    if not normalise(keyword):
        raise ValueError(f"keyword {keyword!r} is empty once normalised (NFKC, casefold, spaces)")
    return keyword


def _rule_name(name: str) -> str:
    if not _RULE_NAME.fullmatch(name):
        raise ValueError(f"rule name {name!r}: use letters, digits, _ . and -, at most 64 characters")
    return name


def _detector_name(name: str) -> str:
    if not _DETECTOR_NAME.fullmatch(name):
        raise ValueError(f"detector name {name!r}: lowercase letters, digits and _, a letter first")
    return name


def _threshold(value: object) -> float | Literal["off"]:
    if value == "off":
        return "off"
    if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    raise ValueError(f'a threshold is a score from 0 to 1 (flag at score >= it) or "off"; got {value!r}')


def _pack(name: str) -> str:
    if name not in _packs.pack_names():
        raise ValueError(f"unknown pack {name!r} (known: {', '.join(_packs.pack_names())})")
    return name


Pattern = Annotated[str, AfterValidator(_regex)]
Keyword = Annotated[str, AfterValidator(_keyword)]
DetectorName = Annotated[str, AfterValidator(_detector_name)]
PackName = Annotated[str, AfterValidator(_pack)]
Threshold = Annotated[float | Literal["off"], PlainValidator(_threshold)]
Labels = dict[DetectorName, dict[str, Threshold]]


def _unique_names(rules: Sequence[TextRule]) -> Sequence[TextRule]:
    seen: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.name in seen:
            raise ValueError(f"text[{i}]: rule name {rule.name!r} is already used by text[{seen[rule.name]}]")
        seen[rule.name] = i
    return rules


# ------------------------------------------------------------------------------------ schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextRule(_Strict):
    """Keywords and patterns matched against a detector's OCR text; fires as ``text.<name>``."""

    name: Annotated[str, AfterValidator(_rule_name)]
    keywords: tuple[Keyword, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    whole_words: bool = True
    """A keyword starting or ending with a Latin letter or digit matches only at a word edge there
    ("gun" not in "begun"). False: anywhere, for OCR that runs words together ("CALLBUYGUNS")."""
    enabled: bool = True

    @model_validator(mode="after")
    def _need_something(self) -> TextRule:
        if self.enabled and not (self.keywords or self.patterns):
            raise ValueError(
                "needs at least one keyword or pattern (or enabled = false, to drop a base rule)"
            )
        return self


class AppRules(_Strict):
    """One app's override: each field it sets replaces the base one, except ``labels`` (merged
    label by label) and ``text`` (merged by rule name; ``enabled = false`` drops a base rule)."""

    detectors: tuple[DetectorName, ...] | None = None
    labels: Labels = Field(default_factory=dict)
    text: Annotated[tuple[TextRule, ...], AfterValidator(_unique_names)] = ()
    packs: tuple[PackName, ...] | None = None


class ModerationRules(_Strict):
    """The whole ``[moderation]`` section. ``ModerationRules()`` is the default: both built-in
    detectors, `DEFAULT_LABELS`, no text rules."""

    detectors: tuple[DetectorName, ...] = DEFAULT_DETECTORS
    labels: Labels = Field(default_factory=dict, validate_default=True)  # merged over DEFAULT_LABELS
    text: Annotated[tuple[TextRule, ...], AfterValidator(_unique_names)] = ()
    packs: tuple[PackName, ...] = ()
    detector_options: dict[DetectorName, dict[str, Any]] = Field(default_factory=dict)
    apps: dict[str, AppRules] = Field(default_factory=dict)

    @field_validator("labels", mode="after")
    @classmethod
    def _over_defaults(cls, labels: dict[str, dict[str, float | str]]) -> dict[str, dict[str, float | str]]:
        merged: dict[str, dict[str, float | str]] = {d: dict(t) for d, t in DEFAULT_LABELS.items()}
        for detector, thresholds in labels.items():
            merged.setdefault(detector, {}).update(thresholds)
        return merged

    # -------------------------------------------------------------------------------- checks

    def check(self, registry: DetectorRegistry) -> list[RuleProblem]:
        """What the schema cannot know: every detector named is registered, every label it is
        given a threshold for is one it emits (when it declares its labels), and its options fit
        its ``Options`` model. Empty when fine."""
        from rtcsnap_moderation.registry import UnknownDetectorError

        problems: list[RuleProblem] = []
        known = registry.names()

        def detector(name: str, loc: tuple[str | int, ...]) -> type[Any] | None:
            try:
                return registry.get(name)
            except UnknownDetectorError:
                problems.append(
                    RuleProblem.at(loc, f"no detector named {name!r} (registered: {', '.join(known)})")
                )
                return None

        scopes: list[tuple[tuple[str | int, ...], tuple[str, ...] | None, Labels]] = [
            ((), self.detectors, self.labels)
        ]
        scopes += [(("apps", app), rules.detectors, rules.labels) for app, rules in self.apps.items()]
        for prefix, detectors, labels in scopes:
            for i, name in enumerate(detectors or ()):
                detector(name, (*prefix, "detectors", i))
            for name, thresholds in labels.items():
                if name in DEFAULT_LABELS and name not in known and not prefix:
                    continue  # the defaults for a built-in left out of this registry
                cls = detector(name, (*prefix, "labels", name))
                emits = cls.labels if cls is not None else None
                for label in thresholds:
                    if emits is not None and label not in emits:
                        problems.append(
                            RuleProblem.at(
                                (*prefix, "labels", name, label),
                                f"detector {name!r} has no label {label!r} (its labels: {', '.join(sorted(emits))})",
                            )
                        )
        for name, options in self.detector_options.items():
            cls = detector(name, ("detector_options", name))
            if cls is not None:
                try:
                    cls.Options.model_validate(options)
                except ValidationError as exc:
                    problems += _problems(exc, self.model_dump(), ("detector_options", name))
        return problems

    # -------------------------------------------------------------------------------- per app

    def for_app(self, app_id: str | None) -> AppliedRules:
        """The rules in force for `app_id` (the base rules when it has no override), compiled."""
        override = self.apps.get(app_id) if app_id is not None else None
        detectors = self.detectors
        labels = {d: dict(t) for d, t in self.labels.items()}
        text = {r.name: r for r in self.text}
        pack_names = self.packs
        if override is not None:
            detectors = override.detectors if override.detectors is not None else detectors
            for d, t in override.labels.items():
                labels.setdefault(d, {}).update(t)
            text.update({r.name: r for r in override.text})
            pack_names = override.packs if override.packs is not None else pack_names
        compiled = [
            CompiledTextRule.of(f"text.{r.name}", r.keywords, r.patterns, whole_words=r.whole_words)
            for r in text.values()
            if r.enabled
        ]
        for pack in dict.fromkeys(pack_names):
            for rule_name, rule in _packs.expand(pack).items():
                if all(c.name != rule_name for c in compiled):
                    compiled.append(CompiledTextRule.of(rule_name, rule.keywords, rule.patterns))
        thresholds = {
            d: {label: float(v) for label, v in t.items() if v != "off"} for d, t in labels.items() if t
        }
        return AppliedRules(app_id, tuple(dict.fromkeys(detectors)), thresholds, tuple(compiled))


# ------------------------------------------------------------------------------------ compiled


@dataclass(frozen=True)
class CompiledTextRule:
    """A text rule ready to match normalised text: (as configured, compiled) pairs."""

    name: str
    keywords: tuple[tuple[str, re.Pattern[str]], ...]
    patterns: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def of(
        cls, name: str, keywords: Sequence[str], patterns: Sequence[str], *, whole_words: bool = True
    ) -> CompiledTextRule:
        return cls(
            name,
            tuple((k, re.compile(keyword_pattern(normalise(k), whole_words=whole_words))) for k in keywords),
            tuple((p, re.compile(p, PATTERN_FLAGS)) for p in patterns),
        )


@dataclass(frozen=True)
class AppliedRules:
    """What one app's images are judged by: which detectors run, label thresholds per detector
    (``"off"`` ones dropped), and the text rules (own and packs')."""

    app_id: str | None
    detectors: tuple[str, ...]
    thresholds: Mapping[str, Mapping[str, float]]
    text: tuple[CompiledTextRule, ...]

    @property
    def digest(self) -> str:
        """sha256 of the rules' content (not the app id): equal rules, equal digest."""
        content = {
            "detectors": list(self.detectors),
            "thresholds": {d: dict(sorted(t.items())) for d, t in sorted(self.thresholds.items())},
            "text": [
                [r.name, [k.pattern for _, k in r.keywords], [p for p, _ in r.patterns]] for r in self.text
            ],
        }
        return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------ errors


@dataclass(frozen=True)
class RuleProblem:
    """One error in the rules: where (``loc`` within ``[moderation]``, for a caller mapping it to
    a line of the file; ``field`` dotted), which rule (``text rule 'weapons'``), what is wrong."""

    loc: tuple[str | int, ...]
    field: str
    rule: str | None
    message: str

    @classmethod
    def at(cls, loc: tuple[str | int, ...], message: str, rule: str | None = None) -> RuleProblem:
        return cls(loc, _dotted(loc), rule, message)

    def __str__(self) -> str:
        rule = f" ({self.rule})" if self.rule else ""
        return f"{self.field}{rule}: {self.message}"


class RulesError(ConfigurationError):
    """The ``[moderation]`` rules are unusable; ``problems`` has each error, field and rule named."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid moderation rules")


def _dotted(loc: Sequence[str | int]) -> str:
    out = SECTION
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _rule_of(data: Any, loc: Sequence[str | int]) -> str | None:
    """The text rule (``text[i]`` of the base or an app) or label threshold `loc` is inside."""
    node = data
    for i, part in enumerate(loc):
        if part == "text" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            try:
                entry = node["text"][loc[i + 1]]
            except (KeyError, IndexError, TypeError):
                return None
            name = entry.get("name") if isinstance(entry, Mapping) else None
            return f"text rule {name!r}" if isinstance(name, str) else f"text rule #{loc[i + 1]}"
        if part == "labels" and i + 2 < len(loc):
            return f"label rule labels.{loc[i + 1]}.{loc[i + 2]}"
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return None


def _problems(exc: ValidationError, data: Any, prefix: tuple[str | int, ...] = ()) -> list[RuleProblem]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = (*prefix, *error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(RuleProblem(loc, _dotted(loc), _rule_of(data, loc), message))
    return problems


def parse_rules(data: Mapping[str, Any] | None) -> ModerationRules:
    """Validate the ``[moderation]`` table (a dict, as `tomllib` gives it); `RulesError` names
    every broken field and its rule."""
    try:
        return ModerationRules.model_validate(dict(data or {}))
    except ValidationError as exc:
        raise RulesError(_problems(exc, data)) from None


def load_rules_toml(text: str) -> ModerationRules:
    """The ``[moderation]`` section of a TOML document (the defaults when it has none)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError([RuleProblem((), SECTION, None, f"invalid TOML: {exc}")]) from None
    section = document.get(SECTION, {})
    if not isinstance(section, dict):
        raise RulesError([RuleProblem((), SECTION, None, "must be a table")])
    return parse_rules(section)


__all__ = [
    "DEFAULT_DETECTORS",
    "DEFAULT_LABELS",
    "SECTION",
    "AppRules",
    "AppliedRules",
    "CompiledTextRule",
    "ModerationRules",
    "RuleProblem",
    "RulesError",
    "TextRule",
    "load_rules_toml",
    "parse_rules",
]
