"""A third-party provider package, installed as its own distribution, next to rtcsnap.

The package (module `rtcsnap_acme` + dist-info with an entry point in the `rtcsnap` group) is
written to a temporary site directory and put on PYTHONPATH of real subprocesses: the `rtcsnap`
CLI and a `pytest` run of the package's own tests, exactly as after `pip install rtcsnap-acme`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli

HERE = Path(__file__).parent


def install_acme(fake_dist, **kw) -> Path:  # type: ignore[no-untyped-def]
    return fake_dist("rtcsnap-acme", "rtcsnap_acme", (HERE / "acme_provider.py").read_text(), ep_name="acme", **kw)


def env_with(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_cli_discovers_third_party_provider(fake_dist) -> None:
    site = install_acme(fake_dist, version="2.5.0")
    r = run_cli("providers", env=env_with(site))
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("acme"))
    assert re.search(r"acme\s+acme://\s+2\s+3\s+2\.5\.0\s+rtcsnap-acme", row), row
    assert any(line.startswith("s3 ") for line in r.stdout.splitlines()), "built-in provider still there"
    assert r.stderr == ""


def test_broken_plugin_warns_and_cli_still_works(fake_dist) -> None:
    fake_dist("rtcsnap-broken", "rtcsnap_broken", "import no_such_vendor_sdk\n", ep_name="broken")
    site = install_acme(fake_dist)
    r = run_cli("providers", env=env_with(site))
    assert r.returncode == 0
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "'broken'" in warnings[0] and "no_such_vendor_sdk" in warnings[0]
    assert "Traceback" not in r.stderr
    assert "acme" in r.stdout and "s3" in r.stdout
    assert "load error: plugin 'broken'" in r.stdout
    strict = run_cli("providers", env={**env_with(site), "RTCSNAP_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2 and "broken" in strict.stderr and "Traceback" not in strict.stderr


def test_third_party_package_runs_the_shipped_contract_suite(fake_dist, tmp_path: Path) -> None:
    site = install_acme(fake_dist)
    project = tmp_path / "rtcsnap-acme-tests"
    project.mkdir()
    (project / "test_acme_contract.py").write_text((HERE / "acme_tests_template.py").read_text())
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
        cwd=project,
        env={**os.environ, **env_with(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    tail = r.stdout[-3000:]
    assert r.returncode == 0, tail
    m = re.search(r"(\d+) passed", tail)
    assert m and int(m.group(1)) >= 12, tail
    assert "failed" not in tail.splitlines()[-1]
