"""What a client call returns: outcomes with their RequestId, and the signed request of a dry run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from rtcsnap.models import SECRET_MASK, SnapshotTask
from rtcsnap.models.requests import RequestModel


@dataclass(frozen=True)
class SignedRequest:
    """Exactly what goes on the wire (for `--dry-run`, logging and tests)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    request: RequestModel | None = field(default=None, repr=False)

    def describe(self) -> str:
        """Human dump with every secret masked (body secrets, session token); the signature is over `body`."""
        lines = [f"{self.method} {self.url}"]
        for k, v in self.headers.items():
            lines.append(f"{k}: {SECRET_MASK if k.lower() == 'x-security-token' else v}")
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
