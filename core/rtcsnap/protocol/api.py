"""Facts about the snapshot OpenAPI itself: actions, methods, versions, quotas, endpoints.

Shared by the client and the emulator so both read the same table. The per-action reading of the
QPS quotas is an assumption (docs/assumptions.md A11): each API page states its own limit, the
account-wide scope comes from spec §1.1.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcsnap.models import ApiVersion

SERVICE = "rtc"
VERSIONS = tuple(v.value for v in ApiVersion)


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    qps: int


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("StartSnapshot", "POST", 150),
        Action("UpdateSnapshot", "POST", 150),
        Action("StopSnapshot", "POST", 150),
        Action("GetSnapshotTask", "GET", 60),
    )
}


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str


ENDPOINTS: dict[str, Endpoint] = {
    "cn": Endpoint("https://rtc.volcengineapi.com", "cn-north-1"),
    # signing region for the overseas host: Go SDK says ap-singapore-1, a doc says ap-southeast-1 (spec §9 #5, A12)
    "overseas": Endpoint("https://open-ap-singapore-1.volcengineapi.com", "ap-singapore-1"),
    "byteplus": Endpoint("https://open.byteplusapi.com", "ap-singapore-1"),
}

# 2023-11-01 answers a duplicate StartSnapshot with a Result message instead of an error (spec §1.2)
DUPLICATE_START_RESULT = "The task has been started. Please do not call the startup task interface repeatedly"

__all__ = ["ACTIONS", "DUPLICATE_START_RESULT", "ENDPOINTS", "SERVICE", "VERSIONS", "Action", "Endpoint"]
