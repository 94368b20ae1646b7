"""The one call the snapshot hook makes: ``Moderator(rules).moderate(image_bytes, app_id)``.

It decodes the image once, runs the app's detectors one after another (each timed, each failure
caught and recorded as that detector's ``error`` finding), judges the findings by the app's rules
and returns a `Verdict`. It never raises for a bad image or a crashing detector: the verdict's
``status`` says what ran (``ok`` / ``partial`` / ``error``), so the hook can store every verdict and
retry only the incomplete ones.

Construction validates the rules against the registry (unknown detector, label or option →
`RulesError`) and creates the detectors, which is cheap; models load on first use, once per process
(`warm_up` loads them up front, e.g. in a process pool's initializer). One `Moderator` may be shared
by threads (see `rtcsnap_moderation.lazy` on how model calls are serialised).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rtcsnap_moderation import images
from rtcsnap_moderation.detector import Detector
from rtcsnap_moderation.evaluate import evaluate
from rtcsnap_moderation.registry import DetectorRegistry
from rtcsnap_moderation.rules import AppliedRules, ModerationRules, RulesError, parse_rules
from rtcsnap_moderation.verdict import Finding, ImageInfo, Verdict

if TYPE_CHECKING:
    from PIL.Image import Image

    from rtcsnap_moderation.images import ImageInput


def _reason(exc: BaseException) -> str:
    """One line, bounded: it is stored in the index for every image this failure hit."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


class Moderator:
    """Runs detectors and rules on images; see the module docstring."""

    def __init__(
        self,
        rules: ModerationRules | Mapping[str, Any] | None = None,
        *,
        registry: DetectorRegistry | None = None,
    ) -> None:
        self.rules = rules if isinstance(rules, ModerationRules) else parse_rules(rules)
        self.registry = registry if registry is not None else DetectorRegistry.default()
        problems = self.rules.check(self.registry)
        if problems:
            raise RulesError(problems)
        used = dict.fromkeys(self.rules.detectors)
        for app in self.rules.apps.values():
            used.update(dict.fromkeys(app.detectors or ()))
        self.detectors: dict[str, Detector] = {
            name: self.registry.get(name)(self.rules.detector_options.get(name)) for name in used
        }
        self._applied: dict[str | None, AppliedRules] = {}
        self._lock = threading.Lock()

    def rules_for(self, app_id: str | None) -> AppliedRules:
        """The compiled rules for `app_id`, cached."""
        applied = self._applied.get(app_id)
        if applied is None:
            with self._lock:
                applied = self._applied.setdefault(app_id, self.rules.for_app(app_id))
        return applied

    def warm_up(self) -> dict[str, float]:
        """Load every detector's model now; seconds each took (0.0: already loaded, or none).
        A detector whose model fails to load is left to fail (and be recorded) on first use."""
        loaded = {}
        for name, detector in self.detectors.items():
            try:
                loaded[name] = detector.load()
            except Exception:
                loaded[name] = float("nan")
        return loaded

    def run(self, name: str, image: Image) -> Finding:
        """One detector on a decoded image, timed; a crash (or a non-`Finding` result) becomes
        its ``error`` finding."""
        start = time.perf_counter()
        try:
            finding = self.detectors[name].detect_image(image)
            if not isinstance(finding, Finding):
                raise TypeError(f"detect_image returned {type(finding).__name__}, not a Finding")
            if finding.detector != name:
                finding = finding.model_copy(update={"detector": name})
        except Exception as exc:
            return Finding.failed(name, _reason(exc), _ms(start))
        return finding.model_copy(update={"elapsed_ms": _ms(start)})

    def moderate(self, image: ImageInput, app_id: str | None = None) -> Verdict:
        """Judge one image (JPEG/PNG bytes, or a Pillow image) by `app_id`'s rules."""
        start = time.perf_counter()
        try:
            applied = self.rules_for(app_id)
        except Exception as exc:  # a pack or rule that cannot compile: validated, but never raise
            return Verdict(
                app_id=app_id, flagged=False, status="error", error=_reason(exc), elapsed_ms=_ms(start)
            )
        try:
            if isinstance(image, bytes | bytearray | memoryview):
                rgb, info = images.decode(image)
            else:
                rgb = images.to_rgb(image)
                info = ImageInfo(width=rgb.width, height=rgb.height)
        except Exception as exc:
            return Verdict(
                app_id=app_id,
                flagged=False,
                status="error",
                error=f"image not decodable: {_reason(exc)}",
                rules_digest=applied.digest,
                elapsed_ms=_ms(start),
            )
        findings = tuple(self.run(name, rgb) for name in applied.detectors)
        hits = tuple(evaluate(findings, applied))
        failed = any(f.status == "error" for f in findings)
        return Verdict(
            app_id=app_id,
            flagged=bool(hits),
            fired=tuple(dict.fromkeys(h.rule for h in hits)),
            hits=hits,
            status="partial" if failed else "ok",
            findings=findings,
            image=info,
            rules_digest=applied.digest,
            elapsed_ms=_ms(start),
        )


__all__ = ["Moderator"]
