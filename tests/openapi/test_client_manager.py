"""The provider manager a client is given is the one it uses: to resolve `start(storage=…)`, to
build the StorageConfig, to find the provider of a `storage_config=` it verifies, and to verify.

The provider here serves a scheme (``injected://``) that no installed plugin knows, so a client
that consulted the shared manager (`ProviderManager.default()`) instead would fail; the tests
show that too. Its sessions are in memory and record what they are asked, so a verification
through it is observable without any network.
"""

from __future__ import annotations

from typing import Any

import pytest
from rtcsnap import errors as e
from rtcsnap.emulator import Emulator
from rtcsnap.models import CustomConfig, StorageConfig
from rtcsnap.openapi.client import AsyncSnapshotClient, SnapshotClient
from rtcsnap.providers.contract import (
    Capabilities,
    ObjectInfo,
    ObjectStream,
    Page,
    Session,
    ThirdPartyProvider,
)
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.target import StorageTarget

from tests.openapi.conftest import BODY, MakeClient

BUCKET = "from-the-injected-manager"
URL = f"injected://{BUCKET}/rtc?region=us-east-1"
IDS: dict[str, Any] = {"app_id": "app1", "room_id": "room1", "task_id": "task1"}


class InjectedProvider(ThirdPartyProvider):
    """A Type 2 provider (Vendor 0's CustomConfig shape) of a scheme only the test's manager has."""

    name = "injected"
    scheme = "injected"
    vendor = 0
    region_table = "s3"
    capabilities = Capabilities(list=False, delete=False)
    credential_env = ("INJECTED_ACCESS_KEY", "INJECTED_SECRET_KEY")

    def __init__(self) -> None:
        self.configs: list[str] = []
        """URLs of the targets `storage_config` was asked for."""
        self.rebuilt: list[str] = []
        """Buckets of the StorageConfigs `target_for` rebuilt a target from."""
        self.objects: dict[str, bytes] = {}
        """What verification sessions wrote (their probe objects)."""

    def storage_config(self, target: StorageTarget) -> Any:
        self.configs.append(target.url)
        return super().storage_config(target)

    def target_for(self, config: Any) -> StorageTarget:
        self.rebuilt.append(config.custom_config.bucket)
        return super().target_for(config)

    def open(self, target: StorageTarget) -> Session:
        return _MemorySession(self, target)


class _MemorySession(Session):
    def __init__(self, provider: InjectedProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        self.store = provider.objects

    def head_bucket(self) -> None:
        return None

    def put(self, key: str, data: Any, content_type: str = "application/octet-stream") -> ObjectInfo:
        self.store[key] = data if isinstance(data, bytes) else data.read()
        return ObjectInfo(key, len(self.store[key]))

    def get(self, key: str) -> ObjectStream:
        if key not in self.store:
            raise e.StorageError(e.Reason.NOT_FOUND, f"no object {key}", operation="get")
        data = self.store[key]
        return ObjectStream(ObjectInfo(key, len(data)), iter([data]))

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        raise NotImplementedError("the provider cannot list")

    def delete(self, key: str) -> None:
        raise NotImplementedError("the provider cannot delete")


@pytest.fixture
def manager() -> ProviderManager:
    """A fresh manager with only the injected provider: no entry point is ever loaded."""
    mgr = ProviderManager()
    mgr.register_provider(InjectedProvider, plugin="tests")
    return mgr


@pytest.fixture
def empty_default(monkeypatch: pytest.MonkeyPatch) -> ProviderManager:
    """The shared manager replaced by one that knows no provider at all (nothing to fall back on)."""
    empty = ProviderManager()
    monkeypatch.setattr(ProviderManager, "_default", empty)
    return empty


def provider_of(manager: ProviderManager) -> InjectedProvider:
    p = manager.get("injected")
    assert isinstance(p, InjectedProvider)
    return p


def target() -> StorageTarget:
    return StorageTarget.parse(URL, access_key="AKIAINJECTED", secret_key="injected-secret-0123456789")


def started_bucket(emulator: Emulator) -> str:
    (task,) = emulator.registry.tasks()
    custom = task.storage_config.custom_config
    assert custom is not None
    return custom.bucket


@pytest.mark.parametrize("as_url", [False, True], ids=["target", "url"])
def test_the_injected_manager_resolves_the_target_and_builds_the_storage_config(
    make_client: MakeClient,
    manager: ProviderManager,
    emulator: Emulator,
    empty_default: ProviderManager,
    monkeypatch: pytest.MonkeyPatch,
    as_url: bool,
) -> None:
    monkeypatch.setenv("INJECTED_ACCESS_KEY", "AKIAINJECTED")
    monkeypatch.setenv("INJECTED_SECRET_KEY", "injected-secret-0123456789")
    storage: StorageTarget | str = URL if as_url else target()
    client = make_client(manager=manager)
    assert client.manager is manager
    assert client.start(storage=storage, **IDS).outcome == "started"
    assert provider_of(manager).configs == [target().url]
    assert started_bucket(emulator) == BUCKET


def test_without_a_manager_the_shared_one_is_used_and_does_not_know_the_scheme(
    make_client: MakeClient, emulator: Emulator, empty_default: ProviderManager
) -> None:
    client = make_client()
    assert client.manager is empty_default, "None means ProviderManager.default(), looked up on use"
    with pytest.raises(e.UnknownProviderError, match=r"injected://"):
        client.start(storage=target(), **IDS)
    with pytest.raises(e.UnknownProviderError, match="StorageConfig Type=2"):
        client.start(storage_config=_custom_config(), verify_storage=True, **IDS)
    assert emulator.faults.requests["StartSnapshot"] == 0


def test_a_client_does_not_look_up_the_shared_manager_until_it_needs_one(
    make_client: MakeClient, isolated_manager: None
) -> None:
    client = make_client()
    assert ProviderManager._default is None
    client.start(**BODY)  # a StorageConfig given as such, not verified: no provider needed
    assert client.get_task(**IDS).task is not None
    assert ProviderManager._default is None


def test_a_client_given_a_manager_never_consults_the_shared_one(
    make_client: MakeClient, manager: ProviderManager, emulator: Emulator, isolated_manager: None
) -> None:
    """Every storage step — resolving `storage=`, rebuilding a `storage_config=`'s target,
    verifying either — goes through the injected manager: the shared one is never even created."""
    client = make_client(manager=manager)
    client.start(storage=target(), verify_storage=True, **IDS)
    client.start(storage_config=_custom_config(), verify_storage=True, **{**IDS, "task_id": "task2"})
    client.start(storage_config=_custom_config(), verify_storage=target(), **{**IDS, "task_id": "task3"})
    assert ProviderManager._default is None
    assert len(emulator.registry.tasks()) == 3


def test_the_manager_cannot_be_replaced_after_construction(
    make_client: MakeClient, manager: ProviderManager
) -> None:
    client = make_client(manager=manager)
    with pytest.raises(AttributeError):
        client.manager = ProviderManager()  # type: ignore[misc]
    assert client.manager is manager


def test_verification_of_a_storage_target_goes_through_the_injected_manager(
    make_client: MakeClient, manager: ProviderManager, emulator: Emulator, empty_default: ProviderManager
) -> None:
    client = make_client(manager=manager)
    assert client.start(storage=target(), verify_storage=True, **IDS).outcome == "started"
    probes = list(provider_of(manager).objects)
    assert len(probes) == 1 and probes[0].startswith("rtc/.rtcsnap-probe/"), probes
    assert started_bucket(emulator) == BUCKET


def test_a_storage_config_is_verified_through_the_injected_manager(
    make_client: MakeClient, manager: ProviderManager, emulator: Emulator, empty_default: ProviderManager
) -> None:
    """`storage_config=` + `verify_storage=True`: the provider of its (Type, Vendor) rebuilds the
    target, from the injected manager (the shared one here knows nothing and would raise)."""
    client = make_client(manager=manager)
    assert client.start(storage_config=_custom_config(), verify_storage=True, **IDS).outcome == "started"
    injected = provider_of(manager)
    assert injected.rebuilt == [BUCKET]
    assert len(injected.objects) == 1
    assert started_bucket(emulator) == BUCKET


def test_a_failed_verification_through_the_injected_manager_sends_nothing(
    make_client: MakeClient, manager: ProviderManager, emulator: Emulator
) -> None:
    class ReadOnly(InjectedProvider):
        name = scheme = "readonly"
        vendor = 1
        region_table = "oss"
        capabilities = Capabilities(upload=False, list=False, delete=False)

    manager.register_provider(ReadOnly, plugin="tests")
    client = make_client(manager=manager)
    readonly = StorageTarget.parse(
        f"readonly://{BUCKET}?region=cn-hangzhou", access_key="AKIA", secret_key="ro-secret-0123456789"
    )
    with pytest.raises(e.StorageError, match="StartSnapshot not sent") as err:
        client.start(storage=readonly, verify_storage=True, **IDS)
    assert "readonly://" in str(err.value) and err.value.provider == "readonly"
    assert emulator.faults.requests["StartSnapshot"] == 0


async def test_the_async_client_uses_the_injected_manager_too(
    aclient_kwargs: dict[str, Any],
    manager: ProviderManager,
    emulator: Emulator,
    empty_default: ProviderManager,
) -> None:
    async with AsyncSnapshotClient(**aclient_kwargs, manager=manager) as client:
        assert client.manager is manager
        assert (await client.start(storage=target(), verify_storage=True, **IDS)).outcome == "started"
        second = {**IDS, "task_id": "task2"}
        assert (
            await client.start(storage_config=_custom_config(), verify_storage=True, **second)
        ).outcome == "started"
    injected = provider_of(manager)
    assert injected.configs[0] == target().url, "the StorageConfig is built by the injected provider"
    assert injected.rebuilt == [BUCKET]
    assert len(injected.objects) == 2
    configs = [t.storage_config.custom_config for t in emulator.registry.tasks()]
    assert [c.bucket if c is not None else None for c in configs] == [BUCKET, BUCKET]


def test_the_manager_is_a_documented_keyword_of_both_clients() -> None:
    import inspect

    for cls in (SnapshotClient, AsyncSnapshotClient):
        param = inspect.signature(cls).parameters["manager"]
        assert param.kind is param.KEYWORD_ONLY and param.default is None
        assert "manager" in (inspect.getdoc(cls.__init__) or "")


def _custom_config() -> StorageConfig:
    return StorageConfig(
        type=2,
        custom_config=CustomConfig(
            vendor=0,
            region="us-east-1",
            bucket=BUCKET,
            access_key="AKIAINJECTED",
            secret_key="injected-secret-0123456789",
        ),
    )
