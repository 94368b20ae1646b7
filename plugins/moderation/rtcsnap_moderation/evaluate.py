"""Findings + one app's rules → the rules that fired, with their evidence. Pure: no models, no I/O,
so the integrator can re-judge stored findings when the rules change.

Labels: a detection fires ``labels.<detector>.<label>`` when its score is at least the threshold.
Text: each detector's OCR lines are normalised and joined with one space in reading order (OCR often
splits a phrase into several boxes: "BUY GUNS" and "HERE"), and every keyword and pattern is
searched in that; a hit reports its first match and the box around the lines it spans; a keyword or pattern
matching where another of the same rule already did (two phone patterns, one number) adds no hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rtcsnap_moderation.normalise import normalise
from rtcsnap_moderation.rules import AppliedRules, CompiledTextRule
from rtcsnap_moderation.verdict import Box, Finding, RuleHit


def label_hits(finding: Finding, thresholds: dict[str, float] | None) -> list[RuleHit]:
    hits = []
    for d in finding.detections:
        threshold = (thresholds or {}).get(d.label)
        if threshold is not None and d.score >= threshold:
            hits.append(
                RuleHit(
                    rule=f"labels.{finding.detector}.{d.label}",
                    detector=finding.detector,
                    kind="label",
                    label=d.label,
                    score=d.score,
                    threshold=threshold,
                    box=d.box,
                )
            )
    return hits


def _joined(finding: Finding) -> tuple[str, list[tuple[int, int, Box | None]]]:
    """The finding's lines normalised and joined, and each line's (start, end, box) in it."""
    parts: list[str] = []
    spans: list[tuple[int, int, Box | None]] = []
    at = 0
    for line in finding.text:
        text = normalise(line.text)
        if not text:
            continue
        if parts:
            at += 1  # the joining space
        parts.append(text)
        spans.append((at, at + len(text), line.box))
        at += len(text)
    return " ".join(parts), spans


def _box(spans: Iterable[tuple[int, int, Box | None]], start: int, end: int) -> Box | None:
    box: Box | None = None
    for s, e, b in spans:
        if b is not None and s < max(end, start + 1) and e > start:
            box = b if box is None else box.union(b)
    return box


def text_hits(finding: Finding, rules: Sequence[CompiledTextRule]) -> list[RuleHit]:
    if not finding.text or not rules:
        return []
    text, spans = _joined(finding)
    hits = []
    for rule in rules:
        taken: list[tuple[int, int]] = []  # spans this rule already reported
        for kind, pairs in (("keyword", rule.keywords), ("pattern", rule.patterns)):
            for configured, regex in pairs:
                m = regex.search(text)
                if m is None or any(m.start() < e and m.end() > s for s, e in taken):
                    continue
                taken.append(m.span())
                hits.append(
                    RuleHit(
                        rule=rule.name,
                        detector=finding.detector,
                        kind="keyword" if kind == "keyword" else "pattern",
                        keyword=configured if kind == "keyword" else None,
                        pattern=configured if kind == "pattern" else None,
                        matched=m.group(0),
                        box=_box(spans, m.start(), m.end()),
                    )
                )
    return hits


def evaluate(findings: Iterable[Finding], rules: AppliedRules) -> list[RuleHit]:
    """Every rule hit over the findings that succeeded (an errored finding has nothing to judge)."""
    hits: list[RuleHit] = []
    for finding in findings:
        if finding.status != "ok":
            continue
        hits += label_hits(finding, dict(rules.thresholds.get(finding.detector, {})))
        hits += text_hits(finding, rules.text)
    return hits


__all__ = ["evaluate", "label_hits", "text_hits"]
