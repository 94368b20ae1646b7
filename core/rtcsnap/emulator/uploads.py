"""Where the engine's images go: the task's storage, written through its provider plugin.

RTC writes a Type 2 (`CustomConfig`) bucket with the key in the payload; TOS and veImageX with
the service's own authorization, which an emulator does not have: `StorageRouting.keys` gives it
a key per scheme instead (`--storage-key KIND=AK:SK`), and `endpoints` points a scheme at a local
server (`--storage-endpoint KIND=URL`). Which provider serves a StorageConfig is the provider
registry's answer (`for_storage(Type, Vendor)`), so a third-party plugin is written to exactly
as a shipped one.

A failed put is retried with backoff (`RetryPolicy`); what still fails is written to the backup
folder (if any) and always reported to the caller — an image is never dropped silently.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from rtcsnap import secrets
from rtcsnap.errors import ConfigurationError, RtcSnapError
from rtcsnap.models import StorageConfig
from rtcsnap.providers.contract import ObjectInfo, Provider, Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.target import Credentials, StorageTarget

log = logging.getLogger(__name__)

RetryHook = Callable[[str], None]

VEIMAGEX_TYPE = 3
"""StorageConfig.Type whose callbacks name `VeImageXServiceId` + `VeImageXUri` (spec §7.4); every
other type names `Bucket` + `ObjectKey`."""


@dataclass(frozen=True)
class StorageRouting:
    """How the emulator reaches each storage scheme: endpoint overrides and service keys."""

    endpoints: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """scheme -> endpoint URL of a local server. A scheme not named goes to its real endpoint."""
    keys: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    """scheme -> (access key, secret key) for storages RTC writes with its own authorization."""

    @classmethod
    def parse(
        cls, endpoints: list[str] | tuple[str, ...], keys: list[str] | tuple[str, ...]
    ) -> StorageRouting:
        """From ``KIND=URL`` and ``KIND=AK:SK`` strings (the CLI's repeatable options)."""
        ends: dict[str, str] = {}
        for item in endpoints:
            kind, sep, url = item.partition("=")
            if not sep or not kind or not url.startswith(("http://", "https://")):
                raise ConfigurationError(f"--storage-endpoint {item!r}: expected KIND=http(s)://HOST:PORT")
            ends[kind.strip()] = url.strip()
        pairs: dict[str, tuple[str, str]] = {}
        for item in keys:
            kind, sep, pair = item.partition("=")
            ak, colon, sk = pair.partition(":")
            if not sep or not kind or not colon or not ak or not sk:
                raise ConfigurationError("--storage-key: expected KIND=AK:SK")
            pairs[kind.strip()] = (ak, sk)
        for ak, sk in pairs.values():
            Credentials.of(ak, sk)  # registers the secret for redaction
        return cls(MappingProxyType(ends), MappingProxyType(pairs))


@dataclass(frozen=True)
class Destination:
    """A task's storage, resolved once at task start."""

    provider: Provider
    target: StorageTarget
    storage_type: int
    location: str
    """What the callback names: the bucket, or the veImageX service id."""

    @property
    def veimagex(self) -> bool:
        return self.storage_type == VEIMAGEX_TYPE


class Sink(Protocol):
    """What the engine uploads through; `Uploader` for storage, `NullSink` for benchmarks."""

    def destination(self, config: StorageConfig) -> Destination: ...

    def put(
        self,
        dest: Destination,
        key: str,
        data: bytes,
        content_type: str,
        *,
        on_retry: RetryHook | None = None,
    ) -> ObjectInfo: ...

    def close(self) -> None: ...


class Uploader:
    """Puts through provider sessions: one per worker thread and destination, or one shared by
    all threads where the provider declares its sessions thread-safe."""

    def __init__(
        self,
        routing: StorageRouting | None = None,
        *,
        retry: RetryPolicy | None = None,
        manager: ProviderManager | None = None,
    ) -> None:
        self.routing = routing or StorageRouting()
        self.retry = retry or RetryPolicy(attempts=4, base=0.25, cap=2.0)
        self._manager = manager
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shared: dict[int, Session] = {}
        self._all: list[Session] = []

    def destination(self, config: StorageConfig) -> Destination:
        """The provider and target a StartSnapshot StorageConfig writes to (ConfigurationError if
        no installed provider serves it)."""
        manager = self._manager or ProviderManager.default()
        vendor = config.custom_config.vendor if config.custom_config is not None else None
        provider = manager.for_storage(int(config.type), None if vendor is None else int(vendor))
        target = provider.target_for(config)
        scheme = provider.scheme
        changes: dict[str, Any] = {}
        if scheme in self.routing.endpoints:
            changes["endpoint"] = self.routing.endpoints[scheme]
        if scheme in self.routing.keys:
            changes["credentials"] = Credentials.of(
                *self.routing.keys[scheme], source="emulator --storage-key"
            )
        target = provider.resolve(dataclasses.replace(target, **changes))
        location = target.bucket
        return Destination(provider, target, int(config.type), location)

    def _session(self, dest: Destination) -> Session:
        ident = id(dest)
        if dest.provider.thread_safe_sessions:
            with self._lock:
                session = self._shared.get(ident)
                if session is None:
                    session = self._shared[ident] = dest.provider.open(dest.target)
                    self._all.append(session)
                return session
        sessions: dict[int, Session] = self._local.__dict__.setdefault("sessions", {})
        session = sessions.get(ident)
        if session is None:
            session = sessions[ident] = dest.provider.open(dest.target)
            with self._lock:
                self._all.append(session)
        return session

    def put(
        self,
        dest: Destination,
        key: str,
        data: bytes,
        content_type: str,
        *,
        on_retry: RetryHook | None = None,
    ) -> ObjectInfo:
        """Store `data` at `key`, retried on retryable failures (`on_retry` gets each failure's
        description); raises the last error."""
        session = self._session(dest)
        hook = None if on_retry is None else (lambda n, exc: on_retry(describe_failure(exc)))
        return self.retry.call(lambda: session.put(key, data, content_type), hook)

    def close(self) -> None:
        with self._lock:
            sessions, self._all = self._all, []
            self._shared.clear()
        for session in sessions:
            try:
                session.close()
            except Exception:  # closing is best effort; the process may be going away
                log.debug("closing a storage session failed", exc_info=True)


class NullSink:
    """Accepts every image and stores nothing: measures the engine without a storage server."""

    def destination(self, config: StorageConfig) -> Destination:
        return Destination(_NullProvider(), StorageTarget("null", "null"), int(config.type), "null")

    def put(
        self,
        dest: Destination,
        key: str,
        data: bytes,
        content_type: str,
        *,
        on_retry: RetryHook | None = None,
    ) -> ObjectInfo:
        return ObjectInfo(key, len(data))

    def close(self) -> None:
        pass


class _NullProvider(Provider):
    name = scheme = "null"

    def storage_config(self, target: StorageTarget) -> Any:  # pragma: no cover - never asked
        raise NotImplementedError

    def open(self, target: StorageTarget) -> Session:  # pragma: no cover - never asked
        raise NotImplementedError


def write_backup(root: Path, key: str, data: bytes) -> Path:
    """Keep an image that could not be uploaded at ``root/key`` (atomically; the key's folders
    become folders). Keys are the engine's own template output, so they are relative paths; any
    ``..`` or absolute part is refused rather than written outside `root`."""
    parts = [p for p in key.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise ValueError(f"backup: object key {key!r} cannot be a path under the backup folder")
    path = root.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def describe_failure(exc: BaseException) -> str:
    """One line for a status report or a log, redacted."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, RtcSnapError):
        text = f"{type(exc).__name__}: {text}"
    return secrets.redact(text)


__all__ = [
    "VEIMAGEX_TYPE",
    "Destination",
    "NullSink",
    "Sink",
    "StorageRouting",
    "Uploader",
    "describe_failure",
    "write_backup",
]
