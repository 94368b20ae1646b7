"""The README's demo command runs the whole offline flow and reports success."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_runs_offline() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "rtcsnap.demo", "demo"], capture_output=True, text=True, timeout=180
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "demo ok" in r.stdout and "signatures valid: True" in r.stdout
    listed = int(re.search(r"listed (\d+) objects", r.stdout).group(1))  # type: ignore[union-attr]
    assert listed >= 15 and f"downloaded {listed}," in r.stdout and f"skipped {listed} " in r.stdout
    bad = subprocess.run([sys.executable, "-m", "rtcsnap.demo", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown demo" in bad.stderr
