"""Shared helpers of the emulator tests: request bodies, the official SDK signer, answer accessors."""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import httpx

APP = "app-1"
ROOM = "room-1"
TASK = "task-1"


def start_body(**overrides: Any) -> dict[str, Any]:
    """A valid StartSnapshot body (TOS storage); keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "AppId": APP,
        "RoomId": ROOM,
        "TaskId": TASK,
        "StorageConfig": {"Type": 0, "TosConfig": {"AccountId": "2000000000", "Bucket": "snaps"}},
    }
    body.update(copy.deepcopy(overrides))
    return {k: v for k, v in body.items() if v is not None}


def task_body(**overrides: Any) -> dict[str, Any]:
    """An Update/StopSnapshot body."""
    body: dict[str, Any] = {"AppId": APP, "RoomId": ROOM, "TaskId": TASK, **overrides}
    return {k: v for k, v in body.items() if v is not None}


def error(resp: httpx.Response) -> dict[str, Any]:
    """ResponseMetadata.Error of an answer (fails the test if there is none)."""
    err: dict[str, Any] = resp.json()["ResponseMetadata"]["Error"]
    return err


def code(resp: httpx.Response) -> str:
    """Error.Code, or "OK" for an answer without Error."""
    meta = resp.json()["ResponseMetadata"]
    return str(meta["Error"]["Code"]) if "Error" in meta else "OK"


def official_headers(
    method: str,
    host: str,
    query: dict[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    *,
    region: str = "cn-north-1",
    session_token: str = "",
    now: datetime | None = None,
) -> dict[str, str]:
    """Headers signed by the official `volcengine` SDK (SignerV4.sign_only), as sdk-lab §6 shows."""
    from volcengine.auth.SignerV4 import SignerV4
    from volcengine.auth.SignParam import SignParam
    from volcengine.Credentials import Credentials

    headers: OrderedDict[str, str] = OrderedDict(Host=host)
    if method == "POST":
        headers["Content-Type"] = "application/json"
    param = SignParam()
    param.set_method(method)
    param.set_host(host)
    param.set_path("/")
    param.set_query(OrderedDict(query))
    param.set_body(body)
    param.set_header_list(headers)
    param.set_date(now or datetime.now(UTC))
    result = SignerV4.sign_only(param, Credentials(access_key, secret_key, "rtc", region, session_token))
    out = {k: v for k, v in headers.items() if k != "Host"}  # httpx sends Host itself
    out.update({"X-Date": result.xdate, "X-Content-Sha256": result.xContextSha256})
    out["Authorization"] = result.authorization
    if session_token:
        out["X-Security-Token"] = session_token
    return out
