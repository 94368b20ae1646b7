"""Fixtures for the moderation plugin's tests.

The workspace installs the plugin and its model packages. Where one is missing, the test modules
are not collected (they import them at the top) and `test_installed.py` fails, naming it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from rtcsnap_moderation import DetectorRegistry

REQUIRED = ("rtcsnap_moderation", "nudenet", "rapidocr_onnxruntime", "PIL")
MISSING = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
if MISSING:
    collect_ignore = [
        p.name for p in Path(__file__).parent.glob("test_*.py") if p.name != "test_installed.py"
    ]


@pytest.fixture(scope="session")
def latin_font() -> str:
    from tests.moderation.helpers import latin_font_path

    path = latin_font_path()
    if path is None:
        pytest.skip("no Latin TrueType font found (Debian: fonts-dejavu-core)")
    return path


@pytest.fixture(scope="session")
def cjk_font() -> str:
    from tests.moderation.helpers import CJK_MISSING, cjk_font_path

    path = cjk_font_path()
    if path is None:
        if os.environ.get("RTCSNAP_REQUIRE_SERVICES"):  # CI (.ci/run installs fonts-noto-cjk)
            pytest.fail(f"{CJK_MISSING}; required here (RTCSNAP_REQUIRE_SERVICES)")
        pytest.skip(CJK_MISSING)
    return path


@pytest.fixture
def empty_registry() -> DetectorRegistry:
    """No detectors at all: a test registers the ones it needs."""
    from rtcsnap_moderation import DetectorRegistry

    return DetectorRegistry(builtins=False, plugins=False)


@pytest.fixture(scope="session")
def builtin_registry() -> DetectorRegistry:
    """The built-in detectors only: installed third-party plugins stay out of these tests."""
    from rtcsnap_moderation import DetectorRegistry

    return DetectorRegistry(plugins=False)


FakeDist = Callable[[str, str, str], Path]


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDist]:
    """Install a throwaway distribution with a ``rtcsnap_moderation`` entry point (real dist-info
    on sys.path), which `importlib.metadata` finds as it finds a pip-installed plugin."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    made: list[str] = []

    def make(dist: str, module: str, source: str) -> Path:
        sys.modules.pop(module, None)
        made.append(module)
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(f"[rtcsnap_moderation]\n{module} = {module}\n")
        (info / "RECORD").write_text("")
        return site

    yield make
    for module in made:
        sys.modules.pop(module, None)
