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
from typing import Any, Literal

from rtcsnap.errors import ConfigurationError, Reason, StorageError, ValidationError
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
    rtc_config_error: str | None = None
    """Why this target cannot become a StartSnapshot StorageConfig (e.g. a region RTC does not
    know): then no key makes it fit for RTC, whatever the probes say."""
    write_probed: bool = True
    """False with ``write_probe=False``: fitness for RTC is then unknown, so reported as unfit."""

    def probe(self, capability: str) -> ProbeResult:
        for p in self.probes:
            if p.capability == capability:
                return p
        raise KeyError(capability)

    def can(self, capability: str) -> bool:
        return self.probe(capability).ok

    @property
    def fit_for_rtc(self) -> bool:
        """The snapshot service only writes — to a target a StorageConfig can describe."""
        return self.rtc_config_error is None and self.can("write")

    @property
    def write_only(self) -> bool:
        """The recommended RTC key: it writes, and reading or listing is refused."""
        denied = {
            p.capability for p in self.probes if p.status == "failed" and p.reason == Reason.PERMISSION_DENIED
        }
        return self.can("write") and bool(denied & {"read", "list"}) and not self.can("read")

    def expected_denial(self, probe: ProbeResult) -> bool:
        """A permission_denied that a write-only key is meant to get (not a problem for RTC)."""
        return (
            self.write_only
            and probe.status == "failed"
            and probe.reason == Reason.PERMISSION_DENIED
            and probe.capability in ("reachable", "read", "list", "delete")
        )

    @property
    def fit_for_retrieval(self) -> bool:
        """Listing and downloading snapshots."""
        return self.can("read") and self.can("list")

    def fit_for(self, use: Use) -> bool:
        if use == "rtc":
            return self.fit_for_rtc
        if use == "read":
            return self.fit_for_retrieval
        return self.fit_for_rtc and all(p.ok or p.status == "unsupported" for p in self.probes)

    @property
    def reason(self) -> Reason | None:
        """The most telling failure reason, or None if every probe passed."""
        seen = {p.reason for p in self.probes if p.status == "failed" and p.reason is not None}
        return next((r for r in _PRIORITY if r in seen), None)

    def to_json(self, use: Use = "all") -> dict[str, Any]:
        """The report as `rtcsnap verify --json` prints it (a stable schema, documented there)."""
        reason = self.reason_for(use)
        return {
            "target": self.target,
            "provider": self.provider,
            "probe_key": self.probe_key,
            "probes": [
                {
                    "capability": p.capability,
                    "status": p.status,
                    "reason": p.reason.value if p.reason else None,
                    "detail": p.detail,
                    "expected_denial": self.expected_denial(p),
                }
                for p in self.probes
            ],
            "write_probed": self.write_probed,
            "fit_for_rtc": self.fit_for_rtc if self.write_probed else None,
            "fit_for_retrieval": self.fit_for_retrieval,
            "write_only": self.write_only,
            "use": use,
            "fit": self.fit_for(use),
            "reason": reason.value if reason else None,
            "rtc_config_error": self.rtc_config_error,
            "leftover_probe": self.leftover_probe,
            "notes": list(self.notes),
        }

    def reason_for(self, use: Use) -> Reason | None:
        """Why the key is unfit for `use` (None when it is fit): expected denials don't count."""
        if self.fit_for(use):
            return None
        wanted = {"rtc": ("reachable", "write"), "read": ("reachable", "read", "list")}.get(use)
        seen = {
            p.reason
            for p in self.probes
            if p.status == "failed"
            and p.reason is not None
            and (wanted is None or p.capability in wanted)
            and not (use == "rtc" and self.expected_denial(p))
        }
        return next((r for r in _PRIORITY if r in seen), None)


def probe_key_for(target: TargetLike, manager: ProviderManager | None = None) -> str:
    """Where `verify` would write its probe object (to tell the user before it does)."""
    _, t = resolve(target, manager)
    return t.key(f"{PROBE_DIR}/")


def verify(
    target: TargetLike,
    *,
    manager: ProviderManager | None = None,
    retry: RetryPolicy | None = None,
    write_probe: bool = True,
) -> VerifyReport:
    """Probe: head bucket → put a probe object → read it back → list → delete it.

    With ``write_probe=False`` nothing is written (a write-only key cannot delete its probe, so
    every run would leave one behind); fitness for RTC is then not established.
    """
    provider, t = resolve(target, manager)
    policy = retry or RetryPolicy(attempts=3)
    payload = f"rtcsnap verify probe {uuid.uuid4().hex}\n".encode()
    probe_key = t.key(f"{PROBE_DIR}/{uuid.uuid4().hex}.txt")
    report = VerifyReport(target=t.url, provider=provider.name, probe_key=probe_key)
    report.write_probed = write_probe
    try:
        provider.storage_config(t)
    except (ConfigurationError, ValidationError) as exc:
        report.rtc_config_error = " ".join(str(exc).split())
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
        if not write_probe:
            report.probes.append(ProbeResult("write", "skipped", None, "not tried: write probe disabled"))
        elif caps.upload:
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

    if report.rtc_config_error is not None:
        report.notes.append(f"RTC cannot use this target: {report.rtc_config_error}")
    if provider.rtc_write_path is not None:
        proved = [
            text
            for capability, text in (
                ("reachable", f"the bucket exists{' in ' + t.region if t.region else ''}"),
                ("write", "this key can write"),
                ("read", "read"),
                ("list", "list"),
            )
            if report.probes and any(p.capability == capability and p.ok for p in report.probes)
        ]
        report.notes.append(
            f"RTC writes here with {provider.rtc_write_path}, not with this key: no user key can "
            "prove that write path. Proved instead: " + (", ".join(proved) or "nothing") + "."
        )
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


__all__ = ["PROBE_DIR", "ProbeResult", "VerifyReport", "probe_key_for", "verify"]
