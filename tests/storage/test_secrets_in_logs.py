"""Secrets never reach logs, reprs, exception text or reports — with every logger at DEBUG."""

from __future__ import annotations

import logging

import pytest
from rtcsnap import StorageError, StorageTarget
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import download, iter_objects, upload, verify
from rtcsnap.testing import new_bucket_name

SECRET = "Sup3r-S3cret-Value-0123456789"


def test_no_secret_anywhere_with_debug_logging(local_s3, caplog: pytest.LogCaptureFixture, tmp_path) -> None:
    caplog.set_level(logging.DEBUG)  # root: botocore, urllib3, rtcsnap all at DEBUG
    ak, sk = local_s3.admin_credentials
    bucket = new_bucket_name("sec")
    local_s3.create_bucket(bucket)
    good = StorageTarget.parse(
        f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}", access_key=ak, secret_key=sk
    )
    bad = StorageTarget.parse(good.url, access_key=ak, secret_key=SECRET)
    texts: list[str] = []
    report = verify(bad, retry=RetryPolicy(attempts=1))
    texts += [repr(report), repr(bad), str(bad)]
    with pytest.raises(Exception) as exc:
        list(iter_objects(bad, retry=RetryPolicy(attempts=1)))
    texts += [str(exc.value), repr(exc.value)]
    upload(good, "a.jpg", b"x" * 100)
    with pytest.raises(StorageError) as exc2:
        download(bad, tmp_path, retry=RetryPolicy(attempts=1))
    texts += [str(exc2.value), repr(verify(good))]
    all_text = "\n".join(texts) + caplog.text
    assert caplog.text, "debug logging was captured"
    assert SECRET not in all_text
    assert sk not in all_text
