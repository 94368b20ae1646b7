"""Local emulator of the Volcengine RTC snapshot service (spec §1–§7), for tests and demos.

    emulator = Emulator(EmulatorConfig(keys={"AKLTdemo": "secret"}), rooms=load_rooms(path))
    emulator.attach_engine(Uploader(StorageRouting(endpoints={"s3": url})), callbacks=sender)
    with EmulatorServer(emulator) as server:
        ...  # point a client at server.url, sign with AKLTdemo/secret, region cn-north-1

Real V4 signature checks and gateway codes, the documented lenient body handling, a task
registry with observers, rooms with synthetic or video publishers, the snapshot engine (capture,
scale, encode, upload through the provider plugins, signed callbacks), a control API, fault
injection and counters. Attributes load on first use (PEP 562): the CLI imports
`rtcsnap.emulator.object_keys` without paying for uvicorn, starlette and Pillow.
"""

from typing import TYPE_CHECKING

from rtcsnap._lazy import lazy_attributes

_LAZY = {
    "Emulator": "rtcsnap.emulator.app",
    "AppConfig": "rtcsnap.emulator.config",
    "Clock": "rtcsnap.emulator.config",
    "EmulatorConfig": "rtcsnap.emulator.config",
    "ManualClock": "rtcsnap.emulator.config",
    "ApiError": "rtcsnap.emulator.envelope",
    "SUCCESS": "rtcsnap.emulator.faults",
    "Faults": "rtcsnap.emulator.faults",
    "StopReason": "rtcsnap.emulator.registry",
    "TaskKey": "rtcsnap.emulator.registry",
    "TaskNotActiveError": "rtcsnap.emulator.registry",
    "TaskObserver": "rtcsnap.emulator.registry",
    "TaskRegistry": "rtcsnap.emulator.registry",
    "TaskState": "rtcsnap.emulator.registry",
    "EmulatorServer": "rtcsnap.emulator.server",
    "bind": "rtcsnap.emulator.server",
    "serve": "rtcsnap.emulator.server",
    "EngineConfig": "rtcsnap.emulator.engine",
    "SnapshotEngine": "rtcsnap.emulator.engine",
    "StorageRouting": "rtcsnap.emulator.uploads",
    "Uploader": "rtcsnap.emulator.uploads",
    "NullSink": "rtcsnap.emulator.uploads",
    "KeyTemplate": "rtcsnap.emulator.object_keys",
    "RoomBook": "rtcsnap.emulator.rooms",
    "load_rooms": "rtcsnap.emulator.rooms",
    "CallbackSender": "rtcsnap.emulator.callbacks",
    "Chaos": "rtcsnap.emulator.callbacks",
}

if TYPE_CHECKING:
    from rtcsnap.emulator.app import Emulator
    from rtcsnap.emulator.callbacks import CallbackSender, Chaos
    from rtcsnap.emulator.config import AppConfig, Clock, EmulatorConfig, ManualClock
    from rtcsnap.emulator.engine import EngineConfig, SnapshotEngine
    from rtcsnap.emulator.envelope import ApiError
    from rtcsnap.emulator.faults import SUCCESS, Faults
    from rtcsnap.emulator.object_keys import KeyTemplate
    from rtcsnap.emulator.registry import (
        StopReason,
        TaskKey,
        TaskNotActiveError,
        TaskObserver,
        TaskRegistry,
        TaskState,
    )
    from rtcsnap.emulator.rooms import RoomBook, load_rooms
    from rtcsnap.emulator.server import EmulatorServer, bind, serve
    from rtcsnap.emulator.uploads import NullSink, StorageRouting, Uploader

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "SUCCESS",
    "ApiError",
    "AppConfig",
    "CallbackSender",
    "Chaos",
    "Clock",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EngineConfig",
    "Faults",
    "KeyTemplate",
    "ManualClock",
    "NullSink",
    "RoomBook",
    "SnapshotEngine",
    "StopReason",
    "StorageRouting",
    "TaskKey",
    "TaskNotActiveError",
    "TaskObserver",
    "TaskRegistry",
    "TaskState",
    "Uploader",
    "bind",
    "load_rooms",
    "serve",
]
