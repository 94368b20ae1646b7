"""The contract's own rules, with a minimal in-memory provider: what `sdk()`, `check()`, `stat`,
the default `checksum` and provider-declared target fields guarantee to every provider."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any, ClassVar

import pluggy
import pytest
from rtcsnap import ConfigurationError, Reason, StorageError, StorageTarget
from rtcsnap.hookspecs import hookimpl
from rtcsnap.providers.contract import (
    Capabilities,
    Checksum,
    ObjectInfo,
    ObjectStream,
    Page,
    Provider,
    Session,
    TargetField,
)
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.target import Credentials

SECRET = "contract-rules-secret-0123456789"


class Box(Provider):
    name = scheme = "box"
    storage_type = 2
    vendor = 4
    capabilities = Capabilities(checksums=("crc64ecma", "md5"))
    fields: ClassVar[Any] = MappingProxyType(
        {
            "account_id": TargetField(
                "main account id", env="BOX_ACCOUNT_ID", required=True, pattern=r"[0-9]{1,20}", rule="digits"
            ),
            "url_key": TargetField("URL-auth key", env="BOX_URL_KEY", secret=True),
        }
    )

    def storage_config(self, target: StorageTarget) -> Any:
        return None

    def open(self, target: StorageTarget) -> BoxSession:
        return BoxSession(self, target)


class BoxSession(Session):
    sdk_errors: ClassVar[tuple[type[BaseException], ...]] = (LookupError,)
    sdk_exact_errors = (Exception,)
    gets: ClassVar[list[str]] = []

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        return StorageError(Reason.TRANSIENT, f"sdk said {exc}", provider="box", operation=operation)

    def failure(self, result: Any, operation: str, key: str = "") -> StorageError | None:
        if result.get("status", 200) >= 300:
            return StorageError(
                Reason.BAD_SECRET,
                f"{result['status']}: {result['body']}",
                provider="box",
                operation=operation,
            )
        return None

    def head_bucket(self) -> None: ...

    def put(self, key: str, data: Any, content_type: str = "") -> ObjectInfo:
        raise NotImplementedError

    def get(self, key: str) -> ObjectStream:
        BoxSession.gets.append(key)
        return ObjectStream(ObjectInfo(key, 3, "e"), iter([b"abc"]))

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        return Page([], None)

    def delete(self, key: str) -> None: ...


@pytest.fixture
def session() -> Iterator[BoxSession]:
    target = StorageTarget.parse("box://b?account_id=42", access_key="AK", secret_key=SECRET)
    with Box().open(Box().resolve(target)) as s:
        yield s


# -- sdk() and check() -----------------------------------------------------------------------


def test_sdk_passes_an_rtcsnap_error_through_untouched(session: BoxSession) -> None:
    session.sdk_errors = (Exception,)  # type: ignore[misc]  # as wide as volcengine forces: still not re-translated
    own = StorageError(Reason.NOT_FOUND, "the provider's own answer", provider="box")
    with pytest.raises(StorageError) as err, session.sdk("get", "k"):
        raise own
    assert err.value is own and err.value.reason == Reason.NOT_FOUND


def test_sdk_translates_declared_errors_and_exact_ones_only(session: BoxSession) -> None:
    with pytest.raises(StorageError) as sub, session.sdk("get"):
        raise KeyError("a subclass of the declared LookupError")
    assert sub.value.reason == Reason.TRANSIENT
    with pytest.raises(StorageError) as bare, session.sdk("get"):
        raise Exception("what volcengine raises")
    assert bare.value.reason == Reason.TRANSIENT
    with pytest.raises(ZeroDivisionError), session.sdk("get"):
        _ = 1 / 0  # a bug: an Exception subclass not declared, so not an SDK failure


def test_check_raises_a_returned_failure_redacted(session: BoxSession) -> None:
    assert session.check({"status": 200, "body": "ok"}, "get") == {"status": 200, "body": "ok"}
    with pytest.raises(StorageError) as err:
        session.check({"status": 403, "body": f"bad signature for secret {SECRET}"}, "get", "k")
    assert err.value.reason == Reason.BAD_SECRET
    assert SECRET not in str(err.value) and SECRET not in repr(err.value.args)
    assert "***" in str(err.value)


def test_sdk_redacts_what_translate_echoes(session: BoxSession) -> None:
    with pytest.raises(StorageError) as err, session.sdk("get"):
        raise LookupError(f"request signed with {SECRET}")
    assert SECRET not in str(err.value)


# -- stat and checksum defaults ------------------------------------------------------------


def test_default_stat_is_a_closed_get(session: BoxSession) -> None:
    BoxSession.gets.clear()
    info = session.stat("k.jpg")
    assert (info.key, info.size, info.etag) == ("k.jpg", 3, "e")
    assert BoxSession.gets == ["k.jpg"]


def test_default_checksum_takes_the_first_declared_algorithm_present(session: BoxSession) -> None:
    both = ObjectInfo("k", 1, checksums=MappingProxyType({"md5": "aa", "crc64ecma": "12"}))
    assert session.checksum(both) == Checksum("crc64ecma", "12")
    only_md5 = ObjectInfo("k", 1, checksums=MappingProxyType({"md5": "aa", "sha1": "x"}))
    assert session.checksum(only_md5) == Checksum("md5", "aa")
    assert session.checksum(ObjectInfo("k", 1, checksums=MappingProxyType({"sha1": "x"}))) is None


# -- target fields ---------------------------------------------------------------------------


def test_a_plain_field_is_a_validated_url_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOX_ACCOUNT_ID", raising=False)
    t = Box().resolve(StorageTarget.parse("box://b?account_id=2100000000"))
    assert Box().field(t, "account_id") == "2100000000"
    with pytest.raises(ConfigurationError, match=r"'account_id'.*not digits"):
        Box().resolve(StorageTarget.parse("box://b?account_id=12ab"))
    with pytest.raises(ConfigurationError, match=r"'account_id'.*required.*BOX_ACCOUNT_ID"):
        Box().resolve(StorageTarget.parse("box://b"))


def test_fields_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOX_ACCOUNT_ID", "7")
    monkeypatch.setenv("BOX_URL_KEY", "url-auth-key-from-env-0001")
    t = Box().resolve(StorageTarget.parse("box://b", access_key="AK", secret_key=SECRET))
    assert Box().field(t, "account_id") == "7"
    assert Box().field(t, "url_key") == "url-auth-key-from-env-0001"
    assert "url-auth-key-from-env-0001" not in repr(t) + str(t.credentials)
    assert "url_key='**********'" in repr(t.credentials)
    explicit = Box().resolve(StorageTarget.parse("box://b?account_id=9"))
    assert Box().field(explicit, "account_id") == "9", "the URL wins over the environment"


def test_a_secret_field_is_never_taken_from_the_url() -> None:
    with pytest.raises(ConfigurationError, match=r"'url_key': a secret.*BOX_URL_KEY"):
        Box().resolve(StorageTarget.parse("box://b?account_id=1&url_key=leaked"))


def test_extra_secrets_are_redacted_like_the_secret_key() -> None:
    creds = Credentials.of("AK", SECRET).with_extra({"url_key": "second-secret-value-0002"})
    assert creds.redact("x second-secret-value-0002 y") == "x *** y"
    assert "second-secret-value-0002" not in repr(creds)


# -- hooks go through pluggy ---------------------------------------------------------------


def test_registration_goes_through_the_hook_caller() -> None:
    """A hookwrapper (and pluggy's tracing) sees each plugin's registration call."""
    seen: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def rtcsnap_register_providers(self, register: Any) -> Any:
            seen.append("before")
            result = yield
            seen.append("after")
            return result

    class Plugin:
        @hookimpl
        def rtcsnap_register_providers(self, register: Any) -> None:
            register(Box)

    manager = ProviderManager()
    manager.add_plugin(Wrapper(), "wrapper")
    seen.clear()
    manager.add_plugin(Plugin(), "boxes")
    assert seen == ["before", "after"], "the wrapper ran around the other plugin's registration"
    assert manager.get("box").__class__ is Box
    assert isinstance(manager.pm, pluggy.PluginManager)


def test_require_credentials_names_where_the_provider_looks() -> None:
    class Hinted(Box):
        credentials_hint = "set BOX_KEY"

    with pytest.raises(
        ConfigurationError, match=r"^box: no credentials: pass access/secret keys, or set BOX_KEY$"
    ):
        Hinted().open(StorageTarget.parse("box://b")).require_credentials()
    with_keys = Box().open(StorageTarget.parse("box://b", access_key="AK", secret_key=SECRET))
    assert with_keys.require_credentials().access_key == "AK"


def test_a_page_saying_more_without_a_cursor_is_an_error() -> None:
    assert Page.resuming([], "c2", True, "box://b/p", "Marker").next_cursor == "c2"
    assert Page.resuming([], "stale", False, "box://b/p", "Marker").next_cursor is None, "no more: the end"
    with pytest.raises(StorageError, match=r"box://b/p: .*no Marker to resume from") as err:
        Page.resuming([], None, True, "box://b/p", "Marker")
    assert err.value.provider == "box"


def test_default_checksum_falls_back_to_an_md5_etag(session: BoxSession) -> None:
    assert session.checksum(ObjectInfo("k", 1, "0123456789ABCDEF0123456789abcdef")) == Checksum(
        "md5", "0123456789abcdef0123456789abcdef"
    )
    assert session.checksum(ObjectInfo("k", 1, "0123456789abcdef0123456789abcdef-2")) is None, "multipart"
