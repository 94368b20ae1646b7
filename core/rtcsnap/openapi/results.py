"""What a client call returns: outcomes with their RequestId, and the signed request of a dry run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from rtcsnap.models import SECRET_MASK, SnapshotTask
from rtcsnap.models.requests import RequestModel

_SIGNATURE = re.compile(r"(Signature=)[^,\s]+")
_SECRET_HEADERS = frozenset({"x-security-token"})


@dataclass(frozen=True)
class SignedRequest:
    """Exactly what goes on the wire (for `--dry-run`, logging and tests)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    request: RequestModel | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """Safe for logs: body secrets, the session token and the signature masked.

        The signature is masked too: with the headers it is a replayable credential until X-Date
        expires (15 minutes), and a repr ends up in logs nobody meant to write.
        """
        headers = {k: self._masked_header(k, v, signature=True) for k, v in self.headers.items()}
        return (
            f"SignedRequest(method={self.method!r}, url={self.url!r}, headers={headers!r}, "
            f"body={self._masked_body()!r})"
        )

    __str__ = __repr__

    @staticmethod
    def _masked_header(name: str, value: str, *, signature: bool) -> str:
        if name.lower() in _SECRET_HEADERS:
            return SECRET_MASK
        if signature and name.lower() == "authorization":
            return _SIGNATURE.sub(rf"\g<1>{SECRET_MASK}", value)
        return value

    def _masked_body(self) -> bytes:
        """The body as sent, but with the request's secrets masked (unknown bodies: only their size)."""
        if not self.body:
            return b""
        if self.request is None:
            return f"<{len(self.body)} bytes>".encode()
        wire = self.request.to_wire(mask_secrets=True)
        return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode()

    def to_json(self) -> dict[str, Any]:
        """`describe` as data (``--dry-run --json``): method, URL, headers (the session token
        masked, the signature kept: it is over `body` and the user asked to see it) and the body
        as the request's wire JSON with its secrets masked (None for a GET)."""
        headers = {k: self._masked_header(k, v, signature=False) for k, v in self.headers.items()}
        body = self.request.to_wire(mask_secrets=True) if self.body and self.request is not None else None
        return {"dry_run": True, "method": self.method, "url": self.url, "headers": headers, "body": body}

    def describe(self) -> str:
        """Human dump with every secret masked (body secrets, session token); the signature is over `body`."""
        lines = [f"{self.method} {self.url}"]
        for k, v in self.headers.items():
            lines.append(f"{k}: {self._masked_header(k, v, signature=False)}")
        if self.body and self.request is not None:
            lines += ["", json.dumps(self.request.to_wire(mask_secrets=True), indent=2, ensure_ascii=False)]
        return "\n".join(lines)


@dataclass(frozen=True)
class CallResult:
    request_id: str
    action: str
    version: str
    attempts: int = 1
    result: Any = None


@dataclass(frozen=True)
class StartResult(CallResult):
    outcome: Literal["started", "already_started"] = "started"


@dataclass(frozen=True)
class StopResult(CallResult):
    outcome: Literal["stopped", "already_stopped"] = "stopped"


@dataclass(frozen=True)
class TaskResult(CallResult):
    task: SnapshotTask | None = None


__all__ = ["CallResult", "SignedRequest", "StartResult", "StopResult", "TaskResult"]
