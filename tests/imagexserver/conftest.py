"""Shared pieces of the veImageX server tests: every test gets an SDK-proof environment and a fresh service."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from rtcsnap.protocol.signer import canonical_query, sign
from rtcsnap.testing.imagexserver import LocalImageXServer


@pytest.fixture(autouse=True)
def isolated_volc_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The volcengine SDK reads VOLC_ACCESSKEY/VOLC_SECRETKEY and ~/.volc/credentials when a client
    is built; a developer's real keys must neither leak into nor change what these tests prove."""
    for name in list(os.environ):
        if name.startswith("VOLC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def server(local_imagex: LocalImageXServer) -> LocalImageXServer:
    return local_imagex


@pytest.fixture
def sid(server: LocalImageXServer) -> str:
    """A fresh service per test, so tests sharing the session server never see each other's files."""
    return server.create_service()


def sdk_error(exc: BaseException) -> dict[str, Any]:
    """The ``Error`` of the envelope an SDK exception carries: the body as ``str`` for GET actions,
    as ``bytes`` for POST actions (volcengine/base/Service.py)."""
    raw = exc.args[0]
    text = raw.decode() if isinstance(raw, bytes) else raw
    error: dict[str, Any] = json.loads(text)["ResponseMetadata"]["Error"]
    return error


def raw_call(
    server: LocalImageXServer,
    action: str,
    version: str = "2018-08-01",
    query: dict[str, str] | None = None,
    *,
    creds: tuple[str, str] | None = None,
    now: datetime | None = None,
    service: str = "ImageX",
    extra_query: str = "",
) -> requests.Response:
    """A GET signed with rtcsnap's own V4 signer, to see HTTP statuses the SDK hides."""
    q = {"Action": action, "Version": version, **(query or {})}
    ak, sk = creds or server.admin_credentials
    qs = canonical_query(q)
    headers = sign(
        "GET", server.host, "/", q, {}, b"", access_key=ak, secret_key=sk,
        region=server.region, service=service, now=now, query_string=qs,
    )  # fmt: skip
    return requests.get(f"{server.endpoint}/?{qs}{extra_query}", headers=headers, timeout=10)
