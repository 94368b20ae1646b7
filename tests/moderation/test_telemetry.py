"""ONNX Runtime's telemetry stays off (`rtcsnap_moderation.onnx`): the official Linux wheels
ship Microsoft's 1DS telemetry, which writes a session file to ``$TMPDIR/.ses`` and a device id
and offline event cache under ``~/.cache/Microsoft/DeveloperTools`` the moment a model loads.
Those files are the observable trace of it being on, so the test runs the real command, both
models loaded, in a process with its own HOME and TMPDIR and looks for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.moderation.helpers import encode, frame

RTCSNAP = [str(Path(sys.executable).with_name("rtcsnap"))]


@pytest.mark.parametrize("detectors", [["nudity", "text"], ["text"]])
def test_judging_an_image_leaves_no_telemetry_trace(detectors: list[str], tmp_path: Path) -> None:
    """Each model's loader turns it off (the first one to load initialises the runtime)."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    image = tmp_path / "frame.jpg"
    image.write_bytes(encode(frame()))
    rules = tmp_path / "rules.toml"
    rules.write_text(f"[moderation]\ndetectors = {json.dumps(detectors)}\n")
    # this process may have set it (in-process detectors of other tests): the command must itself
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), TMPDIR=str(tmp), XDG_CACHE_HOME=str(home / ".cache"))
    r = subprocess.run(
        [*RTCSNAP, "moderate", "--image", str(image), "--rules", str(rules), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    verdict = json.loads(r.stdout.splitlines()[0])["verdict"]
    assert [f["detector"] for f in verdict["findings"]] == detectors, verdict
    assert all(f["status"] == "ok" for f in verdict["findings"]), verdict
    assert sorted(p.name for p in tmp.iterdir()) == []
    assert not (home / ".cache" / "Microsoft").exists(), sorted(str(p) for p in home.rglob("*"))
