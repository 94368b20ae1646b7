"""`SnapshotClient` / `AsyncSnapshotClient`: signed, typed, rate-limited and safe to retry.

What the official example class gets wrong and this does not (anchors §4.1): an answer carrying
`ResponseMetadata.Error` is a failure whatever its HTTP status; failures are typed by code family;
transport errors, 5xx and throttling are retried with full-jitter backoff (never invalid requests);
a StartSnapshot retried after a lost response reports `already_started` instead of an error, and a
StopSnapshot retried the same way reports `already_stopped`; each client owns its state (only the
per-access-key rate limiter is shared, on purpose).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import httpx

from rtcsnap import errors as e
from rtcsnap.models import (
    ApiVersion,
    GetSnapshotTaskRequest,
    SnapshotTask,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)
from rtcsnap.models.requests import RequestModel
from rtcsnap.openapi import codes, signer
from rtcsnap.openapi.api import ACTIONS, DUPLICATE_START_RESULT, ENDPOINTS, SERVICE
from rtcsnap.openapi.credentials import resolve_credentials
from rtcsnap.openapi.ratelimit import RateLimiter, shared_limiter
from rtcsnap.openapi.results import CallResult, SignedRequest, StartResult, StopResult, TaskResult
from rtcsnap.retry import RetryPolicy
from rtcsnap.target import Credentials, StorageTarget

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


@dataclass
class _Attempts:
    count: int = 0
    ambiguous: bool = False
    """A previous attempt may have reached the server (transport error / 5xx after sending)."""


@dataclass(frozen=True)
class _Verify:
    target: StorageTarget


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


def _error_from(meta: Mapping[str, Any], action: str, version: str, status: int) -> e.OpenAPIError:
    err = meta.get("Error") or {}
    code = str(err.get("Code") or "")
    spec = codes.lookup(code) if code else None
    family: type[e.OpenAPIError] = (
        spec.family if spec else (e.ServerError if status >= 500 else e.OpenAPIError)
    )
    exc = family(
        str(err.get("Message") or f"HTTP {status}"),
        code=code,
        code_n=err.get("CodeN") or None,
        request_id=str(meta.get("RequestId") or ""),
        action=action,
        version=version,
        http_status=status,
    )
    if code:
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
    ) -> None:
        self.credentials: Credentials = resolve_credentials(access_key, secret_key, session_token)
        self.endpoint, self.region = _resolve_endpoint(endpoint, region)
        self.api_version = self._version(api_version)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry or RetryPolicy(attempts=5, base=0.2, cap=5.0)
        self._qps = {name: float((qps or {}).get(name, a.qps)) for name, a in ACTIONS.items()}
        self._own_limiters = None if share_rate_limit else {n: RateLimiter(q) for n, q in self._qps.items()}
        self._host = urlsplit(self.endpoint).netloc
        self._urls: dict[str, httpx.URL] = {}

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
            meta = doc["ResponseMetadata"]
        except (ValueError, KeyError, TypeError):
            family = e.ServerError if status >= 500 or status < 400 else e.OpenAPIError
            raise family(
                f"not an OpenAPI response ({len(content)} bytes)",
                action=call.action,
                version=call.version,
                http_status=status,
            ) from None
        if meta.get("Error") or status >= 400:
            raise _error_from(meta, call.action, call.version, status)
        return CallResult(
            str(meta.get("RequestId") or ""),
            call.action,
            call.version,
            call.attempts.count,
            doc.get("Result"),
        )

    def _transport_error(self, call: _Call, exc: httpx.HTTPError) -> e.TransportError:
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        return e.TransportError(
            f"request {what}: {type(exc).__name__}", action=call.action, version=call.version
        )

    def _failed(self, call: _Call, exc: e.OpenAPIError) -> e.OpenAPIError:
        """Record a failed attempt; a transport error or 5xx may have reached the server."""
        if isinstance(exc, e.TransportError) or (
            isinstance(exc, e.ServerError) and exc.http_status is not None
        ):
            call.attempts.ambiguous = True
        log.debug("%s %s attempt %d failed: %s", call.action, call.version, call.attempts.count, exc)
        return exc

    def _checked(self, call: _Call, status: int, content: bytes) -> CallResult:
        try:
            return self._parse(call, status, content)
        except e.OpenAPIError as exc:
            raise self._failed(call, exc) from None

    # -- operations (sans-I/O) -----------------------------------------------------------------
    # Each operation is a generator that yields what must be done — a `_Call` to send or a
    # `_Verify` to run — and receives the outcome (or has the exception thrown in). The sync and
    # async clients only drive these, so the behaviour exists once.

    def _op_start(
        self,
        request: StartSnapshotRequest | None,
        verify_storage: bool | StorageTarget,
        api_version: str | ApiVersion | None,
        fields: dict[str, Any],
    ) -> Generator[_Call | _Verify, Any, StartResult]:
        req, version = self._request(StartSnapshotRequest, request, api_version, fields)
        if verify_storage is not False:
            self._require_fit((yield _Verify(self._storage_target(req, verify_storage))))
        call = self._call("StartSnapshot", req, version)
        try:
            res: CallResult = yield call
        except e.TaskAlreadyExistsError as exc:
            return StartResult(
                exc.request_id, call.action, call.version, call.attempts.count, None, "already_started"
            )
        dup = isinstance(res.result, str) and res.result.strip().startswith(DUPLICATE_START_RESULT[:40])
        return StartResult(
            res.request_id,
            res.action,
            res.version,
            res.attempts,
            res.result,
            "already_started" if dup else "started",
        )

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

    def _storage_target(
        self, request: StartSnapshotRequest, verify_storage: bool | StorageTarget
    ) -> StorageTarget:
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
        if not report.fit_for_rtc:
            reason = report.reason or e.Reason.OTHER
            probe = report.probe("write")
            raise e.StorageError(
                reason,
                f"storage is not writable for RTC ({probe.detail or reason.describe}); StartSnapshot not sent",
                provider=report.provider,
                operation="verify",
            )


class SnapshotClient(_ClientBase):
    """Blocking client over `httpx.Client`. Use as a context manager or call `close()`."""

    def __init__(self, *args: Any, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

        def attempt() -> CallResult:
            call.attempts.count += 1
            with limiter.acquire():
                req = self.sign(call)
                try:
                    resp = self._http.request(
                        req.method, self._url(req), content=req.body or None, headers=req.headers
                    )
                except httpx.HTTPError as exc:
                    raise self._failed(call, self._transport_error(call, exc)) from None
            return self._checked(call, resp.status_code, resp.content)

        return self.retry.call(attempt)

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
        verify_storage: bool | StorageTarget = False,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StartResult:
        """StartSnapshot; `verify_storage` (True, or the exact target) probes the write key first."""
        return self._drive(self._op_start(request, verify_storage, api_version, fields))

    def update(
        self,
        request: UpdateSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> CallResult:
        return self._drive(self._op_update(request, api_version, fields))

    def stop(
        self,
        request: StopSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StopResult:
        return self._drive(self._op_stop(request, api_version, fields))

    def get_task(
        self,
        request: GetSnapshotTaskRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> TaskResult:
        return self._drive(self._op_get_task(request, api_version, fields))


class AsyncSnapshotClient(_ClientBase):
    """The same over `httpx.AsyncClient`; rate limiting and backoff await, never block the loop."""

    def __init__(self, *args: Any, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

        async def attempt() -> CallResult:
            call.attempts.count += 1
            with await limiter.acquire_async():
                req = self.sign(call)
                try:
                    resp = await self._http.request(
                        req.method, self._url(req), content=req.body or None, headers=req.headers
                    )
                except httpx.HTTPError as exc:
                    raise self._failed(call, self._transport_error(call, exc)) from None
            return self._checked(call, resp.status_code, resp.content)

        return await self.retry.acall(attempt)

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
        verify_storage: bool | StorageTarget = False,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StartResult:
        return await self._drive(self._op_start(request, verify_storage, api_version, fields))

    async def update(
        self,
        request: UpdateSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> CallResult:
        return await self._drive(self._op_update(request, api_version, fields))

    async def stop(
        self,
        request: StopSnapshotRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> StopResult:
        return await self._drive(self._op_stop(request, api_version, fields))

    async def get_task(
        self,
        request: GetSnapshotTaskRequest | None = None,
        *,
        api_version: str | ApiVersion | None = None,
        **fields: Any,
    ) -> TaskResult:
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
