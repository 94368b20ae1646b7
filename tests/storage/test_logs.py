"""The CLI's logging: SDK loggers are redacted always, and quiet by default (`rtcsnap.logs`)."""

from __future__ import annotations

import logging

import pytest
from rtcsnap import logs


def _record(name: str, level: int) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, "boom", None, None)


def test_an_sdks_own_failure_reports_are_quiet_by_default_and_rtcsnaps_are_not() -> None:
    logs.protect(["qcloud_cos"])  # what loading rtcsnap-cos declares (`sdk_loggers`)
    quiet = logs.QuietSdks()
    assert not quiet.filter(_record("qcloud_cos.cos_client", logging.ERROR))
    assert quiet.filter(_record("qcloud_cos.cos_client", logging.CRITICAL))
    assert quiet.filter(_record("rtcsnap.storage.verify", logging.WARNING))
    assert quiet.filter(_record("httpx", logging.ERROR)), "rtcsnap's own libraries are not SDKs"
    assert quiet.filter(_record("some.app.logger", logging.ERROR)), "an unprotected logger is left alone"


def test_configure_cli_installs_the_quiet_filter_only_without_verbosity() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure_cli(0, False)
        assert any(isinstance(f, logs.QuietSdks) for f in root.handlers[0].filters)
        logs.configure_cli(1, False)
        assert not any(isinstance(f, logs.QuietSdks) for f in root.handlers[0].filters)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_log_level_wins_over_verbosity_and_keeps_redaction() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure_cli(2, False, "error")
        assert root.level == logging.ERROR
        assert any(isinstance(f, logs.QuietSdks) for f in root.handlers[0].filters)
        logs.configure_cli(0, False, "debug")
        assert root.level == logging.DEBUG
        filters = root.handlers[0].filters
        assert any(isinstance(f, logs.RedactingFilter) for f in filters)
        assert not any(isinstance(f, logs.QuietSdks) for f in filters)  # SDK chatter asked for
        with pytest.raises(ValueError, match="log level"):
            logs.configure_cli(0, False, "loud")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_the_cli_takes_log_level_and_refuses_others() -> None:
    from tests.conftest import run_cli

    assert run_cli("--log-level", "info", "providers").returncode == 0
    bad = run_cli("--log-level", "loud", "providers")
    assert bad.returncode == 2 and "--log-level" in bad.stderr and bad.stderr.count("\n") == 1
