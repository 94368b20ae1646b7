"""``python -m rtcsnap.demo [OPTIONS]``: the same as ``rtcsnap demo`` (what ``run.py demo`` runs)."""

from __future__ import annotations

import sys

from rtcsnap.cli.app import main

if __name__ == "__main__":
    main(["demo", *sys.argv[1:]])
