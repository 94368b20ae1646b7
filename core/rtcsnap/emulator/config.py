"""What an emulator instance knows about its world: keys, apps, policies, quotas, clocks.

Everything the real service decides from account data (console settings, IAM, quotas) is
configured here instead, so a test can put the emulator in any of those states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rtcsnap import secrets
from rtcsnap.clock import Clock, ManualClock
from rtcsnap.protocol import api

MAX_BODY_BYTES = 64 * 1024
"""Largest request body accepted (real bodies are under 4 KiB); larger is 413 RequestEntityTooLarge."""
BODY_TIMEOUT = 10.0
"""Seconds a request body may take to arrive once its head is in; slower is 408 RequestTimeout."""


@dataclass(frozen=True)
class AppConfig:
    """An RTC app as the console knows it.

    `owner` is the access key or the account (see `EmulatorConfig.accounts`) allowed to use the
    app; None lets every key use it.
    """

    owner: str | None = None
    snapshot_enabled: bool = True


@dataclass
class EmulatorConfig:
    """The emulated account data. Only `keys` is required; empty `apps` accepts any AppId.

    Secret keys and session tokens are left out of the repr and registered with
    `rtcsnap.secrets`, so neither a config dump nor a log line can show them.
    """

    keys: dict[str, str] = field(repr=False)
    """Access key -> secret key."""
    region: str = "cn-north-1"
    apps: dict[str, AppConfig] = field(default_factory=dict)
    """AppId -> app. When empty every AppId exists, is enabled and belongs to every key."""
    policies: dict[str, set[str]] = field(default_factory=dict)
    """Access key -> allowed actions. Unlisted keys may call everything; an empty set is LackPolicy."""
    accounts: dict[str, str] = field(default_factory=dict)
    """Access key -> account id (sub-users of one account). Unlisted keys are their own account.
    Quotas are counted per account (spec §1.1), apps are owned by a key or an account."""
    sessions: dict[str, str] = field(default_factory=dict, repr=False)
    """Access key -> STS session token that key must send (signed) as X-Security-Token."""
    qps: dict[str, int] = field(default_factory=dict)
    """Per-action quota overrides; the rest come from `rtcsnap.protocol.api.ACTIONS`."""
    max_clock_skew: float = 900.0
    """Seconds X-Date may differ from the gateway's clock."""
    legacy_200_errors: bool = False
    """Answer 2022-06-01 errors with HTTP 200 + Error (the old documented behaviour, spec §5.5)."""
    task_window_hours: float = 72.0
    """GetSnapshotTask finds only tasks started this recently (spec §6.3)."""
    max_body_bytes: int = MAX_BODY_BYTES
    """Request bodies above this many bytes are refused unread (413) or cut off when streamed."""
    body_timeout: float = BODY_TIMEOUT
    """Seconds the whole request body may take to arrive (a slow-body connection is answered 408)."""

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("EmulatorConfig.keys needs at least one access key")
        secrets.register(*self.keys.values(), *self.sessions.values())
        unknown = (set(self.qps) | {a for s in self.policies.values() for a in s}) - set(api.ACTIONS)
        if unknown:
            raise ValueError(f"unknown action(s) in qps/policies: {sorted(unknown)}")
        if any(q < 0 for q in self.qps.values()):
            raise ValueError("qps must be >= 0")
        if self.max_body_bytes < 1 or not self.body_timeout > 0:
            raise ValueError("max_body_bytes must be >= 1 and body_timeout > 0")

    def quota(self, action: str) -> int:
        return self.qps.get(action, api.ACTIONS[action].qps)

    def account_of(self, access_key: str) -> str:
        return self.accounts.get(access_key, access_key)

    def owns(self, access_key: str, app: AppConfig) -> bool:
        return app.owner is None or app.owner in (access_key, self.account_of(access_key))


__all__ = ["BODY_TIMEOUT", "MAX_BODY_BYTES", "AppConfig", "Clock", "EmulatorConfig", "ManualClock"]
