"""`Emulator`: the local snapshot OpenAPI as one ASGI app plus the state tests drive.

A request goes: route (Action/Version/method) -> injected failure -> gateway (signature,
policy, quota) -> handler -> envelope, and optionally loses its response afterwards. State
lives on the object (`registry`, `faults`), never in module globals, so emulators are
independent and a test can throw one away.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from rtcsnap.emulator.config import Clock, EmulatorConfig
from rtcsnap.emulator.drop import DroppedResponse, quiet_uvicorn_drops
from rtcsnap.emulator.envelope import (
    JSON,
    ApiError,
    RequestIds,
    encode,
    error_body,
    json_response,
    metadata,
    success_body,
)
from rtcsnap.emulator.faults import SUCCESS, Faults
from rtcsnap.emulator.gateway import Gateway, SignedRequest, first, resolve
from rtcsnap.emulator.handlers import Call, Handlers
from rtcsnap.emulator.quota import QuotaLimiter
from rtcsnap.emulator.registry import TaskObserver, TaskRegistry
from rtcsnap.models import ApiVersion

log = logging.getLogger(__name__)

# Every method reaches the endpoint: a wrong one is InvalidActionOrVersion, not a bare 405.
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


class Emulator:
    """One emulated account and service.

    `clock` is the service's time (task times, the 72 h window, quota windows, RequestIds);
    `auth_clock` is what X-Date is compared with. They are separate so a test can move service
    time (e.g. 73 hours ahead) while clients keep signing with the wall clock.
    """

    def __init__(
        self, config: EmulatorConfig, *, clock: Clock | None = None, auth_clock: Clock | None = None
    ) -> None:
        self.config = config
        self.clock: Clock = clock or time.time
        self.auth_clock: Clock = auth_clock or time.time
        self.registry = TaskRegistry(self.clock)
        self.faults = Faults()
        self.quota = QuotaLimiter()
        self.gateway = Gateway(config, self.auth_clock, self.quota)
        self.handlers = Handlers(config, self.registry)
        self._request_ids = RequestIds()
        self.app = Starlette(routes=[StarletteRoute("/{path:path}", self._endpoint, methods=_METHODS)])
        quiet_uvicorn_drops()

    def add_observer(self, observer: TaskObserver) -> None:
        self.registry.add_observer(observer)

    def remove_observer(self, observer: TaskObserver) -> None:
        self.registry.remove_observer(observer)

    def reset(self) -> None:
        """Forget tasks, fault rules, counters and quota windows (observers stay)."""
        self.registry.clear()
        self.faults.clear()
        self.quota.clear()

    async def _endpoint(self, request: Request) -> Response:
        arrival = self.clock()
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        action, version = first(query, "Action"), first(query, "Version")
        self.faults.arrived(action)
        meta = metadata(self._request_ids.new(arrival), action, version, self.config.region)
        try:
            body, status = success_body(meta, await self._process(request, query, arrival)), 200
            code = SUCCESS
        except ApiError as err:
            body, status, code = error_body(meta, err), self._status(err, version), err.code
        drop = bool(action) and self.faults.take_drop(action)
        self.faults.answered(action, code, dropped=drop)
        if drop:
            return DroppedResponse(encode(body), status_code=status, media_type=JSON)
        return json_response(body, status)

    async def _process(self, request: Request, query: dict[str, list[str]], arrival: float) -> Any:
        route = resolve(request.method, request.url.path, query)
        failure = self.faults.take_failure(route.action.name)
        if failure is not None:
            raise failure
        body = await request.body()
        signed = SignedRequest(request.method, request.url.path, query, dict(request.headers), body)
        caller = self.gateway.authenticate(signed)
        self.gateway.authorize(caller, route)
        self.gateway.throttle(caller, route, arrival)
        try:
            return self.handlers(Call(route, caller, query, body))
        except ApiError:
            raise
        except Exception:
            log.exception("emulator handler failed for %s %s", route.action.name, route.version.value)
            raise ApiError("InternalError", "The emulator failed to process the request.") from None

    def _status(self, err: ApiError, version: str) -> int:
        if self.config.legacy_200_errors and version == ApiVersion.V2022_06_01.value:
            return 200
        return err.entry.http_status


__all__ = ["Emulator"]
