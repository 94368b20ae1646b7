"""A pytest plugin that fails any test whose captured output or logs contain a secret.

Why: "no secret in logs, reprs, messages or CLI output" is a property of every code path, not
of the few tests written about it. Every secret rtcsnap sees is registered process-wide
(`rtcsnap.secrets`: `Credentials`, the OpenAPI credentials, test servers' keys), so after each
test phase this plugin scans what pytest captured — stdout, stderr and log records — and turns
a passing test into a failure naming where the secret showed (never the secret itself).

Enable it from a conftest: ``pytest_plugins = ["rtcsnap.testing.secret_scan"]``. A test that
must print a secret (``--show-secrets``) says so with ``@pytest.mark.shows_secrets``. Output of
subprocesses is not captured by pytest: scan it with `assert_no_secret`.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from rtcsnap import secrets

MARK = "shows_secrets"


def hint(secret: str) -> str:
    """A secret described without revealing it."""
    return f"{secret[:3]}… ({len(secret)} chars)"


def leaks(text: str) -> list[str]:
    return [hint(s) for s in secrets.find(text)]


def assert_no_secret(*texts: str, where: str = "output") -> None:
    found = leaks("\n".join(texts))
    if found:
        raise AssertionError(f"registered secret(s) {', '.join(found)} appear in {where}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}: the test prints a secret on purpose (not scanned)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not report.passed or item.get_closest_marker(MARK) is not None:
        return
    sections = [(name, text) for name, text in report.sections if name.endswith(report.when)]
    found = {name: leaks(text) for name, text in sections}
    found = {name: hints for name, hints in found.items() if hints}
    if found:
        # the failure report shows the captured sections: never with the secret in them
        report.sections = [(name, secrets.redact(text)) for name, text in report.sections]
        report.outcome = "failed"
        report.longrepr = "secret leaked: " + "; ".join(
            f"{', '.join(hints)} in '{name}'" for name, hints in found.items()
        )


__all__ = ["MARK", "assert_no_secret", "hint", "leaks"]
