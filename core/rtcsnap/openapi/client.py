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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

import httpx

from rtcsnap import errors as e
from rtcsnap import secrets
from rtcsnap.models import (
    ApiVersion,
    GetSnapshotTaskRequest,
    SnapshotTask,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.models.requests import RequestModel
from rtcsnap.openapi.ratelimit import RateLimiter, shared_limiter
from rtcsnap.openapi.results import CallResult, SignedRequest, StartResult, StopResult, TaskResult
from rtcsnap.openapi.transport import DeadlineTransport
from rtcsnap.protocol import codes, signer
from rtcsnap.protocol.api import ACTIONS, DUPLICATE_START_RESULT, ENDPOINTS, SERVICE
from rtcsnap.retry import RetryPolicy, set_retry_after
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.tasklog import TaskLog
from rtcsnap.volc_credentials import resolve_credentials

log = logging.getLogger(__name__)

R = TypeVar("R", bound=RequestModel)
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
RETRY_AFTER_STATUSES = frozenset({429, 503})
_DELTA_SECONDS = re.compile(r"\d{1,10}(?:\.\d{1,6})?")


@dataclass
class _Attempts:
    count: int = 0
    ambiguous: bool = False
    """A previous attempt may have reached the server (transport error / 5xx after sending)."""


@dataclass(frozen=True)
class _Verify:
    target: StorageTarget


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


@dataclass
class _Call:
    action: str
    version: str
    method: str
    query: dict[str, str]
    body: bytes
    request: RequestModel
    attempts: _Attempts = field(default_factory=_Attempts)


def _resolve_endpoint(endpoint: str | None, region: str | None) -> tuple[str, str]:
    if endpoint is None or endpoint in ENDPOINTS:
        preset = ENDPOINTS[endpoint or "cn"]
        return preset.url, region or preset.region
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise e.ConfigurationError(
            f"endpoint {endpoint!r}: expected a URL like https://rtc.volcengineapi.com or one of {', '.join(ENDPOINTS)}"
        )
    return endpoint.rstrip("/"), region or "cn-north-1"


def _family_by_status(status: int) -> type[e.OpenAPIError]:
    """What an answer means when nothing in it can be read (a proxy's HTML 429, a bare 502).

    429 is throttling and 5xx a server failure, both worth a retry; any other 4xx is a refusal
    a retry will not change; a 1xx-3xx without a readable envelope is a broken server.
    """
    if status == 429:
        return e.ThrottledError
    if 400 <= status < 500:
        return e.OpenAPIError
    return e.ServerError


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delta-seconds or an HTTP-date; None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110: an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _error_from(meta: Mapping[str, Any], action: str, version: str, status: int) -> e.OpenAPIError:
    err = meta.get("Error") or {}
    if not isinstance(err, Mapping):
        err = {}
    code = str(err.get("Code") or "")
    family = codes.family_for(code) if code else e.OpenAPIError
    by_code = family is not e.OpenAPIError
    if not by_code and status >= 400:  # no code, or one of an unknown family: the status decides
        family = _family_by_status(status)
    code_n = err.get("CodeN")
    exc = family(
        str(err.get("Message") or f"HTTP {status}"),
        code=code,
        code_n=code_n if isinstance(code_n, int) and code_n else None,
        request_id=str(meta.get("RequestId") or ""),
        action=action,
        version=version,
        http_status=status,
    )
    if code and by_code:
        exc.retryable = code in codes.RETRYABLE
    return exc


class _ClientBase:
    """Everything but the I/O: configuration, request building, signing, response parsing."""

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
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """A client of the snapshot OpenAPI.

        Credentials: `access_key`/`secret_key` (+ `session_token`), else ``VOLC_ACCESSKEY``/
        ``VOLC_SECRETKEY``, else ``~/.volc/credentials``. `endpoint`: ``cn`` (default),
        ``overseas``, ``byteplus`` or any URL (the emulator's); `region` signs (default: the
        endpoint's). `api_version`: the default version of every call. `retry`, `attempt_timeout`
        and `total_timeout` bound each call; `qps` overrides the per-Action quotas the shared rate
        limiters enforce (`share_rate_limit=False`: limiters of this client only). `task_log`:
        where `start(storage=…)` records targets (`rtcsnap.tasklog`; None: nowhere). `transport`
        replaces httpx's (sync client: the default `DeadlineTransport` is the one that enforces
        `attempt_timeout`).
        """
        self.credentials: Credentials = resolve_credentials(access_key, secret_key, session_token)
        self.task_log: TaskLog | None = TaskLog.default() if task_log == "default" else task_log
        """Where `start(storage=…)` records the task's target (`rtcsnap.tasklog`); None: nowhere."""
        self.endpoint, self.region = _resolve_endpoint(endpoint, region)
        self.api_version = self._version(api_version)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        for name, value in (("attempt_timeout", attempt_timeout), ("total_timeout", total_timeout)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise e.ConfigurationError(f"{name} must be a positive number of seconds (got {value!r})")
        self.attempt_timeout = float(attempt_timeout)
        self.total_timeout = float(total_timeout)
        self.retry = retry or RetryPolicy(attempts=5, base=0.2, cap=5.0)
        self._qps = {name: float((qps or {}).get(name, a.qps)) for name, a in ACTIONS.items()}
        self._own_limiters = None if share_rate_limit else {n: RateLimiter(q) for n, q in self._qps.items()}
        self._host = urlsplit(self.endpoint).netloc
        self._urls: dict[str, httpx.URL] = {}
        self._open(transport)

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

    @staticmethod
    def _version(v: str | ApiVersion) -> ApiVersion:
        try:
            return ApiVersion(v)
        except ValueError:
            raise e.ValidationError(
                f"must be one of {', '.join(x.value for x in ApiVersion)} (got {v!r})", path="Version"
            ) from None

    def limiter(self, action: str) -> RateLimiter:
        if self._own_limiters is not None:
            return self._own_limiters[action]
        return shared_limiter(self.credentials.access_key, action, self._qps[action])

    # -- building ----------------------------------------------------------------------------

    def _request(
        self, model: type[R], request: R | None, api_version: str | ApiVersion | None, fields: dict[str, Any]
    ) -> tuple[R, ApiVersion]:
        """The validated request for the version this call uses (call > request's own > client)."""
        if request is not None and fields:
            raise TypeError("pass either a request model or keyword fields, not both")
        if request is None:
            version = self._version(api_version) if api_version is not None else self.api_version
            return model(api_version=version, **fields), version
        if api_version is not None:
            version = self._version(api_version)
        elif "api_version" in request.model_fields_set:
            version = request.api_version
        else:
            version = self.api_version
        if version != request.api_version:  # re-validate: some ranges differ per version
            request = model.from_wire(request.to_wire(), version=version)
        return request, version

    def _call(self, action: str, request: RequestModel, version: ApiVersion) -> _Call:
        spec = ACTIONS[action]
        query = {"Action": action, "Version": version.value}
        if spec.method == "GET":
            query.update({k: str(v) for k, v in request.to_wire().items()})
            return _Call(action, version.value, "GET", query, b"", request)
        body = json.dumps(request.to_wire(), separators=(",", ":"), ensure_ascii=False).encode()
        return _Call(action, version.value, "POST", query, body, request)

    def sign(self, call: _Call) -> SignedRequest:
        headers = {"Content-Type": "application/json"} if call.method == "POST" else {}
        creds = self.credentials
        qs = signer.canonical_query(call.query)
        signed = signer.sign(
            call.method,
            self._host,
            "/",
            call.query,
            headers,
            call.body,
            access_key=creds.access_key,
            secret_key=creds.secret_key.get_secret_value(),
            session_token=creds.session_token.get_secret_value() if creds.session_token else None,
            region=self.region,
            service=SERVICE,
            query_string=qs,
        )
        url = f"{self.endpoint}/?{qs}"
        return SignedRequest(call.method, url, signed, call.body, call.request)

    # -- parsing -----------------------------------------------------------------------------

    def _parse(self, call: _Call, status: int, content: bytes) -> CallResult:
        try:
            doc = json.loads(content)
            meta = doc["ResponseMetadata"] if isinstance(doc, dict) else None
        except (ValueError, KeyError, TypeError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            raise _family_by_status(status)(
                f"not an OpenAPI response ({len(content)} bytes)",
                action=call.action,
                version=call.version,
                http_status=status,
            )
        if meta.get("Error") or status >= 400:
            raise _error_from(meta, call.action, call.version, status)
        return CallResult(
            str(meta.get("RequestId") or ""),
            call.action,
            call.version,
            call.attempts.count,
            doc.get("Result"),
        )

    def _transport_error(self, call: _Call, exc: BaseException, attempt: _Budget) -> e.TransportError:
        if attempt.expired():
            return e.TransportError(
                f"request timed out: no complete response within {attempt.describe()}",
                action=call.action,
                version=call.version,
            )
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        detail = " ".join(str(exc).split())
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        return e.TransportError(
            f"request to {self.endpoint} {what}: {secrets.redact(reason)}",
            action=call.action,
            version=call.version,
        )

    def _budget(self, deadline: float) -> _Budget:
        """This attempt's deadline: `attempt_timeout` from now, but never past the call's."""
        now = time.monotonic()
        attempt_at = now + self.attempt_timeout
        if attempt_at <= deadline:
            return _Budget(attempt_at, f"the {self.attempt_timeout:g} s attempt deadline")
        return _Budget(deadline, f"the {self.total_timeout:g} s total deadline of the call")

    def _failed(self, call: _Call, exc: e.OpenAPIError) -> e.OpenAPIError:
        """Record a failed attempt; a transport error or 5xx may have reached the server."""
        if isinstance(exc, e.TransportError) or (
            isinstance(exc, e.ServerError) and exc.http_status is not None
        ):
            call.attempts.ambiguous = True
        log.debug("%s %s attempt %d failed: %s", call.action, call.version, call.attempts.count, exc)
        return exc

    def _checked(self, call: _Call, resp: httpx.Response) -> CallResult:
        status = resp.status_code
        try:
            return self._parse(call, status, resp.content)
        except e.OpenAPIError as exc:
            if status in RETRY_AFTER_STATUSES and exc.retryable:
                set_retry_after(exc, parse_retry_after(resp.headers.get("retry-after")))
            raise self._failed(call, exc) from None

    # -- operations (sans-I/O) -----------------------------------------------------------------
    # Each operation is a generator that yields what must be done — a `_Call` to send or a
    # `_Verify` to run — and receives the outcome (or has the exception thrown in). The sync and
    # async clients only drive these, so the behaviour exists once.

    def _op_start(
        self,
        request: StartSnapshotRequest | None,
        storage: StorageTarget | str | None,
        verify_storage: bool | StorageTarget,
        api_version: str | ApiVersion | None,
        fields: dict[str, Any],
    ) -> Generator[_Call | _Verify, Any, StartResult]:
        target: StorageTarget | None = None
        if storage is not None:
            target, fields = self._with_storage(request, storage, verify_storage, fields)
        req, version = self._request(StartSnapshotRequest, request, api_version, fields)
        if verify_storage is not False:
            self._require_fit((yield _Verify(target or self._storage_target(req, verify_storage))))
        call = self._call("StartSnapshot", req, version)
        try:
            res: CallResult = yield call
        except e.TaskAlreadyExistsError as exc:
            result = StartResult(
                exc.request_id, call.action, call.version, call.attempts.count, None, "already_started"
            )
        else:
            dup = isinstance(res.result, str) and res.result.strip().startswith(DUPLICATE_START_RESULT[:40])
            result = StartResult(
                res.request_id,
                res.action,
                res.version,
                res.attempts,
                res.result,
                "already_started" if dup else "started",
            )
        if target is not None:
            self._log_task(req, target, result)
        return result

    def _log_task(self, req: StartSnapshotRequest, target: StorageTarget, result: StartResult) -> None:
        """Remember the target for `snapshots manifest|download`; the task runs either way, so a
        log that cannot be written is a warning, never the call's failure."""
        if self.task_log is None:
            return
        try:
            self.task_log.record(
                app_id=req.app_id,
                room_id=req.room_id,
                task_id=req.task_id,
                storage=target.url,
                endpoint=self.endpoint,
                request_id=result.request_id,
            )
        except OSError as exc:
            log.warning("task log %s not written: %s", self.task_log.path, exc.strerror or exc)

    def _op_update(
        self,
        request: UpdateSnapshotRequest | None,
        api_version: str | ApiVersion | None,
        fields: dict[str, Any],
    ) -> Generator[_Call, Any, CallResult]:
        req, version = self._request(UpdateSnapshotRequest, request, api_version, fields)
        res: CallResult = yield self._call("UpdateSnapshot", req, version)
        return res

    def _op_stop(
        self,
        request: StopSnapshotRequest | None,
        api_version: str | ApiVersion | None,
        fields: dict[str, Any],
    ) -> Generator[_Call, Any, StopResult]:
        req, version = self._request(StopSnapshotRequest, request, api_version, fields)
        call = self._call("StopSnapshot", req, version)
        try:
            r: CallResult = yield call
        except e.TaskNotFoundError as exc:
            if not call.attempts.ambiguous:
                raise
            return StopResult(
                exc.request_id, call.action, call.version, call.attempts.count, None, "already_stopped"
            )
        return StopResult(r.request_id, r.action, r.version, r.attempts, r.result, "stopped")

    def _op_get_task(
        self,
        request: GetSnapshotTaskRequest | None,
        api_version: str | ApiVersion | None,
        fields: dict[str, Any],
    ) -> Generator[_Call, Any, TaskResult]:
        req, version = self._request(GetSnapshotTaskRequest, request, api_version, fields)
        res: CallResult = yield self._call("GetSnapshotTask", req, version)
        result = res.result if isinstance(res.result, dict) else {}
        raw = result.get("SnapshotTask") or result.get("snapshotTask")
        task = SnapshotTask.from_wire(raw) if raw else None
        return TaskResult(res.request_id, res.action, res.version, res.attempts, res.result, task)

    def prepare(
        self,
        action: str,
        request: RequestModel | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> SignedRequest:
        """Build, validate and sign without sending (`--dry-run`)."""
        req, version = self._request(MODELS[action], request, api_version, fields)
        return self.sign(self._call(action, req, version))

    @staticmethod
    def _with_storage(
        request: StartSnapshotRequest | None,
        storage: StorageTarget | str,
        verify_storage: bool | StorageTarget,
        fields: dict[str, Any],
    ) -> tuple[StorageTarget, dict[str, Any]]:
        """The resolved target and the fields with its StorageConfig.

        Why the target and not only its StorageConfig: a StorageConfig has no endpoint, prefix or
        options, so a target rebuilt from it (`Provider.target_for`) is not the one the caller
        meant, and verifying it probes somewhere else.
        """
        if request is not None or "storage_config" in fields:
            where = "in the request model" if request is not None else "as a keyword"
            raise TypeError(
                f"pass either storage= (a StorageTarget or URL) or storage_config ({where}), not both"
            )
        if isinstance(verify_storage, StorageTarget):
            raise TypeError("with storage=, pass verify_storage=True: the storage target is the one verified")
        if not isinstance(storage, StorageTarget | str):
            raise TypeError(f"storage must be a StorageTarget or a URL string (got {type(storage).__name__})")
        from rtcsnap.storage import resolve

        provider, target = resolve(storage)
        return target, {**fields, "storage_config": provider.storage_config(target)}

    def _storage_target(
        self, request: StartSnapshotRequest, verify_storage: bool | StorageTarget
    ) -> StorageTarget:
        """The target to verify: the given one, else one rebuilt from the StorageConfig (no endpoint)."""
        if isinstance(verify_storage, StorageTarget):
            return verify_storage
        from rtcsnap.providers.manager import ProviderManager

        cfg = request.storage_config
        vendor = cfg.custom_config.vendor if cfg.custom_config is not None else None
        provider = ProviderManager.default().for_storage(
            int(cfg.type), None if vendor is None else int(vendor)
        )
        return provider.target_for(cfg)

    @staticmethod
    def _require_fit(report: Any) -> None:
        """Raise unless RTC could write there, naming the target tried (endpoint included) and why."""
        if not report.fit_for_rtc:
            reason = report.reason or e.Reason.OTHER
            failed = [p for p in report.probes if p.status == "failed"]
            probe = next((p for p in failed if p.reason == reason), None) or report.probe("write")
            raise e.StorageError(
                reason,
                f"{report.target} is not writable for RTC ({probe.capability} probe: "
                f"{probe.detail or reason.describe}); StartSnapshot not sent",
                provider=report.provider,
                operation="verify",
            )


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

    def _send(self, call: _Call) -> CallResult:
        limiter = self.limiter(call.action)
        deadline = time.monotonic() + self.total_timeout

        def attempt() -> CallResult:
            call.attempts.count += 1
            with limiter.acquire():
                req = self.sign(call)
                budget = self._budget(deadline)
                try:
                    with self._bounded(budget):
                        resp = self._http.request(
                            req.method, self._url(req), content=req.body or None, headers=req.headers
                        )
                except httpx.HTTPError as exc:
                    raise self._failed(call, self._transport_error(call, exc, budget)) from None
            return self._checked(call, resp)

        return self.retry.call(attempt, deadline=deadline)

    def _bounded(self, budget: _Budget) -> contextlib.AbstractContextManager[None]:
        if self._deadlines is None:
            return contextlib.nullcontext()
        return self._deadlines.deadline(budget.at)

    def _drive(self, op: Generator[_Call | _Verify, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = op.throw(error) if error is not None else op.send(value)
            except StopIteration as done:
                return cast(T, done.value)
            value, error = None, None
            try:
                if isinstance(step, _Verify):
                    from rtcsnap.storage import verify

                    value = verify(step.target)
                else:
                    value = self._send(step)
            except e.RtcSnapError as exc:
                error = exc

    def start(
        self,
        request: StartSnapshotRequest | None = None,
        *,
        storage: StorageTarget | str | None = None,
        verify_storage: bool | StorageTarget = False,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StartResult:
        """StartSnapshot.

        `storage` (a target or URL) builds the StorageConfig through its provider and, with
        `verify_storage=True`, is exactly what gets probed; it excludes `storage_config`.
        Without it, `verify_storage` (True, or the exact target) probes a target rebuilt from
        the StorageConfig, which knows no endpoint.
        """
        return self._drive(self._op_start(request, storage, verify_storage, api_version, fields))

    def update(
        self,
        request: UpdateSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> CallResult:
        """UpdateSnapshot: change a running task's interval (``image_config={"interval": N}``)."""
        return self._drive(self._op_update(request, api_version, fields))

    def stop(
        self,
        request: StopSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StopResult:
        """StopSnapshot; `outcome` is ``already_stopped`` when a retried stop finds the task gone."""
        return self._drive(self._op_stop(request, api_version, fields))

    def get_task(
        self,
        request: GetSnapshotTaskRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> TaskResult:
        """GetSnapshotTask: `task` is the parsed `SnapshotTask` (status, stop reason, effective
        config), None when the answer carries none."""
        return self._drive(self._op_get_task(request, api_version, fields))


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

    async def _send(self, call: _Call) -> CallResult:
        limiter = self.limiter(call.action)
        deadline = time.monotonic() + self.total_timeout

        async def attempt() -> CallResult:
            call.attempts.count += 1
            with await limiter.acquire_async():
                req = self.sign(call)
                budget = self._budget(deadline)
                try:
                    async with asyncio.timeout(budget.left()):
                        resp = await self._http.request(
                            req.method, self._url(req), content=req.body or None, headers=req.headers
                        )
                except (httpx.HTTPError, TimeoutError) as exc:
                    raise self._failed(call, self._transport_error(call, exc, budget)) from None
            return self._checked(call, resp)

        return await self.retry.acall(attempt, deadline=deadline)

    async def _drive(self, op: Generator[_Call | _Verify, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = op.throw(error) if error is not None else op.send(value)
            except StopIteration as done:
                return cast(T, done.value)
            value, error = None, None
            try:
                if isinstance(step, _Verify):
                    from rtcsnap.storage import verify

                    value = await asyncio.to_thread(verify, step.target)  # SDKs block: keep the loop free
                else:
                    value = await self._send(step)
            except e.RtcSnapError as exc:
                error = exc

    async def start(
        self,
        request: StartSnapshotRequest | None = None,
        *,
        storage: StorageTarget | str | None = None,
        verify_storage: bool | StorageTarget = False,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StartResult:
        """See `SnapshotClient.start`; verification runs in a worker thread (storage SDKs block)."""
        return await self._drive(self._op_start(request, storage, verify_storage, api_version, fields))

    async def update(
        self,
        request: UpdateSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> CallResult:
        """See `SnapshotClient.update`."""
        return await self._drive(self._op_update(request, api_version, fields))

    async def stop(
        self,
        request: StopSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StopResult:
        """See `SnapshotClient.stop`."""
        return await self._drive(self._op_stop(request, api_version, fields))

    async def get_task(
        self,
        request: GetSnapshotTaskRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> TaskResult:
        """See `SnapshotClient.get_task`."""
        return await self._drive(self._op_get_task(request, api_version, fields))


__all__ = [
    "AsyncSnapshotClient",
    "CallResult",
    "SignedRequest",
    "SnapshotClient",
    "StartResult",
    "StopResult",
    "TaskResult",
]
