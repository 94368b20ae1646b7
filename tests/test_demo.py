"""The README's demo command runs the whole offline flow and reports success."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_offline() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "rtcsnap.demo", "demo"], capture_output=True, text=True, timeout=180
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "downloaded 60" in r.stdout and "skipped 60" in r.stdout and "demo ok" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "rtcsnap.demo", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown demo" in bad.stderr
