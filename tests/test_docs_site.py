"""The docs site builds with `mkdocs build --strict` (zero warnings: broken links and anchors
included, see mkdocs.yml `validation`), and its two generated pages are really generated: the CLI
reference lists every command of the click tree, the API reference every name of `rtcsnap.__all__`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rtcsnap
from rtcsnap.cli.commands import app

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=240,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_every_doc_page_is_built(site: Path) -> None:
    for md in sorted((ROOT / "docs").glob("*.md")):
        built = site / "index.html" if md.stem == "index" else site / md.stem / "index.html"
        assert built.is_file(), f"{md.name} was not built (missing from the nav?)"


def test_the_cli_page_is_generated_from_the_click_commands(site: Path) -> None:
    cli = page(site, "cli")
    for name in app.commands:  # every top-level command has its own section
        assert f'id="rtcsnap-{name}"' in cli, name
    assert 'id="rtcsnap-snapshots-download"' in cli and 'id="rtcsnap-emulator-room-publish"' in cli
    assert "-j, --concurrency" in cli and "--for [rtc|read|all]" in cli and "--verify-storage" in cli
    assert "Sentinel" not in cli, "an unset click default rendered as text"


def test_the_api_page_documents_every_public_name(site: Path) -> None:
    api = page(site, "api")
    assert 'id="rtcsnap.SnapshotClient"' in api and 'id="rtcsnap.StorageTarget"' in api
    assert 'id="rtcsnap.SnapshotClient.start"' in api and 'id="rtcsnap.StorageTarget.parse"' in api
    missing = [name for name in rtcsnap.__all__ if f'id="rtcsnap.{name}"' not in api]
    assert missing == []
