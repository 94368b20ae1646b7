"""StorageTarget URL parsing and secret hygiene."""

from __future__ import annotations

import pytest
from rtcsnap import ConfigurationError, Credentials, StorageTarget


def test_parse_full_url() -> None:
    t = StorageTarget.parse(
        "s3://my-bucket/a/b?region=us-east-1&endpoint=http://127.0.0.1:9000&addressing=path"
    )
    assert (t.scheme, t.bucket, t.prefix, t.region, t.endpoint) == (
        "s3",
        "my-bucket",
        "a/b",
        "us-east-1",
        "http://127.0.0.1:9000",
    )
    assert dict(t.options) == {"addressing": "path"}
    assert StorageTarget.parse(t.url) == t
    assert t.key("x.jpg") == "a/b/x.jpg"


@pytest.mark.parametrize(
    ("url", "msg"),
    [
        ("my-bucket/x", "SCHEME://BUCKET"),
        ("s3://", "bucket name"),
        ("s3://AK:SK@bucket", "do not put credentials"),
        ("s3://b?region=a&region=b", "more than once"),
    ],
)
def test_bad_urls_name_the_problem(url: str, msg: str) -> None:
    with pytest.raises(ConfigurationError, match=msg):
        StorageTarget.parse(url)


def test_secrets_never_rendered() -> None:
    t = StorageTarget.parse(
        "s3://b", access_key="AKIDEXAMPLE", secret_key="s3cr3t-VALUE", session_token="tok-VALUE"
    )
    for text in (repr(t), str(t), repr(t.credentials), str(t.credentials), t.url):
        assert "s3cr3t-VALUE" not in text and "tok-VALUE" not in text
    assert "AKIDEXAMPLE" in repr(t)
    assert t.credentials is not None and t.credentials.secret_key.get_secret_value() == "s3cr3t-VALUE"


def test_empty_secret_rejected() -> None:
    with pytest.raises(ConfigurationError, match="secret key is empty"):
        Credentials.of("AK", "")
