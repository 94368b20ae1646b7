"""Credential and bucket probes, reported per capability with a classified reason.

Two different keys matter (spec §3.3.4, anchors §2.4): the key handed to RTC needs *write*
only — Volcengine advises against giving it read — while the key rtcsnap lists and downloads
with needs *read* and *list*. So every capability is probed on its own and the report says
which use the key is fit for, instead of one pass/fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.contract import Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage.resolve import TargetLike, resolve

PROBE_DIR = ".rtcsnap-probe"

# After these, every further probe would fail the same way: stop and mark the rest skipped.
_FATAL = frozenset(
    {
        Reason.BUCKET_MISSING,
        Reason.UNKNOWN_ACCESS_KEY,
        Reason.BAD_SECRET,
        Reason.WRONG_REGION,
        Reason.NETWORK,
    }
)
# Most specific first: what the report names as *the* reason when several probes failed.
_PRIORITY = (
    Reason.NETWORK,
    Reason.WRONG_REGION,
    Reason.UNKNOWN_ACCESS_KEY,
    Reason.BAD_SECRET,
    Reason.BUCKET_MISSING,
    Reason.PERMISSION_DENIED,
    Reason.CHECKSUM_MISMATCH,
    Reason.THROTTLED,
    Reason.TRANSIENT,
    Reason.NOT_FOUND,
    Reason.OTHER,
)

Use = Literal["rtc", "read", "all"]
Status = Literal["ok", "failed", "skipped", "unsupported"]


@dataclass(frozen=True)
class ProbeResult:
    capability: str
    status: Status
    reason: Reason | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class VerifyReport:
    target: str
    provider: str
    probe_key: str
    probes: list[ProbeResult] = field(default_factory=list)
    leftover_probe: str | None = None
    """A probe object we could not delete (no delete permission): remove it by hand."""
    notes: list[str] = field(default_factory=list)

    def probe(self, capability: str) -> ProbeResult:
        for p in self.probes:
            if p.capability == capability:
                return p
        raise KeyError(capability)

    def can(self, capability: str) -> bool:
        return self.probe(capability).ok

    @property
    def fit_for_rtc(self) -> bool:
        """The snapshot service only writes."""
        return self.can("write")

    @property
    def fit_for_retrieval(self) -> bool:
        """Listing and downloading snapshots."""
        return self.can("read") and self.can("list")

    def fit_for(self, use: Use) -> bool:
        if use == "rtc":
            return self.fit_for_rtc
        if use == "read":
            return self.fit_for_retrieval
        return all(p.ok or p.status == "unsupported" for p in self.probes)

    @property
    def reason(self) -> Reason | None:
        """The most telling failure reason, or None if every probe passed."""
        seen = {p.reason for p in self.probes if p.status == "failed" and p.reason is not None}
        return next((r for r in _PRIORITY if r in seen), None)


def verify(
    target: TargetLike,
    *,
    manager: ProviderManager | None = None,
    retry: RetryPolicy | None = None,
) -> VerifyReport:
    """Probe: head bucket → put a probe object → read it back → list → delete it."""
    provider, t = resolve(target, manager)
    policy = retry or RetryPolicy(attempts=3)
    payload = f"rtcsnap verify probe {uuid.uuid4().hex}\n".encode()
    probe_key = t.key(f"{PROBE_DIR}/{uuid.uuid4().hex}.txt")
    report = VerifyReport(target=t.url, provider=provider.name, probe_key=probe_key)
    caps = provider.capabilities
    fatal: StorageError | None = None
    written = False

    def run(capability: str, fn: Callable[[], str]) -> bool:
        nonlocal fatal
        if fatal is not None:
            report.probes.append(
                ProbeResult(capability, "skipped", fatal.reason, f"not tried: {fatal.reason.describe}")
            )
            return False
        try:
            detail = policy.call(fn)
        except StorageError as exc:
            report.probes.append(ProbeResult(capability, "failed", exc.reason, str(exc)))
            if exc.reason in _FATAL:
                fatal = exc
            return False
        report.probes.append(ProbeResult(capability, "ok", None, detail))
        return True

    with provider.open(t) as session:
        run("reachable", lambda: _head(session))
        if caps.upload:
            written = run("write", lambda: _put(session, probe_key, payload))
        else:
            report.probes.append(ProbeResult("write", "unsupported", None, "provider cannot upload"))
        if written:
            run("read", lambda: _read(session, probe_key, payload))
        else:
            run("read", lambda: _read_missing(session, probe_key))
        if caps.list:
            run(
                "list",
                lambda: _list(session, t.key(PROBE_DIR + "/"), probe_key if written else None),
            )
        else:
            report.probes.append(ProbeResult("list", "unsupported", None, "provider cannot list"))
        if not written:
            report.probes.append(
                ProbeResult(
                    "delete",
                    "skipped",
                    fatal.reason if fatal else None,
                    "not tried: no probe object was written",
                )
            )
        elif caps.delete:
            if not run("delete", lambda: _delete(session, probe_key)):
                report.leftover_probe = probe_key
        else:
            report.probes.append(ProbeResult("delete", "unsupported", None, "provider cannot delete"))
            report.leftover_probe = probe_key

    if report.fit_for_rtc and report.can("read"):
        report.notes.append(
            "this key can also read; Volcengine advises giving RTC a write-only key "
            "and using a separate read key for retrieval"
        )
    if report.leftover_probe:
        report.notes.append(f"probe object left behind (no delete permission): {report.leftover_probe}")
    return report


def _head(session: Session) -> str:
    session.head_bucket()
    return "bucket exists and the key is accepted"


def _put(session: Session, key: str, payload: bytes) -> str:
    session.put(key, payload, "text/plain")
    return "wrote the probe object"


def _read(session: Session, key: str, payload: bytes) -> str:
    with session.get(key) as stream:
        got = stream.read()
    if got != payload:
        raise StorageError(
            Reason.CHECKSUM_MISMATCH,
            f"read back {len(got)} bytes that differ from the probe",
            operation="get",
        )
    return "read the probe back intact"


def _read_missing(session: Session, key: str) -> str:
    """Without a probe object, a read permission shows as not_found rather than permission_denied."""
    try:
        with session.get(key) as stream:
            stream.read()
    except StorageError as exc:
        if exc.reason == Reason.NOT_FOUND:
            return "read permitted (probe object absent)"
        raise
    return "read permitted"


def _list(session: Session, prefix: str, expect: str | None) -> str:
    page = session.list_page(prefix, None, 1000)
    if expect is not None and not any(o.key == expect for o in page.items):
        return "listing works (probe not yet visible: eventually consistent store?)"
    return "listing works"


def _delete(session: Session, key: str) -> str:
    session.delete(key)
    return "deleted the probe object"


__all__ = ["ProbeResult", "VerifyReport", "verify"]
