"""The moderation call: crash isolation, undecodable images, JSON round-trip, lazy once-per-process
model loading, thread use, and a package import that loads no model runtime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from PIL import Image
from rtcsnap_moderation import Detector, DetectorRegistry, Finding, Moderator, Verdict, lazy

from tests.moderation.helpers import encode, frame, render


class Boom(Detector):
    name = "boom"

    def detect_image(self, image: Image.Image) -> Finding:
        raise RuntimeError("model exploded\non two lines")


class Liar(Detector):
    name = "liar"

    def detect_image(self, image: Image.Image) -> Finding:
        return {"detector": "liar"}  # type: ignore[return-value]


def registry_with(*classes: type[Detector]) -> DetectorRegistry:
    registry = DetectorRegistry(plugins=False)
    for cls in classes:
        registry.register(cls)
    return registry


def test_a_crashing_detector_is_an_error_finding_and_the_others_still_run(latin_font: str) -> None:
    registry = registry_with(Boom, Liar)
    rules = {
        "detectors": ["boom", "nudity", "liar", "text"],
        "text": [{"name": "w", "keywords": ["buy guns"]}],
    }
    verdict = Moderator(rules, registry=registry).moderate(render(["BUY GUNS HERE"], latin_font), "app1")

    assert [f.detector for f in verdict.findings] == ["boom", "nudity", "liar", "text"]
    boom, nudity, liar, text = verdict.findings
    assert (boom.status, boom.error) == ("error", "RuntimeError: model exploded on two lines")
    assert boom.elapsed_ms is not None and boom.detections == ()
    assert liar.status == "error" and liar.error == "TypeError: detect_image returned dict, not a Finding"
    assert nudity.status == "ok" and text.status == "ok"
    assert verdict.status == "partial"
    assert verdict.flagged and verdict.fired == ("text.w",)  # what did run is still judged


def test_undecodable_bytes_give_an_error_verdict_not_an_exception(builtin_registry: DetectorRegistry) -> None:
    moderator = Moderator(registry=builtin_registry)
    png = encode(frame(), "PNG")
    for data, why in [(b"not an image", "cannot identify image file"), (png[: len(png) // 2], "")]:
        verdict = moderator.moderate(data, "app1")
        assert verdict.status == "error" and not verdict.flagged and verdict.findings == ()
        assert (
            verdict.error is not None
            and verdict.error.startswith("image not decodable: ")
            and why in verdict.error
        )
        assert verdict.rules_digest == moderator.rules_for("app1").digest


def test_the_verdict_round_trips_through_json(latin_font: str) -> None:
    registry = registry_with(Boom)
    rules = {"detectors": ["boom", "text"], "packs": ["contact"]}
    verdict = Moderator(rules, registry=registry).moderate(render(["Call 138 0013 8000"], latin_font), "app9")
    stored = verdict.model_dump_json()
    assert json.loads(stored)["fired"] == ["pack.contact.phone"]
    assert Verdict.model_validate_json(stored) == verdict
    assert json.loads(stored)["findings"][0] == {
        "detector": "boom",
        "status": "error",
        "error": "RuntimeError: model exploded on two lines",
        "detections": [],
        "text": [],
        "model": None,
        "elapsed_ms": verdict.findings[0].elapsed_ms,
    }


def test_a_pillow_image_is_accepted_as_well(builtin_registry: DetectorRegistry) -> None:
    verdict = Moderator({"detectors": ["nudity"]}, registry=builtin_registry).moderate(frame().convert("L"))
    assert verdict.status == "ok" and verdict.image is not None and verdict.image.format is None


def test_an_app_with_no_detectors_is_not_flagged_and_runs_nothing(builtin_registry: DetectorRegistry) -> None:
    moderator = Moderator({"apps": {"quiet": {"detectors": []}}}, registry=builtin_registry)
    verdict = moderator.moderate(encode(frame()), "quiet")
    assert verdict.findings == () and not verdict.flagged and verdict.status == "ok"


def test_models_load_once_per_process_and_warm_up_reports_the_cold_load(
    builtin_registry: DetectorRegistry,
) -> None:
    lazy.forget()
    moderator = Moderator(registry=builtin_registry)
    cold = moderator.warm_up()
    assert set(cold) == {"nudity", "text"} and all(seconds > 0 for seconds in cold.values())
    assert moderator.warm_up() == {"nudity": 0.0, "text": 0.0}
    other = Moderator(registry=builtin_registry)  # a second moderator shares the loaded models
    assert other.warm_up() == {"nudity": 0.0, "text": 0.0}


def test_a_forked_child_starts_with_no_models_loaded() -> None:
    lazy.load(("test-model",), object)
    assert lazy.is_loaded(("test-model",))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running pytest's teardown
        os.write(write, b"1" if lazy.is_loaded(("test-model",)) else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"0"
    os.close(read)
    os.waitpid(pid, 0)
    lazy.forget(("test-model",))


def test_a_failed_model_load_is_not_cached() -> None:
    calls = []

    def build() -> object:
        calls.append(1)
        raise OSError("model file missing")

    for _ in range(2):
        with pytest.raises(OSError, match="model file missing"):
            lazy.load(("broken-model",), build)
    assert len(calls) == 2


def test_a_missing_model_file_is_that_detectors_error() -> None:
    registry = DetectorRegistry(plugins=False)
    rules = {
        "detectors": ["nudity"],
        "detector_options": {"nudity": {"model_path": "/nonexistent/model.onnx"}},
    }
    verdict = Moderator(rules, registry=registry).moderate(encode(frame()))
    assert verdict.status == "partial" and verdict.findings[0].status == "error"
    assert "/nonexistent/model.onnx" in (verdict.findings[0].error or "")


def test_threads_sharing_one_moderator_get_the_same_verdicts(
    latin_font: str, builtin_registry: DetectorRegistry
) -> None:
    moderator = Moderator({"text": [{"name": "w", "keywords": ["buy guns"]}]}, registry=builtin_registry)
    images = [render(["BUY GUNS HERE"], latin_font), encode(frame()), render(["HELLO THERE"], latin_font)]
    expected = [moderator.moderate(image).fired for image in images]
    results: list[tuple[int, tuple[str, ...]]] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(len(images)):
                k = (i + offset) % len(images)
                results.append((k, moderator.moderate(images[k]).fired))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(results) == 9
    assert all(fired == expected[k] for k, fired in results)
    assert expected[0] == ("text.w",) and expected[1] == expected[2] == ()


def test_importing_the_package_loads_no_image_or_model_runtime() -> None:
    heavy = ("PIL", "numpy", "cv2", "onnxruntime", "nudenet", "rapidocr_onnxruntime")
    probe = (
        "import sys, json\n"
        "import rtcsnap_moderation\n"
        "from rtcsnap_moderation import Moderator, DetectorRegistry, load_rules_toml\n"
        "m = Moderator(load_rules_toml('[moderation]\\npacks = [\"contact\"]'))\n"
        "m.rules_for('app1')\n"
        f"print(json.dumps([x for x in {heavy!r} if x in sys.modules]))"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []
