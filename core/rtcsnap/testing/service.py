"""The whole snapshot service in-process, for end-to-end tests: emulator (OpenAPI + engine +
control API) over HTTP, local storage servers of any kind, and a callback endpoint.

    def test_images(make_snapshot_service):
        svc = make_snapshot_service(rooms=ROOMS, storage=["s3", "tos"], manual=True)
        with svc.client() as client:
            client.start(app_id="app1", room_id="room1", task_id="t1", storage=svc.target("s3"))
        svc.advance(10)                     # ManualClock: ten seconds of schedule, no sleeping
        assert svc.callbacks.wait_for(...)

Storage servers are started once per test session and kind (`storage_pool`); every service gets
fresh buckets on them, so tests never see each other's objects. The emulator writes TOS and
veImageX with the servers' write-only key (`--storage-key`), a CustomConfig with the key in its
payload — the write-only key too, by `target(kind)` — exactly as RTC would.
"""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtcsnap.target import StorageTarget

if TYPE_CHECKING:
    from rtcsnap.emulator import Emulator, EmulatorServer, ManualClock, SnapshotEngine
    from rtcsnap.emulator.engine import EngineConfig
    from rtcsnap.emulator.rooms import RoomSpec
    from rtcsnap.emulator.uploads import Uploader
    from rtcsnap.openapi.client import SnapshotClient
    from rtcsnap.testing.callback_recorder import CallbackRecorder
    from rtcsnap.testing.storage_servers import RunningServer

EMULATOR_KEY = "AKLTservicekey"


class StoragePool:
    """One running server per storage kind, started on first use, stopped at `close`."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._servers: dict[str, RunningServer] = {}

    def get(self, kind: str) -> RunningServer:
        from rtcsnap.testing.storage_servers import open_server

        if kind not in self._servers:
            self._servers[kind] = self._stack.enter_context(open_server(kind))
        return self._servers[kind]

    def close(self) -> None:
        self._stack.close()
        self._servers.clear()


def fresh_bucket(running: RunningServer) -> str:
    """A new bucket on `running` named by its kind's rules (COS: with the APPID suffix)."""
    stem = f"snap{uuid.uuid4().hex[:10]}"
    if running.kind == "cos":
        stem += "-" + running.buckets[0].rsplit("-", 1)[1]
    return running.add_bucket(stem)


@dataclass
class SnapshotService:
    """A running emulator with its engine, storage buckets and callback endpoint."""

    emulator: Emulator
    server: EmulatorServer
    engine: SnapshotEngine
    callbacks: CallbackRecorder | None
    callback_secret: str
    storage: dict[str, RunningServer]
    buckets: dict[str, str]
    uploader: Uploader | None = None
    _closers: list[Any] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def clock(self) -> ManualClock:
        from rtcsnap.emulator import ManualClock

        assert isinstance(self.emulator.clock, ManualClock), "this service runs on the real clock"
        return self.emulator.clock

    def client(self, api_version: str = "2023-11-01", **kwargs: Any) -> SnapshotClient:
        from rtcsnap.openapi.client import SnapshotClient

        secret = self.emulator.config.keys[EMULATOR_KEY]
        return SnapshotClient(EMULATOR_KEY, secret, endpoint=self.url, api_version=api_version, **kwargs)

    def target(self, kind: str, key: str = "write_only") -> StorageTarget:
        """The target of this service's bucket on `kind`, with the server's `key` ("write_only":
        what RTC gets; "admin" or "read_only" to read back)."""
        running = self.storage[kind]
        ak, sk = getattr(running, key)
        return StorageTarget.parse(running.target(self.buckets[kind]), access_key=ak, secret_key=sk)

    def advance(self, seconds: float) -> None:
        self.engine.advance(seconds)

    def settle(self, timeout: float = 30.0) -> bool:
        return self.engine.settle(timeout)

    def publish(self, app_id: str, room_id: str, user_id: str, **kwargs: Any) -> Any:
        return self.emulator.rooms.publish(app_id, room_id, user_id, **kwargs)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()


@contextlib.contextmanager
def snapshot_service(
    pool: StoragePool,
    *,
    rooms: Iterable[RoomSpec] | str | Path = (),
    storage: Iterable[str] = ("s3",),
    manual: bool = True,
    callbacks: bool = True,
    backup_dir: Path | None = None,
    engine: EngineConfig | None = None,
    uploader_class: type[Uploader] | None = None,
    upload_attempts: int = 3,
    routing_extra: Mapping[str, str] | None = None,
) -> Iterator[SnapshotService]:
    """Start a service; `manual` puts the emulator on a `ManualClock` (drive it with
    `advance`), otherwise the engine's scheduler runs on the real clock. `uploader_class` (an
    `Uploader` subclass) lets a test watch or hold the engine's puts."""
    from rtcsnap.emulator import Emulator, EmulatorConfig, EmulatorServer, ManualClock
    from rtcsnap.emulator.callbacks import CallbackSender
    from rtcsnap.emulator.engine import EngineConfig
    from rtcsnap.emulator.rooms import load_rooms
    from rtcsnap.emulator.uploads import StorageRouting, Uploader
    from rtcsnap.retry import RetryPolicy
    from rtcsnap.testing.callback_recorder import CallbackRecorder

    specs = load_rooms(Path(rooms)) if isinstance(rooms, str | Path) else list(rooms)
    running = {kind: pool.get(kind) for kind in storage}
    buckets = {kind: fresh_bucket(r) for kind, r in running.items()}
    endpoints = {kind: r.endpoint for kind, r in running.items()} | dict(routing_extra or {})
    keys = {kind: r.write_only for kind, r in running.items() if kind in ("tos", "veimagex")}
    sink = (uploader_class or Uploader)(
        StorageRouting(endpoints=endpoints, keys=keys),
        retry=RetryPolicy(attempts=upload_attempts, base=0.01, cap=0.05),
    )
    secret = secrets.token_urlsafe(18)
    # A whole second: task start times (int ms) and frame times on the clock are then exact.
    clock = ManualClock(float(int(time.time()))) if manual else None
    emulator = Emulator(
        EmulatorConfig(keys={EMULATOR_KEY: secrets.token_urlsafe(24)}), clock=clock, rooms=specs
    )
    with contextlib.ExitStack() as stack:
        recorder = stack.enter_context(CallbackRecorder()) if callbacks else None
        sender = CallbackSender(recorder.url, secret, retry_delay=0.01) if recorder is not None else None
        config = engine or EngineConfig(backup_dir=backup_dir)
        eng = emulator.attach_engine(sink, callbacks=sender, config=config)
        stack.callback(emulator.close)
        server = stack.enter_context(EmulatorServer(emulator))
        service = SnapshotService(
            emulator,
            server,
            eng,
            recorder,
            secret,
            running,
            buckets,
            sink,
        )
        yield service
        service.close()


__all__ = ["EMULATOR_KEY", "SnapshotService", "StoragePool", "fresh_bucket", "snapshot_service"]
