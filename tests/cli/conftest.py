"""Fixtures shared by the storage CLI tests: the admin key of the session's moto server, as a
user would pass it to the CLI, and a fresh bucket; and, for every CLI test, no config file of
the user's (`RTCSNAP_CONFIG` points into the test's folder, `RTCSNAP_PROFILE` is unset)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rtcsnap.testing import new_bucket_name

if TYPE_CHECKING:
    from rtcsnap.testing.s3server import LocalS3Server


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The path of this test's (absent) config file: CLI subprocesses inherit it."""
    path = tmp_path / "rtcsnap-config.toml"
    monkeypatch.setenv("RTCSNAP_CONFIG", str(path))
    monkeypatch.delenv("RTCSNAP_PROFILE", raising=False)
    return path


@pytest.fixture
def creds(local_s3: LocalS3Server) -> dict[str, str]:
    ak, sk = local_s3.admin_credentials
    return {
        "RTCSNAP_ACCESS_KEY": ak,
        "RTCSNAP_SECRET_KEY": sk,
        "HOME": "/nonexistent",
        "AWS_CONFIG_FILE": "/dev/null",
    }


@pytest.fixture
def bucket(local_s3: LocalS3Server) -> str:
    return local_s3.create_bucket(new_bucket_name("cli"))
