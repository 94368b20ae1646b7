"""What moderation says about one image, as JSON-serialisable pydantic models: the index stores a
`Verdict` as ``verdict.model_dump_json()`` and reads it back with ``Verdict.model_validate_json``.

Layers: a detector returns a `Finding` (its raw labels, scores, boxes and OCR text, or an error);
the rules turn findings into `RuleHit`s; the `Verdict` holds both, so a later rules change can be
judged against the stored raw findings without re-running the models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
"""Bumped when a stored verdict's shape changes incompatibly."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Box(_Model):
    """An axis-aligned box in the image's pixels (top-left origin)."""

    x: int
    y: int
    w: int = Field(ge=0)
    h: int = Field(ge=0)

    @classmethod
    def around(cls, points: list[list[float]] | list[tuple[float, float]]) -> Box:
        """The bounding box of a polygon (OCR gives quadrilaterals)."""
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, y0 = int(min(xs)), int(min(ys))
        return cls(x=x0, y=y0, w=round(max(xs)) - x0, h=round(max(ys)) - y0)

    def union(self, other: Box) -> Box:
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.x + self.w, other.x + other.w), max(self.y + self.h, other.y + other.h)
        return Box(x=x0, y=y0, w=x1 - x0, h=y1 - y0)


class Detection(_Model):
    """One labelled region a detector found (e.g. NudeNet's ``FEMALE_BREAST_EXPOSED``)."""

    label: str
    score: float = Field(ge=0.0, le=1.0)
    box: Box | None = None


class TextLine(_Model):
    """One line of recognised text, as the OCR read it (not normalised: the evidence)."""

    text: str
    score: float = Field(ge=0.0, le=1.0)
    box: Box | None = None


class Finding(_Model):
    """One detector's raw output for one image; ``status='error'`` when it crashed, with why."""

    detector: str
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    detections: tuple[Detection, ...] = ()
    text: tuple[TextLine, ...] = ()
    model: str | None = None
    """What produced it (e.g. ``nudenet 3.4.2 320n.onnx``), so stored verdicts stay explainable."""
    elapsed_ms: float | None = None

    @classmethod
    def failed(cls, detector: str, reason: str, elapsed_ms: float | None = None) -> Finding:
        return cls(detector=detector, status="error", error=reason, elapsed_ms=elapsed_ms)


class RuleHit(_Model):
    """One rule that fired, with the evidence: the label and score against its threshold, or the
    keyword / pattern and the text it matched."""

    rule: str
    """Dotted rule name: ``labels.nudity.FEMALE_BREAST_EXPOSED``, ``text.weapons``, ``pack.contact.phone``."""
    detector: str
    kind: Literal["label", "keyword", "pattern"]
    label: str | None = None
    score: float | None = None
    threshold: float | None = None
    keyword: str | None = None
    """The keyword as configured (not normalised), for a keyword hit."""
    pattern: str | None = None
    matched: str | None = None
    """The (normalised) text the keyword or pattern matched."""
    box: Box | None = None


class ImageInfo(_Model):
    width: int
    height: int
    format: str | None = None
    """Pillow's format name (``JPEG``, ``PNG``), None for an image passed in already decoded."""


class Verdict(_Model):
    """The moderation result for one image: ``flagged`` when any rule fired (``fired`` names them,
    ``hits`` has the evidence), every detector's `Finding`, and whether every detector ran
    (``status``: ``ok``; ``partial``: some detector errored; ``error``: the image itself could not
    be decoded, so nothing ran and ``error`` says why)."""

    schema_version: int = SCHEMA_VERSION
    app_id: str | None = None
    flagged: bool
    fired: tuple[str, ...] = ()
    hits: tuple[RuleHit, ...] = ()
    status: Literal["ok", "partial", "error"] = "ok"
    error: str | None = None
    findings: tuple[Finding, ...] = ()
    image: ImageInfo | None = None
    rules_digest: str = ""
    """sha256 of the rules applied for this app, to tell which verdicts predate a rules change."""
    elapsed_ms: float = 0.0

    def finding(self, detector: str) -> Finding | None:
        """The finding of `detector`, if it ran."""
        return next((f for f in self.findings if f.detector == detector), None)

    def reason(self) -> str | None:
        """Why it was flagged, in one line: each hit's rule with what it saw (the matched text,
        else the keyword or label, and the score), ``text.weapons (buy guns); nudity
        (FEMALE_BREAST_EXPOSED 0.91)``; the fired rules when there is no hit; None unless flagged.
        What ``rtcsnap moderate`` prints and the index stores as the verdict's ``reason``."""
        if not self.flagged:
            return None
        hits = "; ".join(
            f"{h.rule} ({h.matched or h.keyword or h.label}{f' {h.score:.2f}' if h.score is not None else ''})"
            for h in self.hits
        )
        return hits or ", ".join(self.fired)


__all__ = ["SCHEMA_VERSION", "Box", "Detection", "Finding", "ImageInfo", "RuleHit", "TextLine", "Verdict"]
