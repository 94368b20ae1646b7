"""Cold load and warm per-image latency of each detector on a 640x360 frame.

    python plugins/moderation/bench/latency.py [--runs 30] [--json]

Cold: a fresh interpreter per detector, timing the model package's import and the model load
separately (what a new pool worker pays once). Warm: `detect_image` on an already decoded frame,
after one untimed run, wall and CPU time per image (CPU time is what a loaded machine cannot
inflate); plus the whole `Moderator.moderate(jpeg_bytes)` with both detectors. Both with one ONNX
thread (the default, for a process pool) and with ONNX Runtime's default (a thread per core).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

COLD = """
import json, time
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
from rtcsnap_moderation.detectors import {cls}
detector = {cls}({options!r})
seconds = detector.load()
print(json.dumps({{"import_s": t1 - t0, "load_s": seconds}}))
"""


def cold(module: str, cls: str, options: dict[str, Any]) -> dict[str, float]:
    code = COLD.format(module=module, cls=cls, options=options)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def frame(with_text: bool) -> Any:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.linear_gradient("L").resize((640, 360)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((420, 60, 600, 240), fill=(200, 60, 60))
    if with_text:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 36)
        draw.text((30, 40), "BUY GUNS HERE", font=font, fill=(255, 255, 255))
        draw.text((30, 290), "Call 138 0013 8000", font=font, fill=(255, 255, 0))
    return image


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
    }


def warm(detector: Any, image: Any, runs: int) -> dict[str, Any]:
    detector.detect_image(image)
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        detector.detect_image(image)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return {"wall": stats(wall), "cpu": stats(cpu)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from rtcsnap_moderation import DetectorRegistry, Moderator
    from rtcsnap_moderation.detectors import NudityDetector, TextDetector

    report: dict[str, Any] = {"cores": os.cpu_count(), "load_avg_before": os.getloadavg()}
    report["cold"] = {
        "nudity": cold("nudenet", "NudityDetector", {}),
        "text": cold("rapidocr_onnxruntime", "TextDetector", {}),
    }
    plain, texty = frame(False), frame(True)
    for threads in (1, None):
        label = f"threads={threads or 'ort-default'}"
        report[label] = {
            "nudity": warm(NudityDetector({"threads": threads}), plain, args.runs),
            "text_no_text": warm(TextDetector({"threads": threads}), plain, args.runs),
            "text_two_lines": warm(TextDetector({"threads": threads}), texty, args.runs),
        }
    report["text_rapidocr_default_resolution(min 736)"] = warm(
        TextDetector({"limit_type": "min", "limit_side_len": 736}), texty, args.runs
    )
    buf = io.BytesIO()
    texty.save(buf, "JPEG", quality=90)
    moderator = Moderator({"packs": ["contact"]}, registry=DetectorRegistry(plugins=False))
    moderator.moderate(buf.getvalue())
    totals = []
    for _ in range(args.runs):
        w = time.perf_counter()
        moderator.moderate(buf.getvalue())
        totals.append(time.perf_counter() - w)
    report["moderate_jpeg_both_detectors_wall"] = stats(totals)
    report["load_avg_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
