"""One OpenAPI call as it goes on the wire: built once from a validated request, signed per attempt.

Why apart: building (query and JSON body, from `protocol/api.py`'s method table) and signing
(`protocol/signer.py`) depend on the request and the credentials only, never on how the bytes
are sent, so the sync and async clients and `prepare` (`--dry-run`) share them. A call is signed
again on every attempt, after the rate limiter's wait, so its ``X-Date`` is the one it is sent
at. `Call.attempts` is the one mutable part: the transports count attempts there and mark when
one may have reached the server, which is what the operations' idempotence rules read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rtcsnap.models import ApiVersion
from rtcsnap.models.requests import RequestModel
from rtcsnap.openapi.results import SignedRequest
from rtcsnap.protocol import signer
from rtcsnap.protocol.api import ACTIONS, SERVICE
from rtcsnap.target import Credentials


@dataclass
class Attempts:
    """How a call's attempts went so far (written by the transport, read by the operations)."""

    count: int = 0
    ambiguous: bool = False
    """A previous attempt may have reached the server (transport error / 5xx after sending)."""


@dataclass
class Call:
    """An Action at a Version with its query and body, ready to be signed."""

    action: str
    version: str
    method: str
    query: dict[str, str]
    body: bytes
    request: RequestModel
    attempts: Attempts = field(default_factory=Attempts)


def build_call(action: str, request: RequestModel, version: ApiVersion) -> Call:
    """`request` as `action` sends it: in the query string for a GET, as compact JSON for a POST."""
    query = {"Action": action, "Version": version.value}
    if ACTIONS[action].method == "GET":
        query.update({k: str(v) for k, v in request.to_wire().items()})
        return Call(action, version.value, "GET", query, b"", request)
    body = json.dumps(request.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()
    return Call(action, version.value, "POST", query, body, request)


def sign_call(
    call: Call, *, credentials: Credentials, endpoint: str, host: str, region: str
) -> SignedRequest:
    """`call` signed now (OpenAPI V4) for `host` in `region`, with the URL it is sent to."""
    headers = {"Content-Type": "application/json"} if call.method == "POST" else {}
    qs = signer.canonical_query(call.query)
    signed = signer.sign(
        call.method,
        host,
        "/",
        call.query,
        headers,
        call.body,
        access_key=credentials.access_key,
        secret_key=credentials.secret_key.get_secret_value(),
        session_token=credentials.session_token.get_secret_value() if credentials.session_token else None,
        region=region,
        service=SERVICE,
        query_string=qs,
    )
    return SignedRequest(call.method, f"{endpoint}/?{qs}", signed, call.body, call.request)


__all__ = ["Attempts", "Call", "build_call", "sign_call"]
