"""Fixtures shared by the storage CLI tests: the admin key of the session's moto server, as a
user would pass it to the CLI, and a fresh bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from rtcsnap.testing import new_bucket_name

if TYPE_CHECKING:
    from rtcsnap.testing.s3server import LocalS3Server


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
