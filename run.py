#!/usr/bin/env python3
"""Bootstrap for a fresh machine that has only python3 and pip.

    python3 run.py test [pytest args]   # install uv if missing, sync the locked workspace, run the tests
    python3 run.py demo [options]       # same set-up, then the offline demo (`--help`: --storage, --seconds, …)

Afterwards the CLI is `.venv/bin/rtcsnap` (uv may not be on PATH: it was installed as a module,
`python3 -m uv`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def uv() -> list[str]:
    """The uv command: the module if importable, else the binary on PATH, else install it with pip."""
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "uv"]
    if shutil.which("uv"):
        return ["uv"]
    print("run.py: installing uv with pip", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "uv"], check=True)
    return [sys.executable, "-m", "uv"]


def sync(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run([*cmd, "sync", "--frozen", "--all-packages", "--python", sys.executable], check=True, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("test", "demo"):
        print(__doc__, file=sys.stderr)
        return 2
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    cmd = uv()
    sync(cmd, env)
    if argv[0] == "test":
        return subprocess.run([*cmd, "run", "--frozen", "pytest", *argv[1:]], cwd=ROOT, env=env).returncode
    return subprocess.run([*cmd, "run", "--frozen", "python", "-m", "rtcsnap.demo", *argv[1:]], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
