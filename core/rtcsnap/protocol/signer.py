"""Volcengine OpenAPI V4 request signing (spec §5.2–§5.4), and its verification.

Hand-written (about 60 lines) rather than taken from the `volcengine` package, whose dependency
pins (pycryptodome<4, protobuf, google, retry<1) are heavy for a client library and whose
service objects are process-wide singletons (sdk-lab §7.8). Tests prove it identical to that
official signer (`SignerV4.sign_only`) and to the vector in spec §5.4.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTH = re.compile(
    r"^HMAC-SHA256 Credential=(?P<ak>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;\-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)

Query = Mapping[str, str | Sequence[str]]


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _q(s: str) -> str:
    return s if _UNRESERVED.fullmatch(s) else quote(s, safe="-_.~")


def canonical_query(query: Query) -> str:
    parts = []
    for key in sorted(query):
        values = query[key]
        for v in [values] if isinstance(values, str) else values:
            parts.append(f"{_q(key)}={_q(v)}")
    return "&".join(parts)


def _signs(name: str) -> bool:
    return name in ("Content-Type", "Content-Md5", "Host") or name.startswith("X-")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


@functools.lru_cache(maxsize=32)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """Derived once per key and day (4 HMACs), as the official SDKs do."""
    key = secret_key.encode()
    for part in (date, region, service, "request"):
        key = _hmac(key, part)
    return key


def _host(value: str) -> str:
    host, _, port = value.partition(":")
    return host if port in ("80", "443") else value


def signature(
    secret_key: str,
    method: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    body: bytes,
    *,
    x_date: str,
    region: str,
    service: str,
    query_string: str | None = None,
    body_hash: str | None = None,
) -> tuple[str, str]:
    """(signed header names, hex signature) over exactly the `headers` given.

    `query_string` is `canonical_query(query)` when the caller already has it (it builds the URL too).
    """
    signed = {k.lower(): (_host(v) if k.lower() == "host" else v).strip() for k, v in headers.items()}
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/-_.~"),
            canonical_query(query) if query_string is None else query_string,
            "".join(f"{k}:{signed[k]}\n" for k in sorted(signed)),
            names,
            body_hash or hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{x_date[:8]}/{region}/{service}/request"
    to_sign = "\n".join([ALGORITHM, x_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _signing_key(secret_key, x_date[:8], region, service)
    return names, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def sign(
    method: str,
    host: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    session_token: str | None = None,
    region: str,
    service: str = "rtc",
    now: datetime | None = None,
    query_string: str | None = None,
) -> dict[str, str]:
    """All request headers, signed: `headers` plus Host, X-Date, X-Content-Sha256, X-Security-Token, Authorization."""
    x_date = now.astimezone(UTC).strftime(DATE_FORMAT) if now else time.strftime(DATE_FORMAT, time.gmtime())
    out = {"Host": host, **headers, "X-Date": x_date, "X-Content-Sha256": hashlib.sha256(body).hexdigest()}
    if session_token:
        out["X-Security-Token"] = session_token
    to_sign = {k: v for k, v in out.items() if _signs(k)}
    names, sig = signature(
        secret_key,
        method,
        path,
        query,
        to_sign,
        body,
        x_date=x_date,
        region=region,
        service=service,
        query_string=query_string,
        body_hash=out["X-Content-Sha256"],
    )
    out["Authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{x_date[:8]}/{region}/{service}/request, SignedHeaders={names}, Signature={sig}"
    )
    return out


@dataclass(frozen=True)
class Authorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization | None:
    m = _AUTH.match(value.strip())
    if m is None:
        return None
    return Authorization(
        m["ak"], m["date"], m["region"], m["service"], tuple(m["signed"].split(";")), m["sig"]
    )


def verify(
    auth: Authorization,
    secret_key: str,
    method: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Recompute the signature over the headers the client says it signed (`headers` case-insensitive)."""
    lower = {k.lower(): v for k, v in headers.items()}
    if any(h not in lower for h in auth.signed_headers) or "x-date" not in lower:
        return False
    x_date = lower["x-date"]
    if x_date[:8] != auth.date:
        return False
    signed = {h: lower[h] for h in auth.signed_headers}
    _, expected = signature(
        secret_key, method, path, query, signed, body, x_date=x_date, region=auth.region, service=auth.service
    )
    return hmac.compare_digest(expected, auth.signature)


__all__ = ["Authorization", "canonical_query", "parse_authorization", "sign", "signature", "verify"]
