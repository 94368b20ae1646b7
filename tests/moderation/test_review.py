"""Reviewing images already in a bucket: over real HTTP against the local S3 server, real models,
every key accounted for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rtcsnap import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap_moderation import parse_rules
from rtcsnap_moderation.pool import ModerationPool
from rtcsnap_moderation.review import Reviewed, review

from tests.moderation.helpers import encode, frame, render

RULES = {"detectors": ["text"], "text": [{"name": "weapons", "keywords": ["buy guns"]}]}


@pytest.fixture(scope="module")
def pool() -> Iterator[ModerationPool]:
    with ModerationPool(parse_rules(RULES), workers=2) as p:
        yield p


def test_every_key_is_judged_or_failed_and_flagged_ones_named(
    local_s3: LocalS3Server, pool: ModerationPool, latin_font: str
) -> None:
    bucket = local_s3.create_bucket(new_bucket_name("review"))
    s3 = local_s3.s3()
    bad, good = render(["BUY GUNS HERE"], latin_font), encode(frame())
    images = {f"app1/room1/u{i}/{i}.jpg": (bad if i % 3 == 0 else good) for i in range(7)}
    for key, body in images.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.put_object(Bucket=bucket, Key="app1/room1/junk.jpg", Body=b"not an image")
    ak, sk = local_s3.admin_credentials
    target = StorageTarget.parse(
        f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}", access_key=ak, secret_key=sk
    )
    keys = [*images, "app1/room1/junk.jpg", "app1/room1/gone.jpg"]
    results: list[Reviewed] = []
    summary = review(target, keys, pool, app_id="app1", on_result=results.append)
    assert summary.accounted and summary.listed == len(keys) == len(results)
    assert sorted(summary.flagged_keys) == sorted(k for k, b in images.items() if b is bad)
    assert summary.judged == len(images) and summary.failed == 2
    failures = {r.key: r.reason for r in results if r.failed}
    assert failures == {"app1/room1/junk.jpg": "error", "app1/room1/gone.jpg": "not_found"}
    flagged = next(r for r in results if r.flagged)
    assert flagged.verdict is not None and flagged.verdict.fired == ("text.weapons",)
