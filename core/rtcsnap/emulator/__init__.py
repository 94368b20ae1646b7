"""Local emulator of the Volcengine RTC snapshot OpenAPI (spec §1–§6), for tests and demos.

    emulator = Emulator(EmulatorConfig(keys={"AKLTdemo": "secret"}))
    with EmulatorServer(emulator) as server:
        ...  # point a client at server.url, sign with AKLTdemo/secret, region cn-north-1

Real V4 signature checks and gateway codes, the documented lenient body handling, a task
registry with observers (the seam for a capture engine), fault injection and counters.
"""

from rtcsnap.emulator.app import Emulator
from rtcsnap.emulator.config import AppConfig, Clock, EmulatorConfig, ManualClock
from rtcsnap.emulator.envelope import ApiError
from rtcsnap.emulator.faults import SUCCESS, Faults
from rtcsnap.emulator.registry import (
    StopReason,
    TaskKey,
    TaskNotActiveError,
    TaskObserver,
    TaskRegistry,
    TaskState,
)
from rtcsnap.emulator.server import EmulatorServer, serve

__all__ = [
    "SUCCESS",
    "ApiError",
    "AppConfig",
    "Clock",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "Faults",
    "ManualClock",
    "StopReason",
    "TaskKey",
    "TaskNotActiveError",
    "TaskObserver",
    "TaskRegistry",
    "TaskState",
    "serve",
]
