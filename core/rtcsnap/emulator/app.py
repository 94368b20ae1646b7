"""`Emulator`: the local snapshot OpenAPI as one ASGI app plus the state tests drive.

A request goes: size check (declared Content-Length) -> route (Action/Version/method) ->
injected failure -> gateway, header half (Authorization, X-Date, service, key, STS token) ->
body, read capped and with a deadline -> gateway, signature over that body -> IAM policy ->
body syntax (JSON) -> quota -> handler (AppId, app state, model rules) -> envelope, and
optionally loses its response afterwards (docs/assumptions.md A17, A19, A20). State lives on
the object (`registry`, `faults`), never in module globals, so emulators are independent and a
test can throw one away.

A plain ASGI callable rather than a Starlette application: every method and path must get the
JSON envelope (a router answers TRACE or PROPFIND with a plain-text 405), the body must be read
under our limits, and a client that hangs up mid-request is an outcome to count, not an
exception for the server to log as a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from rtcsnap.asgi.body import BodyReader, BodyRefused, ClientGone, check_declared
from rtcsnap.emulator.config import Clock, EmulatorConfig
from rtcsnap.emulator.control import PREFIX, ControlApi
from rtcsnap.emulator.drop import DroppedResponse, quiet_uvicorn_drops
from rtcsnap.emulator.envelope import (
    JSON,
    ApiError,
    RequestIds,
    body_error,
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
from rtcsnap.emulator.rooms import RoomBook, RoomSpec
from rtcsnap.emulator.validation import json_body
from rtcsnap.models import ApiVersion

if TYPE_CHECKING:
    from rtcsnap.emulator.callbacks import CallbackSender
    from rtcsnap.emulator.engine import EngineConfig, SnapshotEngine
    from rtcsnap.emulator.uploads import Sink

log = logging.getLogger(__name__)


class Emulator:
    """One emulated account and service.

    `clock` is the service's time (task times, the 72 h window, quota windows, RequestIds);
    `auth_clock` is what X-Date is compared with. They are separate so a test can move service
    time (e.g. 73 hours ahead) while clients keep signing with the wall clock.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Clock | None = None,
        auth_clock: Clock | None = None,
        rooms: Iterable[RoomSpec] = (),
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
        self.rooms = RoomBook(self.clock, rooms)
        self.engine: SnapshotEngine | None = None
        self.control = ControlApi(self.rooms, self)
        quiet_uvicorn_drops()

    def attach_engine(
        self,
        sink: Sink | None = None,
        *,
        callbacks: CallbackSender | None = None,
        config: EngineConfig | None = None,
        start: bool | None = None,
    ) -> SnapshotEngine:
        """Make started tasks produce images (`SnapshotEngine`), written through `sink` (default:
        an `Uploader` with no endpoint overrides). `start` runs its scheduler on the real clock;
        by default it does unless the emulator is on a `ManualClock` (then `engine.advance`)."""
        from rtcsnap.emulator.config import ManualClock
        from rtcsnap.emulator.engine import SnapshotEngine
        from rtcsnap.emulator.uploads import Uploader

        if self.engine is not None:
            raise RuntimeError("this emulator already has an engine")
        self.engine = SnapshotEngine(
            self.registry,
            self.rooms,
            sink or Uploader(),
            clock=self.clock,
            callbacks=callbacks,
            config=config,
        )
        if start if start is not None else not isinstance(self.clock, ManualClock):
            self.engine.start()
        return self.engine

    def task_status(self) -> list[dict[str, Any]]:
        """The engine's per-task report (the control API's ``/tasks``); [] without an engine."""
        return self.engine.task_status() if self.engine is not None else []

    def close(self) -> None:
        """Stop the engine (in-flight images finish), its callbacks and the rooms' sources."""
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.close()
            if engine.callbacks is not None:
                engine.callbacks.close()
        self.rooms.close()

    def add_observer(self, observer: TaskObserver) -> None:
        self.registry.add_observer(observer)

    def remove_observer(self, observer: TaskObserver) -> None:
        self.registry.remove_observer(observer)

    def reset(self) -> None:
        """Forget tasks, fault rules, counters and quota windows (observers stay)."""
        self.registry.clear()
        self.faults.clear()
        self.quota.clear()

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point (HTTP only; there is no lifespan or websocket here)."""
        if scope["type"] != "http":
            return
        if scope["path"].startswith(PREFIX):
            await self.control(scope, receive, send)
            return
        request = Request(scope)
        reader = BodyReader(
            receive, request.headers, limit=self.config.max_body_bytes, timeout=self.config.body_timeout
        )
        try:
            response = await self._respond(request, reader)
        except ClientGone:
            return  # nobody to answer; uvicorn stays quiet for a disconnected client
        except Exception:
            log.exception("emulator failed on %s %s", request.method, request.url.path)
            meta = metadata(self._request_ids.new(self.clock()), "", "", self.config.region)
            err = ApiError("InternalError", "The emulator failed to process the request.")
            response = json_response(error_body(meta, err), err.entry.http_status)
        if reader.unread:  # an unread body cannot be skipped safely: this connection is done
            response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _respond(self, request: Request, reader: BodyReader) -> Response:
        arrival = self.clock()
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        action, version = first(query, "Action"), first(query, "Version")
        self.faults.arrived(action)
        meta = metadata(self._request_ids.new(arrival), action, version, self.config.region)
        try:
            try:
                result = await self._process(request, reader, query, arrival)
            except BodyRefused as refused:
                raise body_error(refused) from None
            body, status, code = success_body(meta, result), 200, SUCCESS
        except ApiError as err:
            body, status, code = error_body(meta, err), self._status(err, version), err.code
        except ClientGone:
            self.faults.abandon(action)
            raise
        drop = bool(action) and self.faults.take_drop(action)
        self.faults.answered(action, code, dropped=drop)
        if drop:
            return DroppedResponse(encode(body), status_code=status, media_type=JSON)
        return json_response(body, status)

    async def _process(
        self, request: Request, reader: BodyReader, query: dict[str, list[str]], arrival: float
    ) -> Any:
        check_declared(request.headers, reader.limit)
        route = resolve(request.method, request.url.path, query)
        failure = self.faults.take_failure(route.action.name)
        if failure is not None:
            raise failure
        headers = dict(request.headers)
        claim = self.gateway.identify(headers)
        body = await reader.read()
        signed = SignedRequest(request.method, request.url.path, query, headers, body)
        caller = self.gateway.verify(claim, signed)
        self.gateway.authorize(caller, route)
        # Syntax before the quota: a body the service cannot even parse is not counted (A20).
        data = json_body(body) if route.action.method == "POST" else None
        self.gateway.throttle(caller, route, arrival)
        try:
            return self.handlers(Call(route, caller, query, body, data))
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
