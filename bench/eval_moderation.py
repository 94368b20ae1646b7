"""Moderation evaluation (issue 12 §2): precision and recall of a text rule, per-detector latency.

    .venv/bin/python bench/eval_moderation.py                  # 500 frames, seed 12
    .venv/bin/python bench/eval_moderation.py --quick          # 50 frames, a smoke run
    .venv/bin/python bench/eval_moderation.py --n 200 --seed 7 --json /tmp/eval.json
    .venv/bin/python bench/eval_moderation.py --text-options '{"limit_type": "min", "limit_side_len": 736}'

The set, generated deterministically from ``--seed`` (one `random.Random`; the fonts are whatever
``fc-list`` finds, listed in the output): half the frames show one forbidden phrase (Latin or CJK,
e.g. "BUY GUNS HERE", "online casino bonus", "网上赌博", "出售枪支"), the other half benign text
("weekly meeting", "欢迎参加会议", timestamps, names, a few near misses such as "水枪玩具" or
"casino royale night") or no text at all. Each phrase varies in font (DejaVu / Liberation Sans,
Serif, Mono and their bold / oblique faces; Noto Sans / Serif / Mono CJK SC), size (18–72 px, a
third in each bucket), colour against its background (WCAG contrast ratio low < 3, mid 3–7, high
>= 7, measured under the text after rendering), background (plain, gradient, noise, shapes),
rotation (half upright, half within ±5°), position, frame size (640x360 mostly, some 480x270 and
1280x720) and JPEG quality (40–95); some frames also carry a small timestamp or name overlay.

What runs: the real `Moderator` (`Moderator(rules).moderate(jpeg_bytes, app_id)`) in this process
with both built-in detectors, so the nudity detector is timed on every frame too. Truth is whether
a forbidden phrase was drawn; the prediction is whether any ``text.*`` rule fired. Latency is each
`Finding.elapsed_ms` (wall, one ONNX thread per model, the default), warm: the models are loaded
(`warm_up`, reported as the cold cost) and one frame is moderated untimed before the set.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RULES: dict[str, Any] = {
    "detectors": ["nudity", "text"],
    "text": [
        {"name": "weapons", "keywords": ["buy guns", "枪支"]},
        {"name": "gambling", "keywords": ["online casino", "赌博"]},
        {"name": "drugs", "keywords": ["buy cocaine", "毒品"]},
    ],
}
"""The rules judged: three text rules, each with a Latin and a CJK keyword; default nudity labels."""

# (rule it must fire, the phrase drawn); each contains its rule's keyword.
FORBIDDEN: dict[str, list[tuple[str, str]]] = {
    "latin": [
        ("weapons", "BUY GUNS"),
        ("weapons", "buy guns here"),
        ("weapons", "Buy Guns Online"),
        ("weapons", "Cheap! Buy guns today"),
        ("gambling", "ONLINE CASINO"),
        ("gambling", "Best Online Casino"),
        ("gambling", "online casino bonus"),
        ("gambling", "Join our online casino"),
        ("drugs", "BUY COCAINE"),
        ("drugs", "buy cocaine now"),
        ("drugs", "Buy Cocaine Fast"),
    ],
    "cjk": [
        ("weapons", "枪支"),
        ("weapons", "出售枪支"),
        ("weapons", "枪支弹药批发"),
        ("gambling", "赌博"),
        ("gambling", "网上赌博"),
        ("gambling", "赌博平台注册"),
        ("drugs", "毒品"),
        ("drugs", "出售毒品"),
        ("drugs", "毒品快递"),
    ],
}
BENIGN: dict[str, list[str]] = {
    "latin": [
        "weekly meeting",
        "Weekly Meeting 10:00",
        "Welcome to the class",
        "Alice Zhang",
        "Room 301",
        "Q3 sales review",
        "Happy birthday!",
        "LIVE",
        "Math lesson 5",
        "Please mute your mic",
        "buy groceries",  # near misses: a keyword's words, not the keyword
        "Guns N' Roses tribute",
        "casino royale night",
        "online course signup",
    ],
    "cjk": [
        "欢迎参加会议",
        "周例会",
        "数学课 第五讲",
        "张伟",
        "生日快乐",
        "会议室 301",
        "直播中",
        "请保持安静",
        "水枪玩具",  # near misses: one character of a keyword
        "博物馆参观",
        "技术支持",
        "禁毒宣传周",
    ],
}
NEAR_MISS = {
    "buy groceries",
    "Guns N' Roses tribute",
    "casino royale night",
    "online course signup",
    "水枪玩具",
    "博物馆参观",
    "技术支持",
    "禁毒宣传周",
}
NAMES = ["Alice Zhang", "Bob Li", "王芳", "李娜", "Chen Wei", "刘洋", "host", "guest 7"]
FRAME_SIZES = [((640, 360), 0.7), ((480, 270), 0.15), ((1280, 720), 0.15)]
SIZE_BUCKETS = [(18, 27), (28, 43), (44, 72)]
CONTRAST_BUCKETS = {"low <3": (1.3, 3.0), "mid 3-7": (3.0, 7.0), "high >=7": (7.0, 21.0)}
CONTRAST_WEIGHTS = {"low <3": 0.25, "mid 3-7": 0.35, "high >=7": 0.40}
BACKGROUNDS = ["plain", "gradient", "noise", "shapes"]


# ------------------------------------------------------------------------------------ fonts


@dataclass(frozen=True)
class Font:
    path: str
    index: int
    name: str  # family + style, as FreeType reports it


LATIN_FAMILIES = (
    "DejaVu Sans",
    "DejaVu Serif",
    "DejaVu Sans Mono",
    "Liberation Sans",
    "Liberation Serif",
    "Liberation Mono",
)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Noto Sans Mono CJK SC")


def find_fonts() -> dict[str, list[Font]]:
    """Latin faces (DejaVu / Liberation) and Simplified-Chinese faces (Noto CJK SC) from fc-list;
    a .ttc collection's face is picked by its family name. Latin phrases may also use the CJK faces
    (they carry Latin glyphs); CJK phrases only the CJK faces."""
    from PIL import ImageFont

    if shutil.which("fc-list") is None:
        raise SystemExit("eval_moderation: needs fontconfig's fc-list (and fonts-dejavu, fonts-noto-cjk)")
    out = subprocess.run(
        ["fc-list", ":", "file"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    found: dict[str, list[Font]] = {"latin": [], "cjk": []}
    for path in files:
        if not path.endswith((".ttf", ".otf", ".ttc")):
            continue
        for index in range(16 if path.endswith(".ttc") else 1):
            try:
                family, style = ImageFont.truetype(path, 20, index=index).getname()
            except OSError:
                break
            family = family or ""
            if family in LATIN_FAMILIES and "Condensed" not in (style or "") and "Narrow" not in path:
                found["latin"].append(Font(path, index, f"{family} {style}"))
            elif family in CJK_FAMILIES:
                found["cjk"].append(Font(path, index, f"{family} {style}"))
    if not found["latin"] or not found["cjk"]:
        raise SystemExit(
            "eval_moderation: needs DejaVu or Liberation and Noto CJK fonts "
            "(apt-get install fonts-dejavu fonts-liberation fonts-noto-cjk)"
        )
    return found


# ------------------------------------------------------------------------------------ frames


@dataclass
class Element:
    """One piece of text drawn on a frame, and the conditions it was drawn under."""

    text: str
    script: str
    font: str
    size: int
    contrast: float
    rotation: float
    box: tuple[int, int, int, int]


@dataclass
class Sample:
    id: int
    positive: bool
    rule: str | None  # the rule a positive must fire
    kind: str  # forbidden / benign / near-miss / no-text
    width: int
    height: int
    background: str
    quality: int
    main: Element | None  # the phrase judged (None: no text)
    overlays: list[str] = field(default_factory=list)
    data: bytes = b""

    def conditions(self) -> dict[str, str]:
        m = self.main
        return {
            "script": m.script if m else "none",
            "font size": size_bucket(m.size) if m else "no text",
            "contrast": contrast_bucket(m.contrast) if m else "no text",
            "JPEG quality": quality_bucket(self.quality),
            "background": self.background,
            "rotation": ("upright" if m.rotation == 0 else "tilted ±5°") if m else "no text",
            "frame": f"{self.width}x{self.height}",
            "font": m.font if m else "no text",
            "kind": self.kind,
        }

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        del d["data"]
        return d


def size_bucket(px: int) -> str:
    for lo, hi in SIZE_BUCKETS:
        if px <= hi:
            return f"{lo}-{hi} px"
    return f">{SIZE_BUCKETS[-1][1]} px"


def contrast_bucket(ratio: float) -> str:
    return "low <3" if ratio < 3 else "mid 3-7" if ratio < 7 else "high >=7"


def quality_bucket(q: int) -> str:
    return "q40-59" if q < 60 else "q60-79" if q < 80 else "q80-95"


def _linear(c: Any) -> Any:
    import numpy as np

    c = np.asarray(c, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(rgb: Any) -> Any:
    """WCAG relative luminance of an (..., 3) array or one colour."""
    lin = _linear(rgb)
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def contrast_ratio(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def pick_colours(rng: random.Random, target: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A (background, text) colour pair whose contrast ratio falls in `target`'s range."""
    lo, hi = CONTRAST_BUCKETS[target]
    for _ in range(10_000):
        bg = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        fg = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if target == "high >=7" and rng.random() < 0.5:  # the usual overlay: white or black
            fg = (255, 255, 255) if luminance(bg) < 0.18 else (0, 0, 0)
        ratio = contrast_ratio(float(luminance(bg)), float(luminance(fg)))
        if lo <= ratio < hi:
            return bg, fg
    raise RuntimeError(f"no colour pair found for contrast {target}")


def background(rng: random.Random, kind: str, size: tuple[int, int], base: tuple[int, int, int]) -> Any:
    import numpy as np
    from PIL import Image, ImageDraw

    w, h = size
    if kind == "plain":
        return Image.new("RGB", size, base)
    if kind == "gradient":
        other = tuple(max(0, min(255, c + rng.randint(-70, 70))) for c in base)
        t = np.linspace(0.0, 1.0, w if rng.random() < 0.6 else h)
        ramp = np.outer(1 - t, base) + np.outer(t, other)
        if len(t) == w:
            arr = np.broadcast_to(ramp[None, :, :], (h, w, 3))
        else:
            arr = np.broadcast_to(ramp[:, None, :], (h, w, 3))
        return Image.fromarray(np.ascontiguousarray(arr).astype(np.uint8), "RGB")
    if kind == "noise":
        gen = np.random.default_rng(rng.getrandbits(32))
        sigma = rng.uniform(8, 40)
        arr = np.asarray(base, dtype=np.float64)[None, None, :] + gen.normal(0, sigma, (h, w, 3))
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    image = Image.new("RGB", size, base)  # shapes: rectangles, ellipses and lines, some near the base
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 9)):
        if rng.random() < 0.5:
            colour = tuple(max(0, min(255, c + rng.randint(-50, 50))) for c in base)
        else:
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randint(20, w // 2), y0 + rng.randint(20, h // 2)
        shape = rng.choice(["rect", "ellipse", "line"])
        if shape == "rect":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randint(2, 12))
    return image


def draw_text(
    image: Any,
    rng: random.Random,
    text: str,
    font: Font,
    size: int,
    colour: tuple[int, int, int],
    rotation: float,
    region: tuple[int, int, int, int],
) -> Element | None:
    """Draw `text` at a random place inside `region` (x0, y0, x1, y1), shrinking the font until it
    fits; measure the contrast against what lies under it. None if it cannot fit at 12 px."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    x0, y0, x1, y1 = region
    while True:
        face = ImageFont.truetype(font.path, size, index=font.index)
        left, top, right, bottom = (math.floor(v) for v in face.getbbox(text))
        pad = max(4, size // 4)
        mask = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
        ImageDraw.Draw(mask).text((pad - left, pad - top), text, font=face, fill=255)
        if rotation:
            mask = mask.rotate(rotation, resample=Image.Resampling.BICUBIC, expand=True)
        if mask.width <= x1 - x0 and mask.height <= y1 - y0:
            break
        if size <= 12:
            return None
        size = max(12, int(size * 0.9))
    x = rng.randint(x0, x1 - mask.width)
    y = rng.randint(y0, y1 - mask.height)
    under = np.asarray(image.crop((x, y, x + mask.width, y + mask.height)), dtype=np.uint8)
    covered = np.asarray(mask) > 0
    bg_lum = float(luminance(under[covered]).mean()) if covered.any() else float(luminance(under).mean())
    ratio = contrast_ratio(bg_lum, float(luminance(colour)))
    image.paste(Image.new("RGB", mask.size, colour), (x, y), mask)
    return Element(text, "", font.name, size, round(ratio, 2), rotation, (x, y, mask.width, mask.height))


def script_of(text: str) -> str:
    return "cjk" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "latin"


def choose_font(rng: random.Random, fonts: dict[str, list[Font]], script: str) -> Font:
    if script == "cjk" or rng.random() < 0.85:
        return rng.choice(fonts[script])
    return rng.choice(fonts["cjk"])  # Latin text in a CJK face (they carry Latin glyphs)


def overlay(
    image: Any, rng: random.Random, fonts: dict[str, list[Font]], text: str, where: str
) -> Element | None:
    """A small, readable caption (a camera timestamp, a participant's name) in a top or bottom band."""
    w, h = image.size
    script = script_of(text)
    font = rng.choice(fonts[script])
    colour = (255, 255, 255) if rng.random() < 0.6 else (255, 230, 0)
    size = rng.randint(14, 22)
    band = (
        (4, 2, w - 4, 2 + int(size * 1.8)) if where == "top" else (4, h - 2 - int(size * 1.8), w - 4, h - 2)
    )
    return draw_text(image, rng, text, font, size, colour, 0.0, band)


def timestamp(rng: random.Random) -> str:
    y, mo, d = 2026, rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    return rng.choice(
        [f"{y}-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}", f"{mo:02d}/{d:02d}/{y} {hh:02d}:{mm:02d}"]
    )


def make_sample(
    i: int,
    rng: random.Random,
    fonts: dict[str, list[Font]],
    positive: bool,
    sizes: Sequence[tuple[tuple[int, int], float]] = FRAME_SIZES,
) -> Sample:
    (w, h) = rng.choices([s for s, _ in sizes], [p for _, p in sizes])[0]
    kind_bg = rng.choice(BACKGROUNDS)
    quality = rng.randint(40, 95)
    target = rng.choices(list(CONTRAST_WEIGHTS), list(CONTRAST_WEIGHTS.values()))[0]
    base, colour = pick_colours(rng, target)
    image = background(rng, kind_bg, (w, h), base)
    rule: str | None = None
    main: Element | None = None
    if positive:
        script = rng.choice(["latin", "cjk"])
        rule, text = rng.choice(FORBIDDEN[script])
        kind = "forbidden"
    elif rng.random() < 1 / 3:
        script, text, kind = "none", "", "no-text"
    else:
        script = rng.choice(["latin", "cjk"])
        text = rng.choice(BENIGN[script])
        kind = "near-miss" if text in NEAR_MISS else "benign"
    overlays: list[str] = []
    top_used = bottom_used = False
    if text and rng.random() < 0.35:  # no-text frames get no caption either
        stamp = timestamp(rng)
        if overlay(image, rng, fonts, stamp, "top"):
            overlays.append(stamp)
            top_used = True
    if text and rng.random() < 0.25:
        name = rng.choice(NAMES)
        if overlay(image, rng, fonts, name, "bottom"):
            overlays.append(name)
            bottom_used = True
    if text:
        lo, hi = rng.choice(SIZE_BUCKETS)
        size = rng.randint(lo, hi)
        rotation = 0.0 if rng.random() < 0.5 else round(rng.uniform(-5, 5), 1)
        region = (8, 44 if top_used else 8, w - 8, h - (44 if bottom_used else 8))
        main = draw_text(image, rng, text, choose_font(rng, fonts, script), size, colour, rotation, region)
        if main is None:
            raise RuntimeError(f"frame {i}: {text!r} does not fit a {w}x{h} frame")
        main.script = script
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return Sample(i, positive, rule, kind, w, h, kind_bg, quality, main, overlays, buf.getvalue())


def generate(
    n: int,
    seed: int,
    fonts: dict[str, list[Font]] | None = None,
    sizes: Sequence[tuple[tuple[int, int], float]] = FRAME_SIZES,
) -> list[Sample]:
    """`n` frames, half (rounded up) positive, shuffled; the same for the same seed (and the same
    fonts). `sizes`: frame sizes and their weights."""
    fonts = fonts or find_fonts()
    rng = random.Random(seed)
    flags = [i < (n + 1) // 2 for i in range(n)]
    rng.shuffle(flags)
    return [make_sample(i, rng, fonts, positive, sizes) for i, positive in enumerate(flags)]


# ------------------------------------------------------------------------------------ evaluation


@dataclass
class Outcome:
    sample: Sample
    flagged: bool  # any text.* rule fired
    fired: tuple[str, ...]
    nudity_flagged: bool
    ocr: str
    elapsed_ms: dict[str, float]  # per detector, plus "moderate" (the whole call) and "cpu"
    status: str
    findings: tuple[Any, ...] = ()
    loose: bool = False  # flagged had every text rule had whole_words = false (same findings)

    @property
    def right_rule(self) -> bool:
        return self.sample.rule is not None and f"text.{self.sample.rule}" in self.fired


def run(
    moderator: Any, samples: Sequence[Sample], progress: Callable[[int], None] | None = None
) -> list[Outcome]:
    outcomes = []
    for k, sample in enumerate(samples):
        cpu = time.process_time()
        verdict = moderator.moderate(sample.data, "eval")
        cpu = time.process_time() - cpu
        elapsed = {f.detector: float(f.elapsed_ms or 0.0) for f in verdict.findings}
        elapsed["moderate"] = verdict.elapsed_ms
        elapsed["cpu"] = round(cpu * 1000, 3)
        text = verdict.finding("text")
        outcomes.append(
            Outcome(
                sample,
                flagged=any(r.startswith("text.") for r in verdict.fired),
                fired=verdict.fired,
                nudity_flagged=any(r.startswith("labels.nudity.") for r in verdict.fired),
                ocr=" | ".join(line.text for line in text.text) if text else "",
                elapsed_ms=elapsed,
                status=verdict.status,
                findings=verdict.findings,
            )
        )
        if progress:
            progress(k + 1)
    return outcomes


def loose_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """The same rules with ``whole_words = false`` on every text rule."""
    return {**rules, "text": [{**r, "whole_words": False} for r in rules["text"]]}


def rejudge(outcomes: Sequence[Outcome], rules: dict[str, Any]) -> None:
    """Set each outcome's `loose`: the stored findings judged by `loose_rules` (no model runs)."""
    from rtcsnap_moderation import Moderator
    from rtcsnap_moderation.evaluate import evaluate

    applied = Moderator(loose_rules(rules)).rules_for("eval")
    for o in outcomes:
        o.loose = any(h.rule.startswith("text.") for h in evaluate(o.findings, applied))


def cause(o: Outcome) -> str:
    """Why a positive was missed, from what the OCR read."""
    from rtcsnap_moderation.normalise import normalise

    assert o.sample.main is not None
    read = normalise(o.ocr.replace(" | ", " "))
    want = normalise(o.sample.main.text)
    squeeze = lambda t: "".join(t.split())  # noqa: E731
    if o.loose:
        return "read, but run together with the next word (whole_words blocks it)"
    if squeeze(want) in squeeze(read):
        return "read"
    keyword_chars = set(squeeze(want))
    if not read or not keyword_chars & set(squeeze(read)):
        return "not read at all"
    return "misread"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def confusion(outcomes: Iterable[Outcome], loose: bool = False) -> dict[str, Any]:
    tp = fp = fn = tn = right = 0
    for o in outcomes:
        flagged = o.loose if loose else o.flagged
        if o.sample.positive:
            tp += flagged
            fn += not flagged
            right += o.right_rule
        else:
            fp += flagged
            tn += not flagged
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "precision_ci95": wilson(tp, tp + fp),
        "recall_ci95": wilson(tp, tp + fn),
        "right_rule": right,
    }


def breakdown(outcomes: Sequence[Outcome]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per condition and bucket: positives, recall, negatives, false positives."""
    table: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        for dim, bucket in o.sample.conditions().items():
            groups[(dim, bucket)].append(o)
    for (dim, bucket), members in sorted(groups.items()):
        pos = [o for o in members if o.sample.positive]
        neg = [o for o in members if not o.sample.positive]
        tp = sum(o.flagged for o in pos)
        fp = sum(o.flagged for o in neg)
        table[dim][bucket] = {
            "positives": len(pos),
            "tp": tp,
            "recall": tp / len(pos) if pos else float("nan"),
            "negatives": len(neg),
            "fp": fp,
        }
    return dict(table)


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    series: dict[str, list[float]] = defaultdict(list)
    for o in outcomes:
        for name, ms in o.elapsed_ms.items():
            series[name].append(ms)
        has_text = o.sample.main is not None or bool(o.sample.overlays)
        series["text, frames with text" if has_text else "text, frames without text"].append(
            o.elapsed_ms.get("text", float("nan"))
        )
        series[f"text, {o.sample.width}x{o.sample.height}"].append(o.elapsed_ms.get("text", float("nan")))
    return {
        name: {
            "n": len(v),
            "p50": pct(v, 50),
            "p95": pct(v, 95),
            "mean": statistics.fmean(v),
            "max": max(v),
        }
        for name, v in series.items()
    }


# ------------------------------------------------------------------------------------ report


def fmt(x: float, digits: int = 3) -> str:
    return "—" if isinstance(x, float) and math.isnan(x) else f"{x:.{digits}f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [[str(c) for c in r] for r in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def miss_line(o: Outcome) -> str:
    c = o.sample.conditions()
    m = o.sample.main
    what = f"{m.text!r}" if m else "(no text)"
    detail = (
        f"{c['script']}, {m.size} px, contrast {m.contrast:.2f}, {c['font']}, {c['background']}, "
        f"rot {m.rotation:+.1f}°, q{o.sample.quality}, {c['frame']}"
        if m
        else f"{c['background']}, q{o.sample.quality}, {c['frame']}"
    )
    ocr = o.ocr if len(o.ocr) <= 60 else o.ocr[:57] + "..."
    fired = f"; fired {', '.join(o.fired)}" if o.fired else ""
    why = f" — {cause(o)}" if o.sample.positive and not o.flagged else ""
    return f"- #{o.sample.id} {what}: {detail}; OCR read {ocr!r}{fired}{why}"


def report(result: dict[str, Any], outcomes: Sequence[Outcome]) -> str:
    c = result["confusion"]
    out = [f"    {result['command']}", ""]
    out.append(
        f"{result['n']} frames (seed {result['seed']}): {c['tp'] + c['fn']} with a forbidden phrase, "
        f"{c['fp'] + c['tn']} without ({result['no_text']} of them no text, {result['near_miss']} near misses). "
        f"Text options: {json.dumps(result['text_options'])}. Load average before {result['load_before']}, "
        f"after {result['load_after']}; wall {result['wall_s']:.0f} s; CPU meanwhile: machine busy "
        f"{result['cpu_cores']['machine_busy']:.2f} of {result['machine']['cores']} cores, this process "
        f"{result['cpu_cores']['this_process']:.2f}, other processes {result['cpu_cores']['others']:.2f}."
    )
    out.append("")
    lo_p, hi_p = c["precision_ci95"]
    lo_r, hi_r = c["recall_ci95"]
    out.append(
        table(
            ["text rules (any text.* fired)", "value", "95 % CI (Wilson)"],
            [
                [
                    "precision",
                    f"**{fmt(c['precision'])}** ({c['tp']}/{c['tp'] + c['fp']})",
                    f"{fmt(lo_p)}–{fmt(hi_p)}",
                ],
                [
                    "recall",
                    f"**{fmt(c['recall'])}** ({c['tp']}/{c['tp'] + c['fn']})",
                    f"{fmt(lo_r)}–{fmt(hi_r)}",
                ],
                ["F1", fmt(c["f1"]), ""],
                ["TP / FP / FN / TN", f"{c['tp']} / {c['fp']} / {c['fn']} / {c['tn']}", ""],
                ["flagged positives that fired their own rule", f"{c['right_rule']}/{c['tp']}", ""],
                [
                    "frames flagged by the nudity labels (all are false alarms here)",
                    str(result["nudity_flags"]),
                    "",
                ],
                ["verdicts not ok", str(result["not_ok"]), ""],
                [
                    "same findings, every text rule `whole_words = false`: precision / recall",
                    f"{fmt(result['loose']['precision'])} / {fmt(result['loose']['recall'])} "
                    f"(TP {result['loose']['tp']}, FP {result['loose']['fp']})",
                    "",
                ],
            ],
        )
    )
    out.append("")
    rows = []
    for dim in ("script", "font size", "contrast", "JPEG quality", "background", "rotation", "frame", "kind"):
        for bucket, b in result["breakdown"][dim].items():
            rows.append(
                [
                    dim,
                    bucket,
                    b["positives"],
                    f"{fmt(b['recall'], 2)} ({b['tp']}/{b['positives']})" if b["positives"] else "—",
                    b["negatives"],
                    b["fp"],
                ]
            )
    out.append(table(["condition", "bucket", "positives", "recall", "negatives", "false positives"], rows))
    out.append("")
    fonts = result["breakdown"]["font"]
    out.append(
        "Recall by font: "
        + "; ".join(
            f"{name} {b['tp']}/{b['positives']}" for name, b in sorted(fonts.items()) if b["positives"]
        )
    )
    out.append("")
    lat = result["latency_ms"]
    order = ["nudity", "text", "text, frames with text", "text, frames without text"]
    order += sorted(k for k in lat if re.fullmatch(r"text, \d+x\d+", k))
    order += ["moderate", "cpu"]
    names = {"moderate": "whole moderate() call (decode + both + rules)", "cpu": "process CPU per moderate()"}
    out.append(
        table(
            ["latency, warm (ms)", "n", "p50", "p95", "mean", "max"],
            [
                [
                    names.get(k, k),
                    lat[k]["n"],
                    fmt(lat[k]["p50"], 1),
                    fmt(lat[k]["p95"], 1),
                    fmt(lat[k]["mean"], 1),
                    fmt(lat[k]["max"], 1),
                ]
                for k in order
                if k in lat
            ],
        )
    )
    cold = result["cold"]
    out.append("")
    out.append(
        "Cold, once per process: "
        + ", ".join(f"{k} import + model load {v:.2f} s" for k, v in cold["warm_up_s"].items())
        + f" (in that order; the first pays for shared imports such as OpenCV); first moderate() after "
        f"that {cold['first_call_ms']:.0f} ms."
    )
    fns = [o for o in outcomes if o.sample.positive and not o.flagged]
    fps = [o for o in outcomes if not o.sample.positive and o.flagged]
    out.append("")
    causes: dict[str, int] = defaultdict(int)
    for o in fns:
        causes[cause(o)] += 1
    summary = "; ".join(f"{k}: {v}" for k, v in sorted(causes.items(), key=lambda kv: -kv[1]))
    out.append(f"False negatives ({len(fns)}){': ' + summary if summary else ''}.")
    out += [miss_line(o) for o in fns] or ["- none"]
    out.append("")
    out.append(f"False positives ({len(fps)}):")
    out += [miss_line(o) for o in fps] or ["- none"]
    wrong = [o for o in outcomes if o.sample.positive and o.flagged and not o.right_rule]
    if wrong:
        out.append("")
        out.append(f"Flagged, but not by their own rule ({len(wrong)}):")
        out += [miss_line(o) for o in wrong]
    return "\n".join(out)


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (Linux /proc/stat: user nice system irq softirq)."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="frames (default 500)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="50 frames, a smoke run")
    parser.add_argument("--json", metavar="OUT", help="write the results (and every frame's conditions) here")
    parser.add_argument(
        "--text-options", default="{}", help="JSON for [moderation.detector_options.text], e.g. limit_type"
    )
    parser.add_argument("--save-misses", metavar="DIR", help="write the misclassified frames' JPEGs here")
    args = parser.parse_args(argv)
    n = 50 if args.quick else args.n
    text_options = json.loads(args.text_options)

    from rtcsnap_moderation import Moderator

    command = " ".join(
        [".venv/bin/python", "bench/eval_moderation.py", *(argv if argv is not None else sys.argv[1:])]
    )
    load_before = load_avg()
    busy0, ours0 = machine_busy(), own_cpu()
    start = time.perf_counter()
    fonts = find_fonts()
    samples = generate(n, args.seed, fonts)
    gen_s = time.perf_counter() - start
    rules = dict(RULES)
    if text_options:
        rules["detector_options"] = {"text": text_options}
    moderator = Moderator(rules)
    warm = moderator.warm_up()
    t = time.perf_counter()
    moderator.moderate(samples[0].data, "eval")
    first_ms = (time.perf_counter() - t) * 1000

    def progress(k: int) -> None:
        if k % 50 == 0 and sys.stderr.isatty():
            print(f"  {k}/{n}", file=sys.stderr)

    outcomes = run(moderator, samples, progress)
    wall = time.perf_counter() - start
    rejudge(outcomes, rules)
    busy, ours = (machine_busy() - busy0) / wall, (own_cpu() - ours0) / wall
    result: dict[str, Any] = {
        "command": command,
        "n": n,
        "seed": args.seed,
        "text_options": text_options,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "load_before": load_before,
        "load_after": load_avg(),
        "wall_s": wall,
        "cpu_cores": {"machine_busy": busy, "this_process": ours, "others": max(0.0, busy - ours)},
        "generate_s": gen_s,
        "fonts": {k: [f.name for f in v] for k, v in fonts.items()},
        "rules": rules,
        "no_text": sum(s.kind == "no-text" for s in samples),
        "near_miss": sum(s.kind == "near-miss" for s in samples),
        "confusion": confusion(outcomes),
        "loose": confusion(outcomes, loose=True),
        "breakdown": breakdown(outcomes),
        "latency_ms": latency(outcomes),
        "cold": {"warm_up_s": warm, "first_call_ms": first_ms},
        "nudity_flags": sum(o.nudity_flagged for o in outcomes),
        "not_ok": sum(o.status != "ok" for o in outcomes),
    }
    print(report(result, outcomes))
    if args.save_misses:
        dest = Path(args.save_misses)
        dest.mkdir(parents=True, exist_ok=True)
        for o in outcomes:
            if o.flagged != o.sample.positive:
                (dest / f"{o.sample.id:04d}_{'fn' if o.sample.positive else 'fp'}.jpg").write_bytes(
                    o.sample.data
                )
    if args.json:
        result["frames"] = [
            {
                **o.sample.describe(),
                "flagged": o.flagged,
                "fired": o.fired,
                "ocr": o.ocr,
                "elapsed_ms": o.elapsed_ms,
                "flagged_whole_words_false": o.loose,
            }
            for o in outcomes
        ]
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
