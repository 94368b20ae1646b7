"""The session-wide secret scan fails a test that leaks, and only such a test."""

from __future__ import annotations

import pytest

INNER = """
import logging
import pytest
from rtcsnap import Credentials

SECRET = "inner-secret-value-0123456789"

def test_prints():
    Credentials.of("AKID", SECRET)
    print("oops", SECRET)

def test_logs():
    Credentials.of("AKID", SECRET)
    logging.getLogger("app").warning("key=%s", SECRET)

def test_stderr_in_setup(capsys):
    import sys
    print("fine")

def test_clean():
    Credentials.of("AKID", SECRET)
    print("masked:", Credentials.of("AKID", SECRET))

@pytest.mark.shows_secrets
def test_allowed():
    Credentials.of("AKID", SECRET)
    print(SECRET)
"""


def test_a_leak_in_output_or_logs_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["rtcsnap.testing.secret_scan"]')
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    assert "secret leaked: inn… (29 chars) in 'Captured stdout call'" in out
    assert "in 'Captured log call'" in out
    assert "inner-secret-value-0123456789" not in out, "the report names the secret without showing it"
