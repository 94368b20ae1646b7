"""The three services the demo runs on loopback: a storage server, the emulator, the receiver.

They are what a real deployment has — RTC (here the emulator: OpenAPI, capture engine, uploads,
signed callbacks), the customer's bucket (a local server checking that vendor's real
signatures) and the customer's callback endpoint (rtcsnap's receiver over a SQLite index) —
each started in this process or as a child it supervises, and every one stopped by one
`ExitStack`, on success, failure or Ctrl-C alike. The SeaweedFS child (``--storage s3``) also
watches its stdin and exits when this process dies, however it dies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from secrets import token_urlsafe
from typing import TYPE_CHECKING, Any

from rtcsnap.profiles import sections_override
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.target import StorageTarget

if TYPE_CHECKING:
    from rtcsnap.callbacks.hooks import HookRunner
    from rtcsnap.callbacks.receiver import Receiver
    from rtcsnap.emulator import Emulator, SnapshotEngine
    from rtcsnap.emulator.callbacks import CallbackSender
    from rtcsnap.testing.storage_servers import RunningServer

HOOK = "rtcsnap_demo_sections"
APP_ID, ROOM_ID, TASK_ID = "demo_app", "demo_room", "demo_task"
SLIDE = "Questions after the talk?\nWeChat: rtcdemo2026"
"""What bob's screen share shows: a slide advertising an off-platform contact, the kind of thing a
moderation plugin flags (the moderation plugin's demo table enables its contact pack)."""
ROOM = {
    "room": [
        {
            "app_id": APP_ID,
            "room_id": ROOM_ID,
            "user": [
                {"user_id": "alice", "streams": [{"type": 0, "width": 1280, "height": 720}]},
                {
                    "user_id": "bob",
                    "streams": [
                        {"type": 0, "width": 640, "height": 480},
                        {"type": 1, "width": 1920, "height": 1080, "text": SLIDE},
                    ],
                },
            ],
        }
    ]
}
"""Two cameras and one screen share (showing `SLIDE`): what the emulator's synthetic sources show."""
STREAMS = (("alice", 0), ("bob", 0), ("bob", 1))
OPENAPI_KEY = "AKLTdemo"
SERVICE_KEYED = ("tos", "veimagex")
"""Storages RTC writes with its own authorization (`--storage-key`), not a key in the payload."""


@dataclass
class DemoServices:
    """Everything running, with the two keys a user holds: RTC's write key, the retrieval key."""

    storage: RunningServer
    emulator: Emulator
    engine: SnapshotEngine
    sender: CallbackSender
    receiver: Receiver
    hooks: HookRunner
    emulator_url: str
    receiver_url: str
    openapi_secret: str
    rtc_target: StorageTarget
    read_target: StorageTarget


def _target(running: RunningServer, pair: tuple[str, str]) -> StorageTarget:
    return StorageTarget.parse(running.target(), access_key=pair[0], secret_key=pair[1])


@contextlib.contextmanager
def storage_server(kind: str) -> Iterator[RunningServer]:
    """The local server of `kind`, its bucket created, a write-only and a read-only key installed."""
    from rtcsnap.testing.storage_servers import open_server

    with open_server(kind) as running:
        yield running


@contextlib.contextmanager
def demo_services(running: RunningServer, db: Path) -> Iterator[DemoServices]:
    """The emulator (real clock, the demo room) writing to `running`, and the receiver over `db`
    running the installed plugins' snapshot hooks, as ``rtcsnap callbacks serve`` does, with the
    plugins' demo tables (`plugin_sections`) and the read key for their images."""
    from rtcsnap.asgi.server import BackgroundServer
    from rtcsnap.callbacks.hooks import HookRunner
    from rtcsnap.callbacks.images import ImageSource
    from rtcsnap.callbacks.index import SnapshotIndex, database_url
    from rtcsnap.callbacks.receiver import Receiver
    from rtcsnap.emulator import Emulator, EmulatorConfig, EmulatorServer
    from rtcsnap.emulator.callbacks import CallbackSender
    from rtcsnap.emulator.rooms import parse_rooms
    from rtcsnap.emulator.uploads import StorageRouting, Uploader

    callback_secret = token_urlsafe(18)
    openapi_secret = token_urlsafe(24)
    keys = {running.kind: running.write_only} if running.kind in SERVICE_KEYED else {}
    read_target = _target(running, running.read_only)
    with contextlib.ExitStack() as stack:
        manager = ProviderManager.default()
        stack.enter_context(sections_override(plugin_sections(manager)))
        plugins = manager.plugin_manager()
        index = SnapshotIndex(database_url(str(db)))
        stack.callback(index.close)
        images = stack.enter_context(ImageSource(read_target, task_log=None))
        hooks = HookRunner(index, plugins, images=images)
        stack.callback(hooks.close, timeout=5.0)
        receiver = Receiver(index, callback_secret, hooks=hooks)
        stack.callback(receiver.close)
        receiver_server = stack.enter_context(BackgroundServer(receiver))
        receiver_url = receiver_server.url + receiver.path
        sender = CallbackSender(receiver_url, callback_secret, retry_delay=0.2)
        stack.callback(sender.close)
        emulator = Emulator(EmulatorConfig(keys={OPENAPI_KEY: openapi_secret}), rooms=parse_rooms(ROOM))
        engine = emulator.attach_engine(
            Uploader(StorageRouting(endpoints={running.kind: running.endpoint}, keys=keys)),
            callbacks=sender,
        )
        stack.callback(emulator.close)
        server = stack.enter_context(EmulatorServer(emulator))
        yield DemoServices(
            storage=running,
            emulator=emulator,
            engine=engine,
            sender=sender,
            receiver=receiver,
            hooks=hooks,
            emulator_url=server.url,
            receiver_url=receiver_url,
            openapi_secret=openapi_secret,
            rtc_target=_target(running, running.write_only),
            read_target=read_target,
        )


def plugin_sections(manager: ProviderManager) -> dict[str, dict[str, Any]]:
    """Every plugin's `rtcsnap_demo_sections` answer, merged; a table two plugins both answer is
    the first's. A raising plugin, an answer that is not NAME → table, and a clash are each reported
    as the manager reports a plugin's failure (one warning; `RTCSNAP_STRICT_PLUGINS=1`: an error)."""
    merged: dict[str, dict[str, Any]] = {}
    for impl in manager.plugin_manager().hook.rtcsnap_demo_sections.get_hookimpls():
        try:
            answer = impl.function()
        except Exception as exc:
            manager.plugin_failed(impl.plugin_name, f"{HOOK} failed: {type(exc).__name__}: {exc}")
            continue
        if answer is None:
            continue
        if not isinstance(answer, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in answer.items()
        ):
            manager.plugin_failed(impl.plugin_name, f"{HOOK}: not a dict of NAME -> table; ignored")
            continue
        for name, table in answer.items():
            if name in merged:
                manager.plugin_failed(
                    impl.plugin_name, f"{HOOK}: table [plugins.{name}] already given; ignored"
                )
                continue
            merged[name] = table
    return merged


__all__ = [
    "APP_ID",
    "OPENAPI_KEY",
    "ROOM",
    "ROOM_ID",
    "STREAMS",
    "TASK_ID",
    "DemoServices",
    "demo_services",
    "plugin_sections",
]
