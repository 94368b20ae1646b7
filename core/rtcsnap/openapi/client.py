"""`SnapshotClient` / `AsyncSnapshotClient`: signed, typed, rate-limited and safe to retry.

What the official example class gets wrong and this does not (anchors §4.1): an answer carrying
`ResponseMetadata.Error` is a failure whatever its HTTP status; failures are typed by code family;
transport errors, 5xx and throttling are retried with full-jitter backoff (never invalid requests);
a StartSnapshot retried after a lost response reports `already_started` instead of an error, and a
StopSnapshot retried the same way reports `already_stopped`; each client owns its state (only the
per-access-key rate limiter is shared, on purpose).

Bounded in time whatever the server does: httpx's `timeout` is per socket operation (a server
dripping a byte every half second never trips it), so each attempt also has an overall deadline
(`attempt_timeout`, default 15 s) and each call a total one across its retries
(`total_timeout`, default 60 s). A `Retry-After` on 429/503 is the minimum wait before the next
attempt, capped at `RetryPolicy.retry_after_cap` (30 s); a wait that would end past the total
deadline is not made, the error is raised at once.

This module is the clients' configuration and their two transports (sync over `httpx.Client`,
async over `httpx.AsyncClient`): the rate limiter, the deadlines and the retry loop around each
attempt, and the drive loops that perform what an operation asks for. The rest has a module
each, used from here only: `endpoints` (where to send, which region to sign for), `versions`
(which API version a call uses), `wire` (a call built and signed), `classify` (an answer or a
transport failure → a result or a typed error), `operations` (the four operations and their
idempotence, sans-I/O) and `storage_step` (the `storage=` target and its verification, through
the client's `manager`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar, Unpack
from urllib.parse import urlsplit

import httpx

from rtcsnap import errors as e
from rtcsnap.models import (
    ApiVersion,
    GetSnapshotTaskRequest,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.models.fields import GetTaskFields, StartFields, TaskFields, UpdateFields
from rtcsnap.models.requests import RequestModel
from rtcsnap.openapi import operations
from rtcsnap.openapi.classify import RETRY_AFTER_STATUSES, classify_answer, parse_retry_after, transport_error
from rtcsnap.openapi.endpoints import resolve_endpoint
from rtcsnap.openapi.operations import Driver, Operation
from rtcsnap.openapi.ratelimit import RateLimiter, shared_limiter
from rtcsnap.openapi.results import CallResult, SignedRequest, StartResult, StopResult, TaskResult
from rtcsnap.openapi.storage_step import Verification
from rtcsnap.openapi.transport import DeadlineTransport
from rtcsnap.openapi.versions import as_version
from rtcsnap.openapi.wire import Call, sign_call
from rtcsnap.protocol.api import ACTIONS
from rtcsnap.retry import RetryPolicy
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.tasklog import TaskLog
from rtcsnap.volc_credentials import resolve_credentials

if TYPE_CHECKING:
    from rtcsnap.providers.manager import ProviderManager

log = logging.getLogger(__name__)

T = TypeVar("T")
MODELS: dict[str, type[RequestModel]] = {
    "StartSnapshot": StartSnapshotRequest,
    "UpdateSnapshot": UpdateSnapshotRequest,
    "StopSnapshot": StopSnapshotRequest,
    "GetSnapshotTask": GetSnapshotTaskRequest,
}
DEFAULT_TIMEOUT = 10.0
"""Seconds, per socket operation (connect, each read, each write), as the official SDKs use."""
DEFAULT_ATTEMPT_TIMEOUT = 15.0
"""Seconds for one whole attempt (connect + request + complete response), whatever the pace."""
DEFAULT_TOTAL_TIMEOUT = 60.0
"""Seconds for one call across all its attempts and the waits between them."""


@dataclass(frozen=True)
class _Budget:
    """One attempt's deadline (a `time.monotonic()` instant) and what set it, for the message."""

    at: float
    what: str

    def left(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.left() <= 0

    def describe(self) -> str:
        return self.what


class _ClientBase:
    """Everything but the I/O: configuration, signing, and the bookkeeping of each attempt."""

    def __init__(
        self,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        api_version: str | ApiVersion = ApiVersion.V2022_06_01,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        qps: Mapping[str, float] | None = None,
        share_rate_limit: bool = True,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        task_log: TaskLog | Literal["default"] | None = "default",
        manager: ProviderManager | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """A client of the snapshot OpenAPI.

        Credentials: `access_key`/`secret_key` (+ `session_token`), else ``VOLC_ACCESSKEY``/
        ``VOLC_SECRETKEY``, else ``~/.volc/credentials``. `endpoint`: ``cn`` (default),
        ``overseas``, ``byteplus`` or any URL (the emulator's); `region` signs (default: the
        endpoint's). `api_version`: the default version of every call. `retry`, `attempt_timeout`
        and `total_timeout` bound each call; `qps` overrides the per-Action quotas the shared rate
        limiters enforce (`share_rate_limit=False`: limiters of this client only). `task_log`:
        where `start(storage=…)` records targets (`rtcsnap.tasklog`; None: nowhere). `manager`:
        the `ProviderManager` whose providers resolve `start(storage=…)`, build its StorageConfig
        and run `verify_storage` (None: the shared `ProviderManager.default()`, looked up only
        when a call needs a provider, so creating a client loads no plugin). `transport`
        replaces httpx's (sync client: the default `DeadlineTransport` is the one that enforces
        `attempt_timeout`).
        """
        self.credentials: Credentials = resolve_credentials(access_key, secret_key, session_token)
        self.task_log: TaskLog | None = TaskLog.default() if task_log == "default" else task_log
        """Where `start(storage=…)` records the task's target (`rtcsnap.tasklog`); None: nowhere."""
        self.endpoint, self.region = resolve_endpoint(endpoint, region)
        self.api_version = as_version(api_version)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        for name, value in (("attempt_timeout", attempt_timeout), ("total_timeout", total_timeout)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise e.ConfigurationError(f"{name} must be a positive number of seconds (got {value!r})")
        self.attempt_timeout = float(attempt_timeout)
        self.total_timeout = float(total_timeout)
        self.retry = retry or RetryPolicy(attempts=5, base=0.2, cap=5.0)
        self._manager = manager
        self._qps = {name: float((qps or {}).get(name, a.qps)) for name, a in ACTIONS.items()}
        self._own_limiters = None if share_rate_limit else {n: RateLimiter(q) for n, q in self._qps.items()}
        self._host = urlsplit(self.endpoint).netloc
        self._urls: dict[str, httpx.URL] = {}
        self._open(transport)

    @property
    def manager(self) -> ProviderManager:
        """The provider manager of this client's storage steps: the one given, else the shared one.

        The shared one is looked up on each use, not at construction: a client that never
        touches storage never loads plugins, and `ProviderManager.reset_default()` is followed.
        """
        if self._manager is not None:
            return self._manager
        # Imported here: its import costs milliseconds that a client without storage need not pay.
        from rtcsnap.providers.manager import ProviderManager

        return ProviderManager.default()

    def _open(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None) -> None:
        """Create the HTTP client (each subclass its own kind)."""
        raise NotImplementedError

    def _url(self, req: SignedRequest) -> httpx.URL | str:
        """Parsed once per Action/Version: POST URLs never vary, and httpx parses a str on every send."""
        if req.method != "POST":
            return req.url
        url = self._urls.get(req.url)
        if url is None:
            url = self._urls[req.url] = httpx.URL(req.url)
        return url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, region={self.region!r}, credentials={self.credentials!r})"

    def limiter(self, action: str) -> RateLimiter:
        if self._own_limiters is not None:
            return self._own_limiters[action]
        return shared_limiter(self.credentials.access_key, action, self._qps[action])

    def sign(self, call: Call) -> SignedRequest:
        """`call` signed now with this client's credentials, for its endpoint and region."""
        return sign_call(
            call, credentials=self.credentials, endpoint=self.endpoint, host=self._host, region=self.region
        )

    def prepare(
        self,
        action: str,
        request: RequestModel | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[StartFields],
    ) -> SignedRequest:
        """Build, validate and sign without sending (`--dry-run`)."""
        _, call = operations.call_for(self, action, MODELS[action], request, api_version, fields)
        return self.sign(call)

    # -- one attempt -------------------------------------------------------------------------
    # Both transports run an attempt the same way — count it, sign it (after the limiter's
    # wait), bound it, classify what came back — and differ only in how they wait and send.

    def _begin(self, call: Call, deadline: float) -> tuple[SignedRequest, _Budget]:
        """Count a new attempt; its signed request and its deadline."""
        call.attempts.count += 1
        return self.sign(call), self._budget(deadline)

    def _budget(self, deadline: float) -> _Budget:
        """This attempt's deadline: `attempt_timeout` from now, but never past the call's."""
        now = time.monotonic()
        attempt_at = now + self.attempt_timeout
        if attempt_at <= deadline:
            return _Budget(attempt_at, f"the {self.attempt_timeout:g} s attempt deadline")
        return _Budget(deadline, f"the {self.total_timeout:g} s total deadline of the call")

    def _no_answer(self, call: Call, exc: BaseException, budget: _Budget) -> e.OpenAPIError:
        """The error of an attempt that got no answer (the budget's, when that is what ran out)."""
        expired = budget.describe() if budget.expired() else None
        return self._failed(
            call,
            transport_error(
                exc, action=call.action, version=call.version, endpoint=self.endpoint, deadline=expired
            ),
        )

    def _answered(self, call: Call, resp: httpx.Response) -> CallResult:
        """The result of an answer, or raise its (recorded) typed error."""
        try:
            return classify_answer(
                resp.status_code,
                resp.headers,
                resp.content,
                action=call.action,
                version=call.version,
                attempts=call.attempts.count,
            )
        except e.OpenAPIError as exc:
            raise self._failed(call, exc) from None

    def _failed(self, call: Call, exc: e.OpenAPIError) -> e.OpenAPIError:
        """Record a failed attempt; a transport error or 5xx may have reached the server."""
        if isinstance(exc, e.TransportError) or (
            isinstance(exc, e.ServerError) and exc.http_status is not None
        ):
            call.attempts.ambiguous = True
        log.debug("%s %s attempt %d failed: %s", call.action, call.version, call.attempts.count, exc)
        return exc


class SnapshotClient(_ClientBase):
    """Blocking client over `httpx.Client`. Use as a context manager or call `close()`."""

    def _open(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None) -> None:
        if isinstance(transport, httpx.AsyncBaseTransport):
            raise TypeError(
                "SnapshotClient needs a sync httpx transport (AsyncSnapshotClient takes async ones)"
            )
        if transport is None:
            transport = DeadlineTransport()
        self._deadlines = transport if isinstance(transport, DeadlineTransport) else None
        self._http = httpx.Client(
            timeout=self.timeout, transport=transport, headers={"Accept": "application/json"}
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SnapshotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: Call) -> CallResult:
        limiter = self.limiter(call.action)
        deadline = time.monotonic() + self.total_timeout

        def attempt() -> CallResult:
            with limiter.acquire():
                req, budget = self._begin(call, deadline)
                try:
                    with self._bounded(budget):
                        resp = self._http.request(
                            req.method, self._url(req), content=req.body or None, headers=req.headers
                        )
                except httpx.HTTPError as exc:
                    raise self._no_answer(call, exc, budget) from None
            return self._answered(call, resp)

        return self.retry.call(attempt, deadline=deadline)

    def _bounded(self, budget: _Budget) -> contextlib.AbstractContextManager[None]:
        if self._deadlines is None:
            return contextlib.nullcontext()
        return self._deadlines.deadline(budget.at)

    def _drive(self, op: Operation[T]) -> T:
        run = Driver(op)
        while (step := run.next_step()) is not None:
            try:
                run.done(step.run() if isinstance(step, Verification) else self._send(step))
            except e.RtcSnapError as exc:
                run.failed(exc)
        return run.result

    def start(
        self,
        request: StartSnapshotRequest | None = None,
        *,
        storage: StorageTarget | str | None = None,
        verify_storage: bool | StorageTarget = False,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[StartFields],
    ) -> StartResult:
        """StartSnapshot.

        `storage` (a target or URL) builds the StorageConfig through its provider (from
        `manager`) and, with
        `verify_storage=True`, is exactly what gets probed; it excludes `storage_config`.
        Without it, `verify_storage` (True, or the exact target) probes a target rebuilt from
        the StorageConfig, which knows no endpoint.
        """
        return self._drive(operations.start(self, request, storage, verify_storage, api_version, fields))

    def update(
        self,
        request: UpdateSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[UpdateFields],
    ) -> CallResult:
        """UpdateSnapshot: change a running task's interval (``image_config={"interval": N}``)."""
        return self._drive(operations.update(self, request, api_version, fields))

    def stop(
        self,
        request: StopSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[TaskFields],
    ) -> StopResult:
        """StopSnapshot; `outcome` is ``already_stopped`` when a retried stop finds the task gone."""
        return self._drive(operations.stop(self, request, api_version, fields))

    def get_task(
        self,
        request: GetSnapshotTaskRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[GetTaskFields],
    ) -> TaskResult:
        """GetSnapshotTask: `task` is the parsed `SnapshotTask` (status, stop reason, effective
        config), None when the answer carries none."""
        return self._drive(operations.get_task(self, request, api_version, fields))


class AsyncSnapshotClient(_ClientBase):
    """The same over `httpx.AsyncClient`; rate limiting and backoff await, never block the loop."""

    def _open(self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None) -> None:
        if isinstance(transport, httpx.BaseTransport):
            raise TypeError("AsyncSnapshotClient needs an async httpx transport (httpx.AsyncBaseTransport)")
        self._http = httpx.AsyncClient(
            timeout=self.timeout, transport=transport, headers={"Accept": "application/json"}
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSnapshotClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> CallResult:
        limiter = self.limiter(call.action)
        deadline = time.monotonic() + self.total_timeout

        async def attempt() -> CallResult:
            with await limiter.acquire_async():
                req, budget = self._begin(call, deadline)
                try:
                    async with asyncio.timeout(budget.left()):
                        resp = await self._http.request(
                            req.method, self._url(req), content=req.body or None, headers=req.headers
                        )
                except (httpx.HTTPError, TimeoutError) as exc:
                    raise self._no_answer(call, exc, budget) from None
            return self._answered(call, resp)

        return await self.retry.acall(attempt, deadline=deadline)

    async def _drive(self, op: Operation[T]) -> T:
        run = Driver(op)
        while (step := run.next_step()) is not None:
            try:
                if isinstance(step, Verification):  # storage SDKs block: keep the loop free
                    run.done(await asyncio.to_thread(step.run))
                else:
                    run.done(await self._send(step))
            except e.RtcSnapError as exc:
                run.failed(exc)
        return run.result

    async def start(
        self,
        request: StartSnapshotRequest | None = None,
        *,
        storage: StorageTarget | str | None = None,
        verify_storage: bool | StorageTarget = False,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[StartFields],
    ) -> StartResult:
        """See `SnapshotClient.start`; verification runs in a worker thread (storage SDKs block)."""
        return await self._drive(
            operations.start(self, request, storage, verify_storage, api_version, fields)
        )

    async def update(
        self,
        request: UpdateSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[UpdateFields],
    ) -> CallResult:
        """See `SnapshotClient.update`."""
        return await self._drive(operations.update(self, request, api_version, fields))

    async def stop(
        self,
        request: StopSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[TaskFields],
    ) -> StopResult:
        """See `SnapshotClient.stop`."""
        return await self._drive(operations.stop(self, request, api_version, fields))

    async def get_task(
        self,
        request: GetSnapshotTaskRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Unpack[GetTaskFields],
    ) -> TaskResult:
        """See `SnapshotClient.get_task`."""
        return await self._drive(operations.get_task(self, request, api_version, fields))


__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "MODELS",
    "RETRY_AFTER_STATUSES",
    "AsyncSnapshotClient",
    "CallResult",
    "SignedRequest",
    "SnapshotClient",
    "StartResult",
    "StopResult",
    "TaskResult",
    "parse_retry_after",
]
