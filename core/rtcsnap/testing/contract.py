"""The provider contract suite: one set of tests every provider runs.

Use it from a provider package's tests::

    from rtcsnap.testing.contract import ContractEnv, ProviderContract

    class TestMyProvider(ProviderContract):
        @pytest.fixture
        def contract_env(self, local_s3) -> ContractEnv:
            return ContractEnv(provider=MyProvider, make_target=..., ...)

Every test talks to a real server over HTTP through `rtcsnap.storage`, the same code path the
CLI uses. The suite follows the provider's `Capabilities`: listing tests skip without ``list``,
objects are seeded through `ContractEnv.seed` when the provider cannot upload, and verify's
expected rows are what those capabilities allow. Tests that need server-side fault injection
(checksum mismatch, transient errors) are skipped when `ContractEnv.faults` is None; those
needing a checksum are skipped when the provider declares none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.contract import ObjectInfo, ObjectStream, Page, Provider, Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.regions import lookup
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import Fetcher, download, fetch, iter_objects, upload, verify
from rtcsnap.storage.destination import RESERVED
from rtcsnap.storage.listing import iter_session
from rtcsnap.storage.transfer import ProgressEvent
from rtcsnap.target import StorageTarget


class Faults(Protocol):
    """What the suite needs from a server-side fault injector (see `rtcsnap.testing.faults`)."""

    def fail(
        self, method: str, key_substring: str, status: int = 503, times: int = 1, code: str = "SlowDown"
    ) -> None: ...
    def corrupt(self, key_substring: str) -> None: ...
    def clear(self) -> None: ...
    def count(self, method: str = "*", key_substring: str = "") -> int: ...


@dataclass
class ContractEnv:
    provider: type[Provider]
    make_target: Callable[[], StorageTarget]
    """A good target on a freshly created, empty bucket (with credentials)."""
    bad_secret: Callable[[StorageTarget], StorageTarget]
    """The same target with the right access key and a wrong secret."""
    unknown_key: Callable[[StorageTarget], StorageTarget]
    """The same target with an access key the server does not know."""
    missing_bucket: Callable[[StorageTarget], StorageTarget]
    """The same target pointed at a bucket that does not exist."""
    faults: Faults | None = None
    seed: Callable[[StorageTarget, str, bytes], None] | None = None
    """Put one object server-side (for providers without ``upload``); default: `rtcsnap.upload`."""
    expected_storage_config: Callable[[StorageTarget], dict[str, Any]] | None = None
    """The exact StorageConfig wire dict expected for a target (secrets revealed)."""
    manager: ProviderManager = field(default_factory=ProviderManager)

    def __post_init__(self) -> None:
        if not any(e.provider is self.provider for e in self.manager.entries()):
            self.manager.register_provider(self.provider)


FAST = RetryPolicy(attempts=4, base=0.001, cap=0.01)


def _body(i: int, size: int = 1500) -> bytes:
    seed = hashlib.sha256(str(i).encode()).digest()
    return (seed * (size // len(seed) + 1))[: size + i]


class _CountingSession(Session):
    """Delegates to a real session and counts list calls (laziness is about calls, not time)."""

    def __init__(self, inner: Session) -> None:
        super().__init__(inner.provider, inner.target)
        self.inner = inner
        self.list_calls = 0

    def head_bucket(self) -> None:
        self.inner.head_bucket()

    def put(self, key: str, data: Any, content_type: str = "application/octet-stream") -> ObjectInfo:
        return self.inner.put(key, data, content_type)

    def get(self, key: str) -> ObjectStream:
        return self.inner.get(key)

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        self.list_calls += 1
        return self.inner.list_page(prefix, cursor, limit)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def close(self) -> None:
        self.inner.close()


class ProviderContract:
    """Subclass and provide a `contract_env` fixture; every test below then runs for your provider."""

    @pytest.fixture
    def contract_env(self) -> ContractEnv:
        raise NotImplementedError("define a `contract_env` fixture returning a ContractEnv")

    @pytest.fixture
    def env(self, contract_env: ContractEnv) -> Iterator[ContractEnv]:
        yield contract_env
        if contract_env.faults is not None:
            contract_env.faults.clear()

    @pytest.fixture
    def target(self, env: ContractEnv) -> StorageTarget:
        return env.make_target()

    def _seed(
        self, env: ContractEnv, target: StorageTarget, n: int, prefix: str = "snaps/"
    ) -> dict[str, bytes]:
        objects = {target.key(f"{prefix}{i:04d}.jpg"): _body(i) for i in range(n)}
        for key, data in objects.items():
            if env.seed is not None:
                env.seed(target, key, data)
            elif env.provider.capabilities.upload:
                upload(target, key, data, content_type="image/jpeg", manager=env.manager, retry=FAST)
            else:
                pytest.fail("the provider cannot upload: give ContractEnv a `seed` function")
        return objects

    @staticmethod
    def _needs_list(env: ContractEnv) -> None:
        if not env.provider.capabilities.list:
            pytest.skip("provider cannot list")

    # -- StorageConfig ------------------------------------------------------------------------

    def test_storage_config_payload(self, env: ContractEnv, target: StorageTarget) -> None:
        """The exact sub-config of the provider's Type, field by field (spec §3.3)."""
        provider = env.manager.get(env.provider.name)
        resolved = provider.resolve(target)
        wire = provider.storage_config(resolved).to_wire()
        assert wire["Type"] == env.provider.storage_type
        sub = {0: "TosConfig", 2: "CustomConfig", 3: "VeImageXConfig"}[env.provider.storage_type]
        assert set(wire) == {"Type", sub}, "exactly the matching sub-config"
        region = 0
        if resolved.region is not None and env.provider.region_table is not None:
            region = lookup(env.provider.region_table, resolved.region).code
        expected: dict[str, Any]
        if env.provider.storage_type == 2:
            creds = resolved.credentials
            assert creds is not None
            expected = {
                "Vendor": env.provider.vendor,
                "Region": region,
                "Bucket": resolved.bucket,
                "AccessKey": creds.access_key,
                "SecretKey": creds.secret_key.get_secret_value(),
            }
        else:
            name = "Bucket" if env.provider.storage_type == 0 else "ServiceId"
            expected = {
                "AccountId": provider.field(resolved, "account_id"),
                name: resolved.bucket,
                "Region": region,
            }
        assert wire[sub] == expected
        if env.expected_storage_config is not None:
            assert wire == env.expected_storage_config(target)

    # -- verify ---------------------------------------------------------------------------------

    def test_verify_good_credentials(self, env: ContractEnv, target: StorageTarget) -> None:
        caps = env.provider.capabilities
        report = verify(target, manager=env.manager, retry=FAST)
        delete = ("ok" if caps.delete else "unsupported") if caps.upload else "skipped"
        expected = {
            "reachable": "ok",
            "write": "ok" if caps.upload else "unsupported",
            "read": "ok",
            "list": "ok" if caps.list else "unsupported",
            "delete": delete,
        }
        assert {p.capability: p.status for p in report.probes} == expected, report.probes
        assert report.fit_for_rtc == caps.upload
        assert report.reason is None
        assert (report.leftover_probe is None) == (caps.delete or not caps.upload)
        if caps.list and caps.delete:
            assert list(iter_objects(target, manager=env.manager)) == [], "the probe object was deleted"

    def test_verify_bad_secret(self, env: ContractEnv, target: StorageTarget) -> None:
        report = verify(env.bad_secret(target), manager=env.manager, retry=FAST)
        assert report.reason == Reason.BAD_SECRET
        assert not report.fit_for_rtc and not report.fit_for_retrieval

    def test_verify_unknown_key(self, env: ContractEnv, target: StorageTarget) -> None:
        report = verify(env.unknown_key(target), manager=env.manager, retry=FAST)
        assert report.reason == Reason.UNKNOWN_ACCESS_KEY
        assert not report.fit_for_rtc

    def test_verify_missing_bucket(self, env: ContractEnv, target: StorageTarget) -> None:
        report = verify(env.missing_bucket(target), manager=env.manager, retry=FAST)
        assert report.reason == Reason.BUCKET_MISSING
        assert report.probe("reachable").reason == Reason.BUCKET_MISSING

    def test_secret_never_in_errors(self, env: ContractEnv, target: StorageTarget) -> None:
        bad = env.bad_secret(target)
        assert bad.credentials is not None
        secret = bad.credentials.secret_key.get_secret_value()
        report = verify(bad, manager=env.manager, retry=FAST)
        text = repr(report) + repr(bad) + str(bad)
        assert secret not in text

    # -- listing --------------------------------------------------------------------------------

    def test_pagination_across_pages(self, env: ContractEnv, target: StorageTarget) -> None:
        self._needs_list(env)
        objects = self._seed(env, target, 7)
        self._seed(env, target, 1, prefix="other/")
        got = [o.key for o in iter_objects(target, "snaps/", page_size=2, manager=env.manager)]
        assert sorted(got) == sorted(objects), "every object exactly once across 4 pages"
        assert len(got) == len(set(got))
        sizes = {o.key: o.size for o in iter_objects(target, "snaps/", page_size=3, manager=env.manager)}
        assert sizes == {k: len(v) for k, v in objects.items()}

    def test_listing_is_lazy(self, env: ContractEnv, target: StorageTarget) -> None:
        self._needs_list(env)
        self._seed(env, target, 9)
        provider = env.manager.get(env.provider.name)
        with provider.open(provider.resolve(target)) as inner:
            session = _CountingSession(inner)
            it = iter_session(session, target.key("snaps/"), page_size=2)
            first = [next(it) for _ in range(3)]
            assert len(first) == 3
            assert session.list_calls == 2, "two pages fetched for three items, not the whole listing"
            rest = list(it)
            assert len(first) + len(rest) == 9
            assert session.list_calls == 5

    # -- download -------------------------------------------------------------------------------

    def test_download_correct_bytes(self, env: ContractEnv, target: StorageTarget, tmp_path: Path) -> None:
        self._needs_list(env)
        objects = self._seed(env, target, 12)
        report = download(
            target, tmp_path, prefix="snaps/", concurrency=4, page_size=5, manager=env.manager, retry=FAST
        )
        assert report.ok, report.failed
        assert sorted(report.downloaded) == sorted(objects)
        for key, data in objects.items():
            rel = key[len(target.prefix) :].lstrip("/") if target.prefix else key
            assert (tmp_path / rel).read_bytes() == data
        assert _leftover_temps(tmp_path) == []

    def test_download_interrupted_is_atomic_and_rerun_fetches_only_missing(
        self, env: ContractEnv, target: StorageTarget, tmp_path: Path
    ) -> None:
        self._needs_list(env)
        objects = self._seed(env, target, 10)
        seen: list[str] = []

        class Interrupt(Exception):
            pass

        def stop_midway(ev: ProgressEvent) -> None:
            if ev.kind == "bytes":
                seen.append(ev.key)
                if len(set(seen)) > 4:
                    raise Interrupt  # a failure while bytes are being written

        report = download(
            target, tmp_path, concurrency=1, manager=env.manager, retry=FAST, progress=_swallow(stop_midway)
        )
        # the interrupted objects failed, the others completed; nothing partial under a final name
        finals = _finals(tmp_path)
        assert _leftover_temps(tmp_path) == [], "temp files are removed on failure"
        by_rel = {k[len(target.prefix) :].lstrip("/") if target.prefix else k: v for k, v in objects.items()}
        for p in finals:
            assert p.read_bytes() == by_rel[p.relative_to(tmp_path).as_posix()], f"partial file {p}"
        done_first = set(report.downloaded)
        assert 0 < len(done_first) < len(objects)
        again = download(target, tmp_path, concurrency=3, manager=env.manager, retry=FAST)
        assert again.ok
        assert set(again.skipped) == done_first, "complete files are not fetched again"
        assert set(again.downloaded) == set(objects) - done_first
        third = download(target, tmp_path, manager=env.manager, retry=FAST)
        assert third.downloaded == [] and sorted(third.skipped) == sorted(objects)

    def test_download_explicit_keys(self, env: ContractEnv, target: StorageTarget, tmp_path: Path) -> None:
        objects = self._seed(env, target, 3)
        missing = target.key("snaps/nope.jpg")
        report = download(target, tmp_path, keys=[*objects, missing], manager=env.manager, retry=FAST)
        assert sorted(report.downloaded) == sorted(objects)
        assert [(f.key, f.reason) for f in report.failed] == [(missing, Reason.NOT_FOUND)]
        if env.faults is not None:
            env.faults.clear()
        again = download(target, tmp_path, keys=list(objects), manager=env.manager, retry=FAST)
        assert sorted(again.skipped) == sorted(objects)
        if env.faults is not None:
            for key in objects:  # `stat` decided: the re-run opened no GET
                assert env.faults.count("GET", key) == 0, key

    def test_downloads_are_verified_by_a_declared_checksum(
        self, env: ContractEnv, target: StorageTarget, tmp_path: Path
    ) -> None:
        """An object written through the provider carries a checksum the provider declares, and
        the download is checked against it (never silently size-only)."""
        self._needs_list(env)
        declared = env.provider.capabilities.checksums
        if not declared:
            pytest.skip("provider offers no checksum")
        objects = self._seed(env, target, 3)
        used: dict[str, str | None] = {}
        report = download(
            target,
            tmp_path,
            manager=env.manager,
            retry=FAST,
            progress=lambda ev: used.__setitem__(ev.key, ev.checksum) if ev.kind == "done" else None,
        )
        assert report.ok and report.unverified == [] and report.accounted
        assert set(used) == set(objects)
        assert all(algorithm in declared for algorithm in used.values()), used

    def test_checksum_mismatch_detected(
        self, env: ContractEnv, target: StorageTarget, tmp_path: Path
    ) -> None:
        self._needs_list(env)
        if env.faults is None:
            pytest.skip("no fault injector for this provider's server")
        if not env.provider.capabilities.checksums:
            pytest.skip("provider offers no checksum")
        objects = self._seed(env, target, 3)
        victim = sorted(objects)[1]
        env.faults.corrupt(victim)
        report = download(target, tmp_path, manager=env.manager, retry=FAST)
        assert [(f.key, f.reason) for f in report.failed] == [(victim, Reason.CHECKSUM_MISMATCH)]
        assert len(report.downloaded) == 2
        assert victim.rsplit("/", 1)[-1] not in [p.name for p in _finals(tmp_path)]

    def test_transient_errors_are_retried(
        self, env: ContractEnv, target: StorageTarget, tmp_path: Path
    ) -> None:
        """Retried by core's policy, not by the SDK: the SDK must send each request once."""
        self._needs_list(env)
        if env.faults is None:
            pytest.skip("no fault injector for this provider's server")
        objects = self._seed(env, target, 2)
        victim = sorted(objects)[0]
        name = victim.rsplit("/", 1)[-1]
        sleeps: list[float] = []
        policy = RetryPolicy(attempts=3, base=0.001, cap=0.01, sleep=sleeps.append)
        env.faults.clear()
        env.faults.fail("GET", name, status=503, times=2)
        report = download(target, tmp_path / "retried", manager=env.manager, retry=policy, concurrency=1)
        assert report.ok and sorted(report.downloaded) == sorted(objects)
        assert env.faults.count("GET", name) == 3, "1 try + 2 core retries; the SDK sent each request once"
        assert len(sleeps) == 2, "both waits were core's back-off"
        env.faults.clear()
        env.faults.fail("GET", name, status=503, times=1)
        once = download(
            target, tmp_path / "once", manager=env.manager, retry=RetryPolicy(attempts=1), concurrency=1
        )
        assert [f.key for f in once.failed] == [victim]
        assert once.failed[0].reason in (Reason.THROTTLED, Reason.TRANSIENT)
        assert env.faults.count("GET", name) == 1, "with one core attempt the SDK did not retry on its own"

    # -- delete ---------------------------------------------------------------------------------

    def test_fetch_returns_verified_bytes(self, env: ContractEnv, target: StorageTarget) -> None:
        """One object into memory (what moderation and thumbnails read), by download's rule."""
        objects = self._seed(env, target, 2)
        key = sorted(objects)[1]
        got = fetch(target, key, manager=env.manager, retry=FAST)
        assert got.data == objects[key] and got.key == key and got.info.size == len(objects[key])
        assert got.verified == bool(env.provider.capabilities.checksums), got.checksum
        with pytest.raises(StorageError) as missing:
            fetch(target, target.key("snaps/absent.jpg"), manager=env.manager, retry=FAST)
        assert missing.value.reason is Reason.NOT_FOUND
        with pytest.raises(StorageError) as large:
            fetch(target, key, manager=env.manager, retry=FAST, max_bytes=len(objects[key]) - 1)
        assert large.value.reason is Reason.TOO_LARGE

    def test_fetcher_serves_many_threads(self, env: ContractEnv, target: StorageTarget) -> None:
        """Many keys from several threads through reused sessions: every byte right."""
        from concurrent.futures import ThreadPoolExecutor

        objects = self._seed(env, target, 8)
        with Fetcher(target, manager=env.manager, retry=FAST) as fetcher, ThreadPoolExecutor(4) as pool:
            got = dict(zip(objects, pool.map(lambda k: fetcher.fetch(k).data, objects), strict=True))
        assert got == objects

    def test_fetch_never_returns_corrupted_bytes(self, env: ContractEnv, target: StorageTarget) -> None:
        if env.faults is None:
            pytest.skip("no fault injector for this provider's server")
        if not env.provider.capabilities.checksums:
            pytest.skip("provider offers no checksum")
        objects = self._seed(env, target, 1)
        (key,) = objects
        env.faults.corrupt(key.rsplit("/", 1)[-1])
        with pytest.raises(StorageError) as bad:
            fetch(target, key, manager=env.manager, retry=FAST)
        assert bad.value.reason is Reason.CHECKSUM_MISMATCH
        env.faults.clear()
        assert fetch(target, key, manager=env.manager, retry=FAST).data == objects[key]

    def test_delete(self, env: ContractEnv, target: StorageTarget) -> None:
        if not env.provider.capabilities.delete:
            pytest.skip("provider cannot delete")
        objects = self._seed(env, target, 2)
        provider = env.manager.get(env.provider.name)
        gone = sorted(objects)[0]
        with provider.open(provider.resolve(target)) as session:
            session.delete(gone)
            with pytest.raises(StorageError) as err:
                session.get(gone).close()
        assert err.value.reason == Reason.NOT_FOUND
        if env.provider.capabilities.list:
            left = [o.key for o in iter_objects(target, manager=env.manager)]
            assert left == [k for k in sorted(objects) if k != gone]


def _finals(dest: Path) -> list[Path]:
    """The files a download put in place (not rtcsnap's own state)."""
    return [p for p in dest.rglob("*") if p.is_file() and RESERVED not in p.relative_to(dest).parts]


def _leftover_temps(dest: Path) -> list[Path]:
    return [p for p in (dest / RESERVED / "tmp").glob("*")]


def _swallow(fn: Callable[[ProgressEvent], None]) -> Callable[[ProgressEvent], None]:
    """Turn the callback's exception into a storage failure of that key (as a dropped connection)."""

    def cb(ev: ProgressEvent) -> None:
        try:
            fn(ev)
        except Exception as exc:
            raise StorageError(Reason.OTHER, f"interrupted by test: {type(exc).__name__}") from exc

    return cb


__all__ = ["ContractEnv", "Faults", "ProviderContract"]
