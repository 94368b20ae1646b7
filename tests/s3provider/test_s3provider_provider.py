"""S3Provider metadata, registration, target options, credential chain and StorageConfig."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError
from rtcsnap.errors import ConfigurationError, Reason, StorageError, ValidationError
from rtcsnap.hookspecs import hookimpl
from rtcsnap.providers.contract import Capabilities
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.s3server import LocalS3Server
from rtcsnap_s3 import S3Provider, rtcsnap_register_providers

AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS environment with nothing in it: no env keys, empty files, no instance metadata."""
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def test_metadata() -> None:
    p = S3Provider()
    assert (p.name, p.scheme, p.storage_type, p.vendor, p.region_table) == ("s3", "s3", 2, 0, "s3")
    assert p.capabilities == Capabilities(list=True, delete=True, upload=True, checksums=("md5",))
    assert set(p.options) == {"addressing"} and p.description
    assert hookimpl  # the plugin module uses rtcsnap's marker
    assert hasattr(rtcsnap_register_providers, "rtcsnap_impl")


def test_registered_through_the_entry_point() -> None:
    manager = ProviderManager()
    manager.load_entry_points()
    assert manager.get("s3") is not None
    assert type(manager.get("s3")) is S3Provider


def test_addressing_option(server: LocalS3Server) -> None:
    p = S3Provider()
    for style in ("path", "virtual", "auto"):
        p.check_target(StorageTarget.parse(f"s3://b/p?addressing={style}"))
    with pytest.raises(ConfigurationError, match="addressing"):
        p.check_target(StorageTarget.parse("s3://b/p?addressing=sideways"))
    with pytest.raises(ConfigurationError, match="not understood"):
        p.check_target(StorageTarget.parse("s3://b/p?flavour=x"))


@pytest.mark.parametrize(("style", "virtual"), [("path", False), ("virtual", True), ("auto", False)])
def test_addressing_style_reaches_botocore(style: str, virtual: bool) -> None:
    target = StorageTarget.parse(
        f"s3://my-bucket/p?endpoint=http://storage.example:9000&addressing={style}",
        access_key="AK",
        secret_key="SK",
    )
    urls: list[str] = []
    with S3Provider().open(target) as session:

        def stop(request: object, **_: object) -> None:
            urls.append(str(getattr(request, "url", "")))
            raise EndpointConnectionError(endpoint_url="stop here")

        session.client.meta.events.register("before-send.s3.GetObject", stop)
        with pytest.raises(StorageError) as err:
            session.get("k.jpg")
    assert err.value.reason == Reason.NETWORK
    expected = (
        "http://my-bucket.storage.example:9000/k.jpg"
        if virtual
        else "http://storage.example:9000/my-bucket/k.jpg"
    )
    assert urls == [expected]  # "auto" with an explicit endpoint: botocore goes path-style


def test_auto_addressing_without_endpoint_is_virtual() -> None:
    target = StorageTarget.parse("s3://my-bucket/p?region=eu-west-1", access_key="AK", secret_key="SK")
    urls: list[str] = []
    with S3Provider().open(target) as session:

        def stop(request: object, **_: object) -> None:
            urls.append(str(getattr(request, "url", "")))
            raise EndpointConnectionError(endpoint_url="stop here")

        session.client.meta.events.register("before-send.s3.GetObject", stop)
        with pytest.raises(StorageError):
            session.get("k.jpg")
    assert urls == ["https://my-bucket.s3.eu-west-1.amazonaws.com/k.jpg"]


def test_auto_addressing_is_path_style_for_an_ip(
    provider: S3Provider, make_target, server: LocalS3Server
) -> None:  # type: ignore[no-untyped-def]
    target = make_target(addressing="auto")
    with provider.open(target) as session:
        session.put("snaps/auto.jpg", b"a")
        assert session.get("snaps/auto.jpg").read() == b"a"


def test_credentials_from_env_vars(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-token")
    creds = S3Provider().credentials_from_env(StorageTarget.parse("s3://b"))
    assert creds is not None
    assert (creds.access_key, creds.secret_key.get_secret_value(), creds.source) == (
        "AKIAENV",
        "env-secret",
        "aws-chain:env",
    )
    assert creds.session_token is not None and creds.session_token.get_secret_value() == "env-token"
    assert "env-secret" not in repr(creds)


def test_credentials_from_shared_file(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (aws_home / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAFILE\n"
        "aws_secret_access_key = file-secret\n"
        "[snap]\naws_access_key_id = AKIASNAP\naws_secret_access_key = snap-secret\n"
    )
    p = S3Provider()
    creds = p.credentials_from_env(StorageTarget.parse("s3://b"))
    assert creds is not None and (creds.access_key, creds.source) == (
        "AKIAFILE",
        "aws-chain:shared-credentials-file",
    )
    monkeypatch.setenv("AWS_PROFILE", "snap")
    creds = p.credentials_from_env(StorageTarget.parse("s3://b"))
    assert creds is not None and creds.access_key == "AKIASNAP"
    resolved = p.resolve(StorageTarget.parse("s3://b"))
    assert resolved.credentials == creds
    explicit = p.resolve(StorageTarget.parse("s3://b", access_key="AK", secret_key="SK"))
    assert explicit.credentials is not None and explicit.credentials.access_key == "AK"


def test_credentials_none_and_bad_profile(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert S3Provider().credentials_from_env(StorageTarget.parse("s3://b")) is None
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    with pytest.raises(ConfigurationError, match="does-not-exist"):
        S3Provider().credentials_from_env(StorageTarget.parse("s3://b"))


def test_open_with_a_missing_profile(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    with pytest.raises(ConfigurationError, match="does-not-exist"):
        S3Provider().open(StorageTarget.parse("s3://b", access_key="AK", secret_key="SK"))


def test_open_needs_credentials() -> None:
    with pytest.raises(ConfigurationError, match="credentials"):
        S3Provider().open(StorageTarget.parse("s3://b"))


def test_session_token_is_sent(provider: S3Provider, server: LocalS3Server) -> None:
    target = StorageTarget.parse(
        f"s3://b?endpoint={server.endpoint}", access_key="AK", secret_key="SK", session_token="TOKEN"
    )
    seen: list[str] = []
    with provider.open(target) as session:
        session.client.meta.events.register(
            "before-send.s3.HeadBucket",
            lambda request, **_: seen.append(request.headers.get("X-Amz-Security-Token", b"").decode()),
        )
        with pytest.raises(StorageError):
            session.head_bucket()
    assert seen and seen[0] == "TOKEN"


# -- StorageConfig ---------------------------------------------------------------------------


def test_storage_config() -> None:
    models = pytest.importorskip("rtcsnap.models")
    if not hasattr(models, "StorageConfig"):
        pytest.skip("rtcsnap.models not there yet")
    target = StorageTarget.parse(
        "s3://snap-bucket/p?region=eu-west-1", access_key="AKIA1", secret_key="S3CRET"
    )
    config = S3Provider().storage_config(target)
    assert isinstance(config, models.StorageConfig)
    assert config.to_wire() == {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 0,
            "Region": 4,
            "Bucket": "snap-bucket",
            "AccessKey": "AKIA1",
            "SecretKey": "S3CRET",
        },
    }
    assert "S3CRET" not in repr(config)


def test_storage_config_needs_region_credentials_and_no_token() -> None:
    pytest.importorskip("rtcsnap.models")
    p = S3Provider()
    with pytest.raises(ConfigurationError, match="region"):
        p.storage_config(StorageTarget.parse("s3://b", access_key="AK", secret_key="SK"))
    with pytest.raises(ConfigurationError, match="credentials"):
        p.storage_config(StorageTarget.parse("s3://b?region=us-east-1"))
    with pytest.raises(ConfigurationError, match="session token"):
        p.storage_config(
            StorageTarget.parse(
                "s3://b?region=us-east-1", access_key="AK", secret_key="SK", session_token="T"
            )
        )
    with pytest.raises(ValidationError, match="unknown s3 region"):
        p.storage_config(StorageTarget.parse("s3://b?region=mars-1", access_key="AK", secret_key="SK"))


def test_credentials_of_repr_hides_secret() -> None:
    assert "SK" not in repr(Credentials.of("AK", "SK"))
