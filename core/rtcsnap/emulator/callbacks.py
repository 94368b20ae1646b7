"""Delivering signed callbacks the way RTC does (spec §7.1), with optional chaos for receivers.

    with CallbackSender("http://127.0.0.1:8080/cb", secret, chaos=Chaos.parse("duplicate=0.1,seed=7")) as s:
        event_id = s.send(EVENT_SNAPSHOT, data, app_id=app, version="2022-06-01")
        s.drain()

RTC posts a JSON envelope, counts only HTTP 200 within 5 s as success and otherwise delivers
the identical envelope at most twice more; receivers dedupe by EventId. `send` signs the
envelope at once (its EventTime is the moment of the event, not of a retry) and returns; worker
threads do the network, so a slow receiver never stalls the snapshot engine.

Chaos exists to test receivers against what RTC may legally do (duplicates, reordering, late
and failed first deliveries, a signature that does not verify). Every decision for an event is
drawn at `send`, in send order, from one seeded `random.Random`: the same seed and the same
sends give the same plan however the threads interleave, and `plan(event_id)` shows it.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from types import TracebackType
from typing import Any, Self

import httpx

from rtcsnap import secrets
from rtcsnap.emulator.config import Clock
from rtcsnap.protocol import callback_signature as cbsig

log = logging.getLogger(__name__)

MAX_FAILURES = 100
"""How many (event_id, reason) pairs `CallbackStats.failures` keeps (the latest)."""
MAX_PLANS = 10_000
"""How many events' chaos plans `plan` remembers (the latest): a long emulator run stays bounded."""

_STOP_GRACE = 1.0
"""Seconds `close` gives the workers to notice the stop (an interrupted wait ends at once)."""

_RATES = ("duplicate", "reorder", "delay", "bad_signature", "fail_before_retry")


@dataclass(frozen=True)
class ChaosPlan:
    """What chaos does to one event, decided when it was sent.

    `reorder` is True only for an event actually held back (an event that overtakes a held one
    is never held itself); `delay` is seconds before its first delivery.
    """

    duplicate: bool = False
    reorder: bool = False
    delay: float = 0.0
    bad_signature: bool = False
    fail_before_retry: bool = False


NO_CHAOS = ChaosPlan()


def _check(name: str, value: object) -> None:
    if name in _RATES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"chaos.{name}: must be a rate in [0, 1], not {value!r}")
    elif name == "delay_seconds":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"chaos.delay_seconds: must be a finite number of seconds >= 0, not {value!r}")
    elif name == "seed" and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"chaos.seed: must be an integer or None, not {value!r}")


@dataclass(frozen=True)
class Chaos:
    """Rates in [0, 1] at which RTC-legal misbehaviour is injected into deliveries.

    - `duplicate`: after a successful delivery, deliver the same envelope once more.
    - `reorder`: hold the event back and enqueue it right after the next one (a held event with
      no successor goes out at `drain`/`close`). Arrival order is exact with ``workers=1``.
    - `delay`: wait `delay_seconds` before the first delivery.
    - `bad_signature`: the first delivery sent carries a wrong (well-formed) signature; later
      deliveries carry the right one, so a receiver that rejects it gets the retry.
    - `fail_before_retry`: the first delivery is never sent (a failed attempt), so the
      receiver sees the event only on a retry.

    `seed` makes the decisions reproducible (None: a fresh random seed).
    """

    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    bad_signature: float = 0.0
    fail_before_retry: float = 0.0
    delay_seconds: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, getattr(self, f.name))

    @classmethod
    def parse(cls, text: str) -> Chaos:
        """``"duplicate=0.1,reorder=0.05,seed=7"`` (the CLI's form); "" is no chaos."""
        known = [f.name for f in fields(cls)]
        values: dict[str, Any] = {}
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            name, sep, value = (part.strip() for part in item.partition("="))
            if not sep or not value:
                raise ValueError(f"chaos item {item!r}: expected name=value")
            if name not in known:
                raise ValueError(f"chaos item {item!r}: unknown name {name!r} (known: {', '.join(known)})")
            if name in values:
                raise ValueError(f"chaos item {item!r}: {name} given twice")
            try:
                parsed: float | int = int(value) if name == "seed" else float(value)
            except ValueError:
                kind = "an integer" if name == "seed" else "a number"
                raise ValueError(f"chaos item {item!r}: {value!r} is not {kind}") from None
            try:
                _check(name, parsed)
            except ValueError as exc:
                raise ValueError(f"chaos item {item!r}: {exc}") from None
            values[name] = parsed
        return cls(**values)

    def decide(self, rng: random.Random) -> ChaosPlan:
        """One event's plan. Always draws one number per rate, in a fixed order, so an event's
        plan depends only on how many events came before it."""
        draws = {name: rng.random() < getattr(self, name) for name in _RATES}
        return ChaosPlan(
            duplicate=draws["duplicate"],
            reorder=draws["reorder"],
            delay=self.delay_seconds if draws["delay"] else 0.0,
            bad_signature=draws["bad_signature"],
            fail_before_retry=draws["fail_before_retry"],
        )


@dataclass(frozen=True)
class CallbackStats:
    """Counters since the sender started; `attempts` counts every delivery, chaos ones included
    (a withheld `fail_before_retry` delivery too, though no request went out)."""

    sent: int = 0
    """Events accepted by `send`."""
    delivered: int = 0
    failed: int = 0
    """Events given up after all deliveries."""
    attempts: int = 0
    duplicates: int = 0
    bad_signatures: int = 0
    delayed: int = 0
    reordered: int = 0
    failures: tuple[tuple[str, str], ...] = ()
    """The latest `MAX_FAILURES` given-up events as (EventId, reason)."""


@dataclass(frozen=True)
class _Job:
    event_id: str
    event_type: str
    body: bytes
    bad_body: bytes
    plan: ChaosPlan


def _corrupt(signature: str) -> str:
    """A signature that is still 64 lowercase hex digits, so a receiver must check the value."""
    return ("1" if signature[0] == "0" else "0") + signature[1:]


class CallbackSender:
    """Signs callbacks and delivers them from `workers` threads with RTC's retry policy.

    Success is HTTP 200 within `timeout` seconds for the whole request; anything else (another
    status, an exception, a slow answer) is a failed delivery, followed by up to `retries` more
    after `retry_delay` seconds each. The defaults are RTC's (5 s, 2 retries: at most 3 deliveries).
    `client` lets a caller supply its own httpx client (not closed here).
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        retry_delay: float = 1.0,
        chaos: Chaos | None = None,
        workers: int = 4,
        client: httpx.Client | None = None,
        clock: Clock = time.time,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("callback url: must be an http:// or https:// URL")
        if not isinstance(secret, str) or not secret:
            raise ValueError("callback secret: must be a non-empty string")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            raise ValueError("callback timeout: must be a number of seconds > 0")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError("callback retries: must be an integer >= 0")
        if (
            isinstance(retry_delay, bool)
            or not isinstance(retry_delay, int | float)
            or not 0 <= retry_delay < math.inf
        ):
            raise ValueError("callback retry_delay: must be a number of seconds >= 0")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError("callback workers: must be an integer >= 1")
        secrets.register(secret)
        self._url = url
        self._secret = secret
        self._timeout = float(timeout)
        self._retries = retries
        self._retry_delay = float(retry_delay)
        self._chaos = chaos
        self._rng = random.Random(chaos.seed if chaos is not None else None)
        self._clock = clock
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self._timeout)

        self._cond = threading.Condition()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._closed = False
        self._pending = 0
        self._held: _Job | None = None
        self._plans: OrderedDict[str, ChaosPlan] = OrderedDict()
        self._counts = dict.fromkeys(
            (
                "sent",
                "delivered",
                "failed",
                "attempts",
                "duplicates",
                "bad_signatures",
                "delayed",
                "reordered",
            ),
            0,
        )
        self._failures: deque[tuple[str, str]] = deque(maxlen=MAX_FAILURES)
        self._workers = [
            threading.Thread(target=self._work, name=f"rtcsnap-callbacks-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._workers:
            thread.start()

    def __repr__(self) -> str:
        return f"CallbackSender(url={self._url!r})"

    @property
    def url(self) -> str:
        return self._url

    # ------------------------------------------------------------------ sending

    def send(
        self,
        event_type: str,
        event_data: Mapping[str, Any],
        *,
        app_id: str,
        version: str,
        business_id: str | None = None,
    ) -> str:
        """Sign the event now and queue it for delivery; returns its EventId. Never waits on the network."""
        env = cbsig.envelope(
            event_type,
            event_data,
            app_id=app_id,
            version=version,
            secret=self._secret,
            event_time=self._clock(),
            business_id=business_id,
        )
        event_id = env["EventId"]
        body = json.dumps(env, ensure_ascii=False).encode("utf-8")
        bad = json.dumps({**env, "Signature": _corrupt(env["Signature"])}, ensure_ascii=False).encode("utf-8")
        with self._cond:
            if self._closed:
                raise RuntimeError("CallbackSender is closed")
            plan = self._chaos.decide(self._rng) if self._chaos is not None else NO_CHAOS
            held = self._held
            if plan.reorder and held is not None:
                plan = replace(plan, reorder=False)  # it overtakes the held event instead
            job = _Job(event_id, event_type, body, bad, plan)
            self._remember(event_id, plan)
            self._counts["sent"] += 1
            self._counts["delayed"] += plan.delay > 0
            self._counts["reordered"] += plan.reorder
            self._pending += 1
            if held is not None:
                self._held = None
                self._queue.put(job)
                self._queue.put(held)
            elif plan.reorder:
                self._held = job
            else:
                self._queue.put(job)
        return event_id

    def _remember(self, event_id: str, plan: ChaosPlan) -> None:
        self._plans[event_id] = plan
        while len(self._plans) > MAX_PLANS:
            self._plans.popitem(last=False)

    def plan(self, event_id: str) -> ChaosPlan:
        """The chaos decided for an event (`NO_CHAOS` without chaos); KeyError for an unknown id."""
        with self._cond:
            try:
                return self._plans[event_id]
            except KeyError:
                raise KeyError(
                    f"no callback event {event_id!r} (unknown, or older than the last {MAX_PLANS})"
                ) from None

    @property
    def stats(self) -> CallbackStats:
        with self._cond:
            return CallbackStats(**self._counts, failures=tuple(self._failures))

    # ------------------------------------------------------------------ waiting, closing

    def _release_held(self) -> None:
        if self._held is not None:
            self._queue.put(self._held)
            self._held = None

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every event sent so far is delivered or given up (a held-back event is
        released first); False if `timeout` seconds pass first."""
        with self._cond:
            self._release_held()
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Drain for up to `timeout` seconds, then stop: what is still queued or waiting for a
        retry is given up (a request in flight may run on to its own timeout). Idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        deadline = time.monotonic() + timeout
        self.drain(timeout)
        self._stop.set()
        for _ in self._workers:
            self._queue.put(None)
        end = max(deadline, time.monotonic() + _STOP_GRACE)
        for thread in self._workers:
            thread.join(max(0.0, end - time.monotonic()))
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ delivering

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                ok, reason = self._deliver(job)
            except Exception as exc:  # the accounting below must happen whatever went wrong
                ok, reason = False, f"internal error: {type(exc).__name__}"
            self._finish(job, ok, reason)

    def _count(self, name: str) -> None:
        with self._cond:
            self._counts[name] += 1

    def _deliver(self, job: _Job) -> tuple[bool, str]:
        plan = job.plan
        if self._stop.is_set():
            return False, "sender closed before the first delivery"
        if plan.delay > 0 and self._stop.wait(plan.delay):
            return False, "sender closed during the chaos delay"
        corrupt = plan.bad_signature
        reason = ""
        for n in range(1 + self._retries):
            if n and self._stop.wait(self._retry_delay):
                return False, f"sender closed before retry {n} (last failure: {reason})"
            self._count("attempts")
            if n == 0 and plan.fail_before_retry:
                reason = "first delivery withheld (chaos fail_before_retry)"
                continue
            body = job.body
            if corrupt:
                corrupt = False
                body = job.bad_body
                self._count("bad_signatures")
            ok, reason = self._post(body)
            log.debug("callback %s delivery %d: %s", job.event_id, n + 1, reason or "HTTP 200")
            if ok:
                if plan.duplicate and not self._stop.is_set():
                    self._count("attempts")
                    self._count("duplicates")
                    self._post(job.body)
                return True, ""
        return False, reason

    def _post(self, body: bytes) -> tuple[bool, str]:
        started = time.monotonic()
        try:
            response = self._client.post(
                self._url, content=body, headers={"Content-Type": "application/json"}, timeout=self._timeout
            )
        except httpx.TimeoutException:
            return False, f"no answer within {self._timeout:g} s"
        except Exception as exc:
            return False, secrets.redact(f"{type(exc).__name__}: {exc}")
        elapsed = time.monotonic() - started
        if response.status_code != 200:
            return False, f"HTTP {response.status_code}"
        if elapsed > self._timeout:
            return False, f"HTTP 200 after {elapsed:.2f} s, over the {self._timeout:g} s limit"
        return True, ""

    def _finish(self, job: _Job, ok: bool, reason: str) -> None:
        with self._cond:
            self._counts["delivered" if ok else "failed"] += 1
            if not ok:
                self._failures.append((job.event_id, reason))
            self._pending -= 1
            if self._pending == 0:
                self._cond.notify_all()
        if not ok:
            log.warning(
                "callback %s (%s) to %s given up: %s", job.event_id, job.event_type, self._url, reason
            )


__all__ = ["MAX_FAILURES", "MAX_PLANS", "NO_CHAOS", "CallbackSender", "CallbackStats", "Chaos", "ChaosPlan"]
