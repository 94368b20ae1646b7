"""S3Provider metadata, registration, target options, credential chain and StorageConfig."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pluggy
import pytest
import rtcsnap_s3
from botocore.exceptions import EndpointConnectionError
from rtcsnap import checksums, hookspecs
from rtcsnap.errors import ConfigurationError, Reason, StorageError, UnknownProviderError, ValidationError
from rtcsnap.models import StorageConfig
from rtcsnap.providers.contract import Capabilities, Provider
from rtcsnap.providers.manager import GROUP, ProviderManager
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
    assert p.capabilities == Capabilities(
        list=True,
        delete=True,
        upload=True,
        checksums=("md5", "md5-multipart", "crc64nvme", "crc32c", "crc32", "sha256", "sha1"),
    )
    assert set(p.capabilities.checksums) <= set(checksums.known()), "core can run every one it names"
    assert set(p.options) == {"addressing"} and p.description


def test_hook_registers_exactly_the_provider() -> None:
    """The module-level hook carries rtcsnap's marker (so pluggy calls it) and registers S3Provider."""
    collected: list[type[Provider]] = []
    rtcsnap_register_providers(register=collected.append)
    assert collected == [S3Provider]
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(rtcsnap_s3, name="s3")
    pm.check_pending()  # every hookimpl of the module matches a spec
    assert [i.plugin for i in pm.hook.rtcsnap_register_providers.get_hookimpls()] == [rtcsnap_s3]


def test_registered_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovered from the installed rtcsnap-s3 distribution's metadata, not imported by core."""
    for var in ("RTCSNAP_LOAD_PLUGINS", "RTCSNAP_DISABLE_PLUGINS", "RTCSNAP_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    (ep,) = [
        e for e in metadata.entry_points(group=GROUP) if e.dist is not None and e.dist.name == "rtcsnap-s3"
    ]
    assert (ep.name, ep.value) == ("s3", "rtcsnap_s3")
    assert ep.load() is rtcsnap_s3

    only_that = ProviderManager()
    only_that.load_entry_points([ep])
    assert only_that.errors == []
    (entry,) = only_that.entries()
    assert (entry.provider, entry.plugin, entry.distribution) == (S3Provider, "s3", "rtcsnap-s3")
    assert entry.version == metadata.version("rtcsnap-s3")
    assert type(only_that.get("s3")) is S3Provider and type(only_that.for_scheme("s3")) is S3Provider

    everything = ProviderManager()
    everything.load_entry_points()
    s3_entries = [e for e in everything.entries() if e.provider is S3Provider]
    assert [(e.plugin, e.distribution) for e in s3_entries] == [("s3", "rtcsnap-s3")]

    for blocked in ("s3", "rtcsnap-s3"):  # by entry-point name or by distribution name
        monkeypatch.setenv("RTCSNAP_DISABLE_PLUGINS", blocked)
        without = ProviderManager()
        without.load_entry_points()
        assert all(e.provider is not S3Provider for e in without.entries())
        with pytest.raises(UnknownProviderError):
            without.get("s3")


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
    session = S3Provider().open(target)  # typed S3Session (Session.__enter__ is not Self)
    with session:

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
    session = S3Provider().open(target)  # typed S3Session (Session.__enter__ is not Self)
    with session:

        def stop(request: object, **_: object) -> None:
            urls.append(str(getattr(request, "url", "")))
            raise EndpointConnectionError(endpoint_url="stop here")

        session.client.meta.events.register("before-send.s3.GetObject", stop)
        with pytest.raises(StorageError):
            session.get("k.jpg")
    assert urls == ["https://my-bucket.s3.eu-west-1.amazonaws.com/k.jpg"]


def test_auto_addressing_is_path_style_for_an_ip(
    provider: S3Provider, make_target: Callable[..., StorageTarget], server: LocalS3Server
) -> None:
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
    session = provider.open(target)  # typed S3Session (Session.__enter__ is not Self)
    with session:
        session.client.meta.events.register(
            "before-send.s3.HeadBucket",
            lambda request, **_: seen.append(request.headers.get("X-Amz-Security-Token", b"").decode()),
        )
        with pytest.raises(StorageError):
            session.head_bucket()
    assert seen and seen[0] == "TOKEN"


# -- StorageConfig ---------------------------------------------------------------------------


def test_storage_config() -> None:
    target = StorageTarget.parse(
        "s3://snap-bucket/p?region=eu-west-1", access_key="AKIA1", secret_key="S3CRET"
    )
    config = S3Provider().storage_config(target)
    assert isinstance(config, StorageConfig)
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
