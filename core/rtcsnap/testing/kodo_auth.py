"""Qiniu's credential algorithms, written from their definitions for `LocalKodoServer` to check.

Every Kodo credential is the same primitive, ``urlsafe_b64(hmac_sha1(secret, data))``, over a
different `data` (developer.qiniu.com/kodo/1201/access-token, 1208/upload-token,
1202/download-token; the SDK's ``qiniu/auth.py`` is the reference read, never called):

* management, ``Qiniu <ak>:<sign>``: ``"<METHOD> <path>[?<query>]\\nHost: <host>"``, then
  ``"\\nContent-Type: <type>"`` when there is one, then the ``X-Qiniu-*`` headers (canonical
  names, sorted, ``"\\n<Name>: <value>"`` each), then ``"\\n\\n"``, then the body unless the type
  is absent or ``application/octet-stream``;
* management, the older ``QBox <ak>:<sign>``: ``"<path>[?<query>]\\n"`` plus the body when it
  is ``application/x-www-form-urlencoded``;
* upload token ``<ak>:<sign>:<encodedPolicy>``, signed over the encoded policy (a JSON object
  with ``scope`` = ``bucket`` or ``bucket:key`` and ``deadline`` in Unix seconds);
* private download URL ``<url>?e=<deadline>&token=<ak>:<sign>``, signed over ``<url>?e=<deadline>``
  (``&e=`` when the URL already has a query).

The SDK is the independent oracle: tests prove these functions against its output and against
the vendor's own test vectors (qiniu/python-sdk ``tests/cases/test_auth.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

QINIU_HEADER = "x-qiniu-"
FORM = "application/x-www-form-urlencoded"
OCTET = "application/octet-stream"


def sign(secret: str, data: str | bytes) -> str:
    """``urlsafe_b64(hmac_sha1(secret, data))``: the signature inside every Kodo credential."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), raw, hashlib.sha1).digest()).decode()


def b64decode(text: str) -> bytes:
    """URL-safe base64, padding optional (Qiniu entries and policies come either way)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_header(name: str) -> str:
    """``x-qiniu-date`` → ``X-Qiniu-Date`` (Go's textproto.CanonicalMIMEHeaderKey, which Kodo uses)."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def mac_data(
    method: str,
    path_query: str,
    host: str,
    content_type: str | None,
    headers: Iterable[tuple[str, str]],
    body: bytes,
) -> bytes:
    """What a ``Qiniu`` management signature covers; `headers` are all the request's headers
    (only ``X-Qiniu-<something>`` ones count)."""
    qiniu = sorted(
        (canonical_header(k), v)
        for k, v in headers
        if k.lower().startswith(QINIU_HEADER) and len(k) > len(QINIU_HEADER)
    )
    text = f"{method.upper()} {path_query}\nHost: {host}"
    if content_type:
        text += f"\nContent-Type: {content_type}"
    if qiniu:
        text += "\n" + "\n".join(f"{k}: {v}" for k, v in qiniu)
    data = (text + "\n\n").encode()
    if content_type and content_type != OCTET and body:
        data += body
    return data


def qbox_data(path_query: str, content_type: str | None, body: bytes) -> bytes:
    """What an older ``QBox`` management signature covers."""
    data = f"{path_query}\n".encode()
    if content_type == FORM and body:
        data += body
    return data


@dataclass(frozen=True)
class Credential:
    """A parsed ``Qiniu``/``QBox``/``UpToken`` credential: who claims to sign, and the signature."""

    scheme: str
    access_key: str
    signature: str


def parse_authorization(header: str) -> Credential | None:
    """``Qiniu ak:sign`` or ``QBox ak:sign``; None for anything else."""
    scheme, _, rest = header.strip().partition(" ")
    ak, sep, signature = rest.strip().rpartition(":")
    if scheme not in ("Qiniu", "QBox") or not sep or not ak or not signature:
        return None
    return Credential(scheme, ak, signature)


@dataclass(frozen=True)
class UploadToken:
    access_key: str
    signature: str
    encoded_policy: str
    policy: Mapping[str, Any]

    @property
    def bucket(self) -> str:
        return str(self.policy.get("scope", "")).partition(":")[0]

    @property
    def scoped_key(self) -> str | None:
        """The key of a ``bucket:key`` scope (an overwrite is then allowed), else None."""
        _, sep, key = str(self.policy.get("scope", "")).partition(":")
        return key if sep else None

    def valid_for(self, secret: str) -> bool:
        return hmac.compare_digest(sign(secret, self.encoded_policy), self.signature)


def parse_upload_token(token: str) -> UploadToken | None:
    """``ak:sign:encodedPolicy`` with a JSON-object policy naming a scope; None if malformed."""
    parts = token.strip().split(":")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        policy = json.loads(b64decode(parts[2]))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(policy, dict) or not policy.get("scope"):
        return None
    return UploadToken(parts[0], parts[1], parts[2], policy)


def download_signed_part(url: str) -> tuple[str, str] | None:
    """(the signed ``<url>?e=<deadline>`` part, the ``ak:sign`` token) of a private URL, or None."""
    base, sep, token = url.rpartition("&token=")
    if not sep or "e=" not in base.rpartition("?")[2]:
        return None
    return base, token


def deadline_of(signed: str) -> int | None:
    """The ``e=`` deadline of a signed download URL part."""
    query = signed.rpartition("?")[2]
    values = [p[2:] for p in query.split("&") if p.startswith("e=")]
    return int(values[-1]) if values and values[-1].isdigit() else None


def encode_entry(bucket: str, key: str | None = None) -> str:
    """``urlsafe_b64("bucket:key")``, the resource form rs paths carry."""
    text = bucket if key is None else f"{bucket}:{key}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_entry(entry: str) -> tuple[str, str | None] | None:
    """(bucket, key or None) of an rs entry, or None if it is not one."""
    try:
        text = b64decode(entry).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    bucket, sep, key = text.partition(":")
    return (bucket, key if sep else None) if bucket else None


__all__ = [
    "FORM",
    "OCTET",
    "Credential",
    "UploadToken",
    "b64decode",
    "canonical_header",
    "deadline_of",
    "decode_entry",
    "download_signed_part",
    "encode_entry",
    "mac_data",
    "parse_authorization",
    "parse_upload_token",
    "qbox_data",
    "sign",
]
