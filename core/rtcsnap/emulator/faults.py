"""Fault injection and request counters for tests, driven from the test thread.

    emulator.faults.fail("StartSnapshot", "InternalError", times=2)   # 2 x HTTP 500 / CodeN 100014
    emulator.faults.drop_after_commit("StartSnapshot")                # task starts, response is lost
    assert emulator.faults.count("StartSnapshot", "OK") == 1
    emulator.faults.wait_for(lambda f: f.abandoned["StopSnapshot"] == 1)  # the server got there

`fail` answers before anything else happens (no signature check, no quota, no state change);
`drop_after_commit` lets the request run completely, then loses its response. Each rule applies
to the next `times` requests of its action (None = until `clear`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rtcsnap.emulator.envelope import ApiError
from rtcsnap.protocol import api, codes

SUCCESS = "OK"
"""The outcome recorded for a request answered without Error."""

Kind = Literal["fail", "drop"]


@dataclass
class _Rule:
    kind: Kind
    action: str
    remaining: int | None
    code: str = ""
    message: str = ""


class Faults:
    """Thread-safe rules plus counters of requests by action and by (action, outcome code)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._requests: Counter[str] = Counter()
        self._outcomes: Counter[tuple[str, str]] = Counter()
        self._dropped: Counter[str] = Counter()
        self._abandoned: Counter[str] = Counter()
        self._changed = threading.Condition()

    # ------------------------------------------------------------------ arming

    def fail(self, action: str, code: str, times: int | None = 1, message: str | None = None) -> None:
        """Answer the next `times` `action` requests with catalogue `code` (its status and CodeN)."""
        if code not in codes.ALL:
            raise ValueError(f"{code!r} is not in the error catalogue (rtcsnap.protocol.codes.ALL)")
        text = message or f"{codes.ALL[code].meaning} (injected by the emulator)"
        self._add(_Rule("fail", action, times, code, text))

    def drop_after_commit(self, action: str, times: int | None = 1) -> None:
        """Process the next `times` `action` requests fully, then lose each response.

        The client gets the status line and headers, announcing the full Content-Length, and
        part of the body; then the connection closes (httpx: `RemoteProtocolError`).
        """
        self._add(_Rule("drop", action, times))

    def clear(self) -> None:
        """Remove every rule and reset the counters."""
        with self._lock:
            self._rules.clear()
            self._requests.clear()
            self._outcomes.clear()
            self._dropped.clear()
            self._abandoned.clear()

    def _add(self, rule: _Rule) -> None:
        if rule.action not in api.ACTIONS:
            raise ValueError(f"unknown action {rule.action!r}; known: {sorted(api.ACTIONS)}")
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be >= 1 (or None for 'until clear()')")
        with self._lock:
            self._rules.append(rule)

    # ------------------------------------------------------------------ counters

    @property
    def requests(self) -> Counter[str]:
        """Requests seen since the last `clear`, by Action as sent ("" when missing); a copy."""
        with self._lock:
            return Counter(self._requests)

    @property
    def outcomes(self) -> Counter[tuple[str, str]]:
        """(Action, Error.Code or "OK") -> count, dropped responses included; a copy."""
        with self._lock:
            return Counter(self._outcomes)

    @property
    def dropped(self) -> Counter[str]:
        """Responses lost by `drop_after_commit`, by action; a copy."""
        with self._lock:
            return Counter(self._dropped)

    @property
    def abandoned(self) -> Counter[str]:
        """Requests whose client disconnected before sending all of it (never answered), by action."""
        with self._lock:
            return Counter(self._abandoned)

    def wait_for(self, predicate: Callable[[Faults], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate(self)` holds, re-checked whenever a request ends; False on timeout.

        How a test waits for the server side of a request it cannot see end (a dropped
        connection, an abandoned upload) without sleeping.
        """
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def count(self, action: str = "*", code: str = "*") -> int:
        """Requests of `action` answered with `code` ("*" = any; "OK" = success)."""
        with self._lock:
            return sum(n for (a, c), n in self._outcomes.items() if action in ("*", a) and code in ("*", c))

    # ------------------------------------------------------------------ used by the app

    def arrived(self, action: str) -> None:
        with self._lock:
            self._requests[action] += 1

    def answered(self, action: str, code: str, *, dropped: bool) -> None:
        with self._lock:
            self._outcomes[(action, code)] += 1
            if dropped:
                self._dropped[action] += 1
        self._notify()

    def abandon(self, action: str) -> None:
        with self._lock:
            self._abandoned[action] += 1
        self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def take_failure(self, action: str) -> ApiError | None:
        rule = self._take("fail", action)
        return ApiError(rule.code, rule.message) if rule is not None else None

    def take_drop(self, action: str) -> bool:
        return self._take("drop", action) is not None

    def _take(self, kind: Kind, action: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.action == action:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule
        return None


__all__ = ["SUCCESS", "Faults"]
