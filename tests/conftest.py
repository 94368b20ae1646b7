"""Shared fixtures for rtcsnap's own tests (the reusable ones live in `rtcsnap.testing`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.testing.secret_scan import assert_no_secret

ROOT = Path(__file__).resolve().parents[1]

# every test fails if a registered secret shows up in what it printed or logged
pytest_plugins = ["rtcsnap.testing.secret_scan", "pytester"]

FakeDist = Callable[..., Path]


@pytest.fixture(autouse=True)
def task_log_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's clients (and CLI subprocesses, which inherit the environment) keep their task
    log in the test's own folder, never in the user's ~/.local/state."""
    path = tmp_path / "rtcsnap-task-log.jsonl"
    monkeypatch.setenv("RTCSNAP_TASK_LOG", str(path))
    return path


@pytest.fixture
def fake_dist(tmp_path: Path) -> Iterator[FakeDist]:
    """Install a throwaway distribution into a site dir: a module plus real dist-info metadata.

    `importlib.metadata` discovers it exactly as it discovers a pip-installed wheel, so entry-point
    loading runs the same code path as for a real third-party plugin.
    """
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    made: list[str] = []

    def make(dist: str, module: str, source: str, ep_name: str | None = None, version: str = "0.1.0") -> Path:
        sys.modules.pop(module, None)  # a module of the same name from an earlier test
        made.append(module)
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[rtcsnap]\n{ep_name or dist} = {module}\n")
        (info / "RECORD").write_text("")
        (info / "top_level.txt").write_text(module + "\n")
        return site

    yield make
    for module in made:
        sys.modules.pop(module, None)


@pytest.fixture
def isolated_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forget the shared provider manager before and after the test."""
    for var in ("RTCSNAP_LOAD_PLUGINS", "RTCSNAP_DISABLE_PLUGINS", "RTCSNAP_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    ProviderManager.reset_default()
    yield
    ProviderManager.reset_default()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, shows_secrets: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the installed `rtcsnap` console script in a subprocess, as a user would; its output
    must hold no registered secret unless the test says it should (`shows_secrets`)."""
    full_env = {**os.environ, **(env or {})}
    exe = Path(sys.executable).with_name("rtcsnap")
    r = subprocess.run([str(exe), *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    if not shows_secrets:
        assert_no_secret(r.stdout, r.stderr, where=f"the output of rtcsnap {' '.join(args[:2])}")
    return r
