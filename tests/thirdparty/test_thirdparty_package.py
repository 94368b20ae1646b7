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
from xml.etree import ElementTree

from rtcsnap.testing.contract import ProviderContract

from tests.conftest import FakeDist, run_cli

HERE = Path(__file__).parent


def install_acme(fake_dist: FakeDist, **kw: str) -> Path:
    return fake_dist(
        "rtcsnap-acme", "rtcsnap_acme", (HERE / "acme_provider.py").read_text(), ep_name="acme", **kw
    )


def env_with(site: Path, disable: str = "cos") -> dict[str, str]:
    """The environment of a user who installed rtcsnap-acme, which serves Vendor 3 as the shipped
    rtcsnap-cos does: so they disable that one (see acme_provider's docstring)."""
    return {
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "RTCSNAP_DISABLE_PLUGINS": disable,
    }


def test_cli_discovers_third_party_provider(fake_dist: FakeDist) -> None:
    site = install_acme(fake_dist, version="2.5.0")
    r = run_cli("providers", env=env_with(site))
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("acme"))
    assert re.search(r"acme\s+acme://\s+2\s+3\s+2\.5\.0\s+rtcsnap-acme", row), row
    assert any(line.startswith("s3 ") for line in r.stdout.splitlines()), "built-in provider still there"
    assert r.stderr == ""


def test_broken_plugin_warns_and_cli_still_works(fake_dist: FakeDist) -> None:
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


CONTRACT_TESTS = sorted(name for name in dir(ProviderContract) if name.startswith("test_"))
"""Every test the shipped suite defines: a test added to it is expected here automatically."""
KNOWN_SKIPS: dict[str, str] = {}
"""Contract tests the Acme package is expected to skip, with the reason it must give. None: its
environment has moto's fault injector and the provider declares an MD5 checksum, so even the
fault tests (which skip without a fault injector) must run and pass."""


def _outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """test name -> (outcome, skip/failure message) from pytest's JUnit XML."""
    out: dict[str, tuple[str, str]] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag: child.get("message", "") for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        out[case.get("name", "")] = (outcome, kinds.get(outcome, ""))
    return out


def test_third_party_package_runs_the_shipped_contract_suite(fake_dist: FakeDist, tmp_path: Path) -> None:
    site = install_acme(fake_dist)
    project = tmp_path / "rtcsnap-acme-tests"
    project.mkdir()
    (project / "test_acme_contract.py").write_text((HERE / "acme_tests_template.py").read_text())
    junit = tmp_path / "junit.xml"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            str(project),
        ],
        cwd=project,
        env={**os.environ, **env_with(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    tail = r.stdout[-3000:]
    assert r.returncode == 0, tail
    outcomes = _outcomes(junit)
    expected = {
        name: ("skipped", KNOWN_SKIPS[name]) if name in KNOWN_SKIPS else ("passed", "")
        for name in CONTRACT_TESTS
    }
    assert len(CONTRACT_TESTS) >= 14
    assert outcomes == expected, tail
