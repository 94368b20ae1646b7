"""A local Volcengine veImageX server for tests: OpenAPI, upload host and file host on one port.

    with LocalImageXServer() as server:
        sid = server.create_service()
        svc = server.service()                                   # official ImagexService, admin key
        svc.upload_image_data({"ServiceId": sid, "StoreKeys": ["a/b.jpg"], "Overwrite": True}, [data])
        writer = server.service(server.key(["Write"]).credentials)

**Configuring the official SDK** (volcengine 1.0.229) — what `service()` does, and what the docs
should tell users (drop the last three lines for the real service):

    svc = ImagexService(region)                         # volcengine.imagex.v2.imagex_service
    svc.service_info = copy.deepcopy(svc.service_info)  # ServiceInfo is a module-level singleton
    svc.set_ak(ak); svc.set_sk(sk)                       # after construction: VOLC_* env / ~/.volc win otherwise
    svc.set_host(server.host); svc.set_scheme("http")
    plain_http_uploads(svc.session, server.host)        # the SDK PUTs to a hard-coded https://{UploadHost}

**Keys.** A user-chosen key goes in ``StoreKeys`` of ApplyImageUpload; the file's StoreUri (what
CommitImageUpload returns, GetResourceURL/DeleteImageUploadFiles take and RTC callbacks carry as
``VeImageXUri``) is ``{bucket}/{key}`` with the service's bucket ``tos-cn-i-{ServiceId}``
(`store_uri`); GetImageStorageFiles lists ``Key`` (bare) and ``StoreUri``. URIs without the bucket
are rejected here (UNCONFIRMED that the real service does). Access is checked per action with
`rtcsnap.testing.keys` (List for listing, Read for URLs, Write for Apply/Commit, Delete; any action for
GetImageService/GetServiceDomains), a key's ``bucket`` being a service id.

**Modelled on the real service** (SDK sources, the Go/Java SDK models, docs 508/1158308, GetResourceURL
2023-05-01 doc, common error codes 6369/68677): actions, versions, parameters and result field names
(including the real typo ``InvaildFiles``), the error envelope and the codes in `ERRORS`, Volc-V4
signatures with ``X-Date`` ±15 min, StoreUri/bucket/CompactURL shapes, the listing Marker format
(base64 of ``{"c":0,"k":last key}``, as the docs' example), Limit in [1, 1000] default 10,
UploadNum ≤ 10, StoreKey rules, the PUT's ``Content-CRC32`` and the ``{"success": 0}`` reply the SDK
reads. **UNCONFIRMED (our guesses)**: the rows so marked in `ERRORS`; upload-host and file-host error
statuses and bodies; uploads becoming visible only after CommitImageUpload; refusing an existing key
without ``Overwrite``; the tokens (upload ``Auth``, and file URLs carrying ``auth_key`` in the shape of
CDN URL auth type A, hashed with HMAC-SHA256); URLs always being ``http://`` to this server whatever
``Proto``; templates (``Tpl``) not being applied. `faults` (`rtcsnap.testing.faults`) wraps everything;
key substrings match only file paths (``/{bucket}/{key}``), OpenAPI calls have the path ``/``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import mimetypes
import secrets
import string
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from requests import PreparedRequest, Session
from requests import Response as HTTPResponse
from requests.adapters import HTTPAdapter
from werkzeug.wrappers import Request, Response

from rtcsnap.protocol.signer import DATE_FORMAT, parse_authorization, verify
from rtcsnap.testing.faults import Faults
from rtcsnap.testing.keys import ACTIONS, KeyRing, ServerKey
from rtcsnap.testing.paging import list_page
from rtcsnap.testing.wsgiserver import KeyRingServer

if TYPE_CHECKING:
    from volcengine.imagex.v2.imagex_service import ImagexService

SERVICE = "ImageX"
ERRORS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {  # Code -> (HTTP status, CodeN): volcengine common error codes (docs 6369/68677, 6720/108305)
        "MissingParameter": (400, 100002),
        "MissingAuthenticationToken": (401, 100003),  # also a malformed Authorization (UNCONFIRMED)
        "MissingRequestInfo": (400, 100004),  # no X-Date
        "InvalidTimestamp": (400, 100006),  # 6369/68677 says 400, 6720/108305 says 403
        "ServiceNotFound": (404, 100007),  # documented for an unknown product; for a ServiceId UNCONFIRMED
        "InvalidActionOrVersion": (404, 100008),
        "InvalidAccessKey": (401, 100009),
        "SignatureDoesNotMatch": (401, 100010),  # also a wrong region/service scope (UNCONFIRMED)
        "AccessDenied": (403, 100013),
        "InvalidParameter": (400, 0),  # UNCONFIRMED: veImageX's own code for a bad value is undocumented
    }
)
# Upload host and file host, all UNCONFIRMED (ours): PUT -> 403 bad/expired/misbound Auth, 400 CRC32
# mismatch, both as JSON {"success": -1, "error": {...}}; GET -> 403 missing/forged/expired auth_key,
# 404 no such file, as text/plain.
SKEW_SECONDS = 15 * 60
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
_TRN = "trn:ImageX:*:*:ServiceId/"  # volcengine/imagex/v2/const.py ResourceServiceIdTRN
_REGION_CODES = {"cn-north-1": "cn", "ap-singapore-1": "sg", "us-east-1": "va", "ap-southeast-1": "sg"}
_ID_CHARS = string.ascii_lowercase + string.digits


class _Fail(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class _File:
    data: bytes
    content_type: str
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class _Service:
    id: str
    bucket: str
    domain: str
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    files: dict[str, _File] = field(default_factory=dict)
    pending: dict[str, _File] = field(default_factory=dict)  # PUT, not yet committed


@dataclass(frozen=True)
class _Session:
    service_id: str
    uris: frozenset[str]
    expires: float


class HttpsToHttpAdapter(HTTPAdapter):
    """Sends ``https://`` requests as plain ``http://``: the volcengine SDK builds upload URLs as
    ``https://{UploadHost}/{StoreUri}`` whatever ``set_scheme`` says, so a plain-HTTP server (this one,
    or an http-only proxy) is reachable only by rewriting them. Mount it for one host only."""

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> HTTPResponse:
        if request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


def plain_http_uploads(session: Session, host: str) -> None:
    """Route the SDK's ``https://{host}/...`` upload PUTs of `session` (``svc.session``) over http."""
    session.mount(f"https://{host}/", HttpsToHttpAdapter())


def _cname(svc: _Service) -> str:
    return f"{svc.domain}.cdn.test"


def _request_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(9).upper()


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status, headers=dict(headers or {}), content_type="application/json")


def _missing(name: str) -> NoReturn:
    raise _Fail("MissingParameter", f"The request is missing {name} parameter.")


def _int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        raise _Fail("InvalidParameter", f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise _Fail("InvalidParameter", f"{name} must be in [{low}, {high}], got {value}")
    return value


def check_store_key(key: str) -> None:
    """veImageX's StoreKey rules: no spaces, no leading/trailing or doubled ``/``, at most 180 bytes."""
    if not key or " " in key or key.startswith("/") or key.endswith("/") or "//" in key:
        raise ValueError(f"invalid store key {key!r}: no spaces, no leading/trailing or doubled '/'")
    if len(key.encode()) > 180:
        raise ValueError(f"store key longer than 180 bytes: {key[:40]!r}...")


def encode_marker(last_key: str) -> str:
    return base64.b64encode(json.dumps({"c": 0, "k": last_key}, separators=(",", ":")).encode()).decode()


def _decode_marker(marker: str) -> str:
    if not marker:
        return ""
    try:
        key = json.loads(base64.b64decode(marker, validate=True))["k"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _Fail("InvalidParameter", f"invalid Marker {marker!r}") from None
    if not isinstance(key, str):
        raise _Fail("InvalidParameter", f"invalid Marker {marker!r}")
    return key


class LocalImageXServer(KeyRingServer):
    """veImageX on ``127.0.0.1:<free port>`` in a daemon thread, with in-memory services; a context manager."""

    upload_ttl: float = 3600.0
    """Seconds an ApplyImageUpload's ``Auth`` tokens and SessionKey stay valid."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, region: str = "cn-north-1") -> None:
        super().__init__(host, port)
        self.region = region
        self.keys = KeyRing()
        self.faults = Faults(self._app)
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._services: dict[str, _Service] = {}
        self._sessions: dict[str, _Session] = {}
        self.app = self.faults
        self._actions: dict[tuple[str, str], Callable[[ServerKey, Request], Any]] = {
            ("GetImageService", "2018-08-01"): self._get_image_service,
            ("GetAllImageServices", "2018-08-01"): self._get_all_image_services,
            ("GetServiceDomains", "2018-08-01"): self._get_service_domains,
            ("GetImageStorageFiles", "2018-08-01"): self._list,
            ("GetResourceURL", "2023-05-01"): self._resource_url,
            ("ApplyImageUpload", "2018-08-01"): self._apply,
            ("CommitImageUpload", "2018-08-01"): self._commit,
            ("DeleteImageUploadFiles", "2018-08-01"): self._delete,
        }

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``: what ``svc.set_host`` takes, and the UploadHost ApplyImageUpload returns."""
        return f"{self._bind}:{self.port}"

    # -- keys, clients, seeding ----------------------------------------------------------

    def service(self, credentials: tuple[str, str] | ServerKey | None = None) -> ImagexService:
        """An official ``ImagexService`` for this server, configured as the module docstring shows."""
        from volcengine.imagex.v2.imagex_service import ImagexService

        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, ServerKey) else creds
        svc = ImagexService(self.region)
        svc.service_info = copy.deepcopy(svc.service_info)
        svc.set_ak(ak)
        svc.set_sk(sk)
        svc.set_session_token("")  # the copied singleton may carry another client's STS token
        svc.set_host(self.host)
        svc.set_scheme("http")
        plain_http_uploads(svc.session, self.host)
        return svc

    def create_service(self, service_id: str | None = None, *, domain: str | None = None) -> str:
        """Create a service (10 random ``[a-z0-9]`` like real ids, unless given); returns its id."""
        sid = service_id or "".join(secrets.choice(_ID_CHARS) for _ in range(10))
        if not sid or "/" in sid:
            raise ValueError(f"invalid service id {sid!r}")
        bucket = f"tos-{_REGION_CODES.get(self.region, 'cn')}-i-{sid}"
        with self._lock:
            if sid in self._services:
                raise ValueError(f"service {sid!r} exists already")
            self._services[sid] = _Service(sid, bucket, domain or f"imagex-{sid}.rtcsnap.test")
        return sid

    create_bucket = create_service

    def store_uri(self, service_id: str, key: str) -> str:
        """``{bucket}/{key}``: the URI the OpenAPI takes and returns for `key`."""
        return f"{self._get(service_id).bucket}/{key}"

    def domain(self, service_id: str) -> str:
        return self._get(service_id).domain

    def put_file(
        self, service_id: str, store_key: str, data: bytes, *, content_type: str | None = None
    ) -> str:
        """Store (committed) `data` at `store_key`, bypassing the API; returns its StoreUri."""
        check_store_key(store_key)
        kind = content_type or _guess_type(store_key)
        with self._lock:
            svc = self._get(service_id)
            svc.files[store_key] = _File(bytes(data), kind)
        return f"{svc.bucket}/{store_key}"

    def files(self, service_id: str) -> dict[str, bytes]:
        """A snapshot of the committed files of a service, by key."""
        with self._lock:
            return {k: f.data for k, f in self._get(service_id).files.items()}

    def signed_url(
        self, service_id: str, key: str, *, expires_in: float = 1800, compact: bool = False
    ) -> str:
        """A file URL as GetResourceURL returns it (``ObjURL``, or ``ObjCompactURL`` with `compact`);
        a negative `expires_in` gives an expired one."""
        svc = self._get(service_id)
        path = f"/{key}" if compact else f"/{svc.bucket}/{key}"
        expires, nonce = int(time.time() + expires_in), secrets.token_hex(8)
        token = f"{expires}-{nonce}-{svc.id}-{self._mac('get', path, str(expires), nonce, svc.id)[:32]}"
        return f"{self.endpoint}{quote(path)}?auth_key={token}"

    def _get(self, service_id: str) -> _Service:
        svc = self._services.get(service_id)
        if svc is None:
            raise KeyError(f"no service {service_id!r} on this server")
        return svc

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._secret, "\n".join(parts).encode(), hashlib.sha256).hexdigest()

    # -- WSGI ----------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        req = Request(environ)
        if req.path == "/" and req.method in ("GET", "POST"):
            resp = self._openapi(req)
        elif req.method == "PUT":
            resp = self._upload(req)
        elif req.method in ("GET", "HEAD"):
            resp = self._download(req)
        else:
            resp = Response("method not allowed", 405, content_type="text/plain")
        return resp(environ, start_response)

    def _openapi(self, req: Request) -> Response:
        action, version = req.args.get("Action", ""), req.args.get("Version", "")
        meta: dict[str, Any] = {"RequestId": _request_id(), "Action": action, "Version": version}
        meta |= {"Service": SERVICE, "Region": self.region}
        try:
            if not action or not version:
                _missing("Version" if action else "Action")
            handler = self._actions.get((action, version))
            if handler is None:
                message = f"Could not find operation {action} for version {version}."
                raise _Fail("InvalidActionOrVersion", message)
            result = handler(self._authenticate(req), req)
        except _Fail as fail:
            status, code_n = ERRORS[fail.code]
            meta["Error"] = {"CodeN": code_n, "Code": fail.code, "Message": fail.message}
            return _json({"ResponseMetadata": meta}, status)
        return _json({"ResponseMetadata": meta, "Result": result})

    def _authenticate(self, req: Request) -> ServerKey:
        auth = parse_authorization(req.headers.get("Authorization", ""))
        if auth is None:
            raise _Fail("MissingAuthenticationToken", "Request is missing Authentication Token.")
        key = self.keys.get(auth.access_key)
        if key is None:
            message = f"The accesskey [{auth.access_key}] included in the request is invalid."
            raise _Fail("InvalidAccessKey", message)
        try:
            signed_at = datetime.strptime(req.headers.get("X-Date", ""), DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _Fail("MissingRequestInfo", "The request is missing X-Date information.") from None
        if abs((datetime.now(UTC) - signed_at).total_seconds()) > SKEW_SECONDS:
            raise _Fail("InvalidTimestamp", "The Signature of the request is expired.")
        query, headers = req.args.to_dict(flat=False), dict(req.headers.items())
        scoped = (auth.service, auth.region) == (SERVICE, self.region)
        ok = scoped and verify(auth, key.secret_key, req.method, req.path, query, headers, req.get_data())
        if not ok:
            raise _Fail("SignatureDoesNotMatch", _BAD_SIGNATURE)
        return key

    def _service(self, key: ServerKey, req: Request, need: str | None) -> _Service:
        """The request's ServiceId, if `key` may do `need` there (None: any action)."""
        sid = req.args.get("ServiceId", "")
        if not sid:
            _missing("ServiceId")
        if not any(key.allows(a, sid) for a in ([need] if need else ACTIONS)):
            message = f"User is not authorized to perform: {SERVICE}:{req.args['Action']} on resource: "
            raise _Fail("AccessDenied", message + _TRN + sid)
        with self._lock:
            svc = self._services.get(sid)
        if svc is None:
            raise _Fail("ServiceNotFound", f"This service[{sid}] not found.")
        return svc

    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        try:
            body = json.loads(req.get_data(cache=True) or b"{}")
        except ValueError:
            raise _Fail("InvalidParameter", "the request body is not JSON") from None
        if not isinstance(body, dict):
            raise _Fail("InvalidParameter", "the request body must be a JSON object")
        return body

    def _key_of(self, svc: _Service, uri: str) -> str | None:
        prefix = f"{svc.bucket}/"
        return uri[len(prefix) :] if uri.startswith(prefix) and len(uri) > len(prefix) else None

    # -- actions -------------------------------------------------------------------------

    def _info(self, svc: _Service) -> dict[str, Any]:
        region, created = _REGION_CODES.get(self.region, "cn"), svc.created.strftime("%Y-%m-%d %H:%M:%S")
        domain = {"DomainName": svc.domain, "CNAME": _cname(svc), "Status": "正常", "IsDefault": True}
        storage = {"BktName": svc.bucket, "TTL": 0, "AllTypes": True}
        return {
            "ServiceId": svc.id,
            "ServiceName": svc.id,
            "ServiceRegion": region,
            "ServiceType": "StaticRc",
            "ServiceStatus": "正常",
            "CreateAt": created,
            "DomainInfos": [domain],
            "Storage": storage,
            "AllowBkts": [svc.bucket],
            "ObjectAccess": True,
        }

    def _get_image_service(self, key: ServerKey, req: Request) -> dict[str, Any]:
        return self._info(self._service(key, req, None))

    def _get_all_image_services(self, key: ServerKey, req: Request) -> dict[str, Any]:
        with self._lock:
            mine = [s for s in self._services.values() if any(key.allows(a, s.id) for a in ACTIONS)]
        return {"Services": [self._info(s) for s in mine]}

    def _get_service_domains(self, key: ServerKey, req: Request) -> list[dict[str, Any]]:
        svc = self._service(key, req, None)
        https = {"enable_https": False, "enable_http2": False, "cert_id": ""}
        domain = {"domain": svc.domain, "cname": _cname(svc), "status": "正常", "is_default": True}
        return [domain | {"region": self.region, "https_config": https}]

    def _list(self, key: ServerKey, req: Request) -> dict[str, Any]:
        svc, args = self._service(key, req, "List"), req.args
        limit = _int(args.get("Limit"), "Limit", 10, 1, 1000)
        prefix, delim = args.get("Prefix", ""), args.get("Delimiter", "")
        after = _decode_marker(args.get("Marker", ""))
        with self._lock:
            files = list(svc.files.items())
        page, groups, last = list_page(files, prefix, delim, after, limit)
        items = [
            {"Key": k, "StoreUri": f"{svc.bucket}/{k}", "LastModified": _rfc3339(f.last_modified)}
            | {"FileSize": len(f.data), "StorageClass": "STANDARD"}
            for k, f in page
        ]
        more = last is not None
        marker = encode_marker(last) if last is not None else ""
        return {"Items": items, "HasMore": more, "Marker": marker, "CommonPrefix": groups}

    def _resource_url(self, key: ServerKey, req: Request) -> dict[str, Any]:
        svc, args = self._service(key, req, "Read"), req.args
        for name in ("Domain", "URI"):
            if not args.get(name):
                _missing(name)
        if args["Domain"] != svc.domain:
            raise _Fail("InvalidParameter", f"domain {args['Domain']} is not bound to service {svc.id}")
        store_key = self._key_of(svc, args["URI"])
        if store_key is None:
            raise _Fail("InvalidParameter", f"URI must be {svc.bucket}/<key>, got {args['URI']!r}")
        ttl = _int(args.get("Timestamp"), "Timestamp", 1800, 1, 365 * 86400)
        obj = self.signed_url(svc.id, store_key, expires_in=ttl)
        compact = self.signed_url(svc.id, store_key, expires_in=ttl, compact=True)
        return {"URL": obj, "CompactURL": compact, "ObjURL": obj, "ObjCompactURL": compact}

    def _apply(self, key: ServerKey, req: Request) -> dict[str, Any]:
        svc, args = self._service(key, req, "Write"), req.args
        count = _int(args.get("UploadNum"), "UploadNum", 1, 1, 10)
        keys = args.getlist("StoreKeys")  # the SDK sends a list as repeated StoreKeys= parameters
        overwrite = args.get("Overwrite", "").lower() == "true"
        if keys and len(keys) != count:
            raise _Fail("InvalidParameter", f"StoreKeys has {len(keys)} keys but UploadNum is {count}")
        if not keys:
            prefix = f"{args['Prefix']}/" if args.get("Prefix") else ""
            keys = [f"{prefix}{secrets.token_hex(16)}{args.get('FileExtension', '')}" for _ in range(count)]
        for k in keys:
            try:
                check_store_key(k)
            except ValueError as err:
                raise _Fail("InvalidParameter", str(err)) from None
        expires, session_key = int(time.time() + self.upload_ttl), secrets.token_urlsafe(24)
        uris = [f"{svc.bucket}/{k}" for k in keys]
        auth = f"RtcsnapUpload/{svc.id}/{expires}/"
        infos = [{"StoreUri": u, "Auth": auth + self._mac("put", svc.id, u, str(expires))} for u in uris]
        with self._lock:
            taken = [k for k in keys if k in svc.files]
            if taken and not overwrite:
                raise _Fail("InvalidParameter", f"store key {taken[0]} exists and Overwrite is false")
            now = time.time()  # forget expired sessions, remember this one
            self._sessions = {k: v for k, v in self._sessions.items() if v.expires >= now}
            self._sessions[session_key] = _Session(svc.id, frozenset(uris), expires)
        address = {"SessionKey": session_key, "StoreInfos": infos, "UploadHosts": [self.host]}
        return {"RequestId": _request_id(), "UploadAddress": address}

    def _commit(self, key: ServerKey, req: Request) -> dict[str, Any]:
        svc, body = self._service(key, req, "Write"), self._body(req)
        with self._lock:
            session = self._sessions.get(session_key := str(body.get("SessionKey", "")))
            if session is None or session.service_id != svc.id or session.expires < time.time():
                raise _Fail("InvalidParameter", "invalid or expired SessionKey")
            del self._sessions[session_key]
            results: list[dict[str, Any]] = []
            plugin: list[dict[str, Any]] = []
            for uri in body.get("SuccessOids") or sorted(session.uris):
                k = self._key_of(svc, uri) if uri in session.uris else None
                f = svc.pending.pop(k, None) if k else None
                if k is None or f is None:
                    results.append({"Uri": uri, "UriStatus": 2001})
                    continue
                svc.files[k] = f
                results.append({"Uri": uri, "UriStatus": 2000})
                md5 = hashlib.md5(f.data).hexdigest()
                plugin.append({"ImageUri": uri, "FileName": k, "ImageSize": len(f.data), "ImageMd5": md5})
        return {"RequestId": _request_id(), "Results": results, "PluginResult": plugin}

    def _delete(self, key: ServerKey, req: Request) -> dict[str, Any]:
        svc, uris = self._service(key, req, "Delete"), self._body(req).get("StoreUris")
        if not isinstance(uris, list) or not 0 < len(uris) <= 1000 or {type(u) for u in uris} != {str}:
            raise _Fail("InvalidParameter", "StoreUris must be a list of 1 to 1000 URIs")
        deleted: list[str] = []
        invalid: list[str] = []
        with self._lock:
            for uri in uris:
                k = self._key_of(svc, uri)
                (deleted if k is not None and svc.files.pop(k, None) is not None else invalid).append(uri)
        return {"DeletedFiles": deleted, "InvaildFiles": invalid}  # sic: the real field name

    # -- upload host and file host ---------------------------------------------------------

    def _upload(self, req: Request) -> Response:
        """``PUT /{StoreUri}`` with the Apply's ``Auth`` and a ``Content-CRC32`` of the body."""
        uri, logid = req.path[1:], {"X-Tt-Logid": _request_id()}
        data = req.get_data()
        if req.args:
            return self._put_reply(400, "multipart upload is not supported by this test server", logid)
        parts = req.headers.get("Authorization", "").split("/")
        sid, expires = (parts[1], parts[2]) if len(parts) == 4 and parts[0] == "RtcsnapUpload" else ("", "0")
        good = hmac.compare_digest(parts[-1], self._mac("put", sid, uri, expires)) if sid else False
        if not good or not expires.isdigit() or int(expires) < time.time():
            return self._put_reply(403, "invalid or expired upload Auth", logid)
        crc = f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"
        if req.headers.get("Content-CRC32", "").lower() != crc:
            return self._put_reply(400, f"crc32 mismatch: body is {crc}", logid)
        kind = req.headers.get("Specified-Content-Type") or _guess_type(uri)
        with self._lock:
            svc = self._services.get(sid)
            k = self._key_of(svc, uri) if svc else None
            if svc is None or k is None:
                return self._put_reply(404, "no such service", logid)
            svc.pending[k] = _File(data, kind)
        return self._put_reply(200, "", logid, crc)

    @staticmethod
    def _put_reply(status: int, message: str, headers: Mapping[str, str], crc: str = "") -> Response:
        code = 0 if status == 200 else -1
        error = {"code": status, "error": message, "error_code": code, "message": message}
        body = {"success": code, "error": error, "payload": {"hash": crc} if crc else {}}
        return _json(body, status, headers)

    def _download(self, req: Request) -> Response:
        """GET/HEAD of a URL `signed_url` made: 403 without a valid unexpired token, 404 without the file."""
        path, token = req.path, req.args.get("auth_key", "")
        try:
            expires, nonce, rest = token.split("-", 2)
            sid, digest = rest.rsplit("-", 1)
        except ValueError:
            return Response("403 Forbidden: missing or malformed auth_key", 403, content_type="text/plain")
        want = self._mac("get", path, expires, nonce, sid)[:32]
        if not hmac.compare_digest(digest, want) or not expires.isdigit() or int(expires) < time.time():
            return Response("403 Forbidden: invalid or expired auth_key", 403, content_type="text/plain")
        with self._lock:
            svc = self._services.get(sid)
            k = (self._key_of(svc, path[1:]) or path[1:]) if svc else None
            f = svc.files.get(k) if svc and k else None
        if f is None:
            return Response("404 Not Found", 404, content_type="text/plain")
        headers = {"Last-Modified": f.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")}
        return Response(f.data, 200, headers=headers, content_type=f.content_type)


__all__ = [
    "ERRORS",
    "HttpsToHttpAdapter",
    "LocalImageXServer",
    "check_store_key",
    "encode_marker",
    "plain_http_uploads",
]
