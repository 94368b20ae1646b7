"""A local Qiniu Kodo for tests: up, rs, rsf, uc, api and io on one port, credentials checked.

    with LocalKodoServer() as server:
        server.create_bucket("snaps")
        sdk = server.client()                              # Auth + BucketManager + Region for it
        token = sdk.auth.upload_token("snaps", "a.jpg")
        ret, info = qiniu.put_data(token, "a.jpg", b"...", regions=[sdk.region])
        ret, eof, info = sdk.bucket_manager.list("snaps", prefix="", limit=2)
        resp = sdk.get("snaps", "a.jpg")                   # a private download URL, fetched

**Pointing the official SDK at it** (qiniu 7.18; what `client` does — no `qiniu.set_default`,
whose settings are process-wide): one `qiniu.http.region.Region` whose every service (uc, up,
io, rs, rsf, api) is the server, given to ``BucketManager(auth, regions=[region],
preferred_scheme="http")`` and to ``put_data(..., regions=[region])``. Downloads: each bucket has
a download domain ``http://<bucket>.kodo.invalid`` (`domain_url`; ``.invalid`` never resolves);
sign ``f"{domain}/{quote(key)}"`` (a key's leading ``/`` as ``%2F``: HTTP clients fold ``//``)
with ``auth.private_download_url`` and send the GET to the
server with ``Host: <bucket>.kodo.invalid`` — as one reaches a real bucket through its io
source host — or with the server as the HTTP proxy (``proxies={"http": server.endpoint}``).

**Routing.** A ``Host`` that is a bucket domain is an io download (GET/HEAD ``/<key>``). Else:
``POST /`` multipart (up: ``token``, ``key``, ``file``, ``crc32``), ``POST /stat/<entry>`` and
``/delete/<entry>`` (rs; entry = ``urlsafe_b64("bucket:key")``), ``GET|POST /list`` (rsf),
``/v2/domains?tbl=``, ``/buckets``, ``/v2/bucketInfo?bucket=``, ``/mkbucketv3/<b>/region/<r>`` (uc).

**Checked** (`rtcsnap.testing.kodo_auth`, written from Qiniu's definitions): ``Qiniu`` and
``QBox`` management signatures (``X-Qiniu-Date`` within ±15 min), upload tokens (signature,
``deadline``, ``scope`` — ``bucket:key`` may overwrite, ``bucket`` alone is insert-only,
``insertOnly``, ``isPrefixalScope``, ``fsizeLimit``), the upload's ``crc32``, private download
tokens (signature over the URL as sent, ``e`` deadline), and what the key may do
(`rtcsnap.testing.keys`: Write for up, Read for stat and io, List for rsf, Delete, any action for
the uc domain/bucket reads, Admin for mkbucketv3).

**Answers** as Kodo's (developer.qiniu.com/kodo/3928 error responses, 1352 status codes): JSON
``{"code": status, "error": message}`` (plus ``"error_code": "BadToken"`` as seen in the wild),
``X-Reqid`` on every response (without it the SDK reports a connection failure), 401 ``bad
token``, 401 ``token out of date``, 403 ``key doesn't match scope`` / ``request time too
skewed``, 406 CRC32 mismatch, 400 ``incorrect region`` (an upload to a bucket of another region
than the server's), 404 ``Document not found`` (io), 612 no such file, 614 file exists, 631 no
such bucket, 640 bad marker; listings ``{"items", "commonPrefixes", "marker"}`` with Kodo's
marker shape (base64 of ``{"c":0,"k":last key}``) and ``putTime`` in 100 ns. io sends
``ETag: "<qetag>"`` as Kodo does. **UNCONFIRMED**: `UNKNOWN_KEY_ERROR`, `DENIED_ERROR`, the exact
texts of the 400/406 errors.

**Faults** (`faults`, a `rtcsnap.testing.faults.Faults` answering Kodo-shaped errors, `render_fault`) see each
request under a path naming its object: io and up ``/<bucket>/<key>``, rs ``/<op>/<bucket>/<key>``;
rsf and uc keep theirs (``/list``, ``/v2/domains``). So ``faults.fail("GET", "a.jpg")`` fails
downloads of a.jpg, and ``faults.count("POST", "a.jpg")`` counts its uploads and rs calls.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import io
import json
import re
import secrets as _random
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from werkzeug.wrappers import Request, Response

from rtcsnap import checksums
from rtcsnap.testing import kodo_auth
from rtcsnap.testing.faults import Faults, Headers, Injected, StartResponse, WSGIApp
from rtcsnap.testing.keys import ACTIONS, KeyRing, ServerKey
from rtcsnap.testing.paging import list_page
from rtcsnap.testing.wsgiserver import KeyRingServer

if TYPE_CHECKING:
    import requests
    from qiniu import Auth, BucketManager
    from qiniu.http.region import Region

UNKNOWN_KEY_ERROR: tuple[int, str] = (401, "app/accesskey is not found")
"""UNCONFIRMED: what up, rs, rsf, uc and io answer for an access key Kodo does not know. The text
is documented only for uc's region query (``612 {"error":"app/accesskey is not found"}``,
quoted in qiniu/qshell#298, halo-dev/halo#117, qiniu/nodejs-sdk#263); the status is Kodo's
documented one for "密钥信息不正确" (401). The real service may answer plain ``bad token`` here,
which no client can tell from a wrong secret."""
DENIED_ERROR: tuple[int, str] = (403, "permission denied")
"""UNCONFIRMED: what a key refused an action gets. Kodo keys have no per-action permissions of
their own (only IAM sub-accounts do); 403 is Kodo's documented "权限不足,拒绝访问"."""
DOMAIN_SUFFIX = "kodo.invalid"
"""Bucket download domains are ``<bucket>.kodo.invalid``: they never resolve, so a download that
forgot to go through the server fails instead of reaching the internet."""
MAX_SKEW = 15 * 60
LIST_LIMIT = 1000
ZONES: Mapping[str, str] = MappingProxyType(
    {"cn-east-1": "z0", "cn-east-2": "cn-east-2", "cn-north-1": "z1", "cn-south-1": "z2"}
)
"""Kodo region id -> the SDK's zone id, for the "incorrect region" text (rtcsnap's region table)."""
_PHRASES = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 413: "Request Entity Too Large",
    573: "Too Many Requests", 599: "Service Error", 612: "No Such Entry", 614: "File Exists",
    631: "No Such Bucket", 640: "Invalid Marker",
}  # fmt: skip
_ORIGINAL = "rtcsnap.kodo.path"  # environ: the PATH_INFO the client sent (faults see another)
_RS_OPS = ("stat", "delete")


class KodoError(Exception):
    """An error answer: HTTP status and Kodo's ``error`` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status, self.message = status, message


def _bad_token() -> KodoError:
    return KodoError(401, "bad token")


def _status(code: int) -> str:
    return f"{code} {_PHRASES.get(code, 'Error')}"


def _reqid() -> str:
    return base64.urlsafe_b64encode(_random.token_bytes(12)).decode()


def error_response(status: int, message: str, reqid: str | None = None, head: bool = False) -> Response:
    """Kodo's error shape (``bad token`` also carries the ``error_code`` real responses carry)."""
    body: dict[str, Any] = {"code": status, "error": message}
    if message == "bad token":
        body["error_code"] = "BadToken"
    resp = Response(b"" if head else json.dumps(body), _status(status), content_type="application/json")
    resp.headers["X-Reqid"] = reqid or _reqid()
    return resp


def qetag(data: bytes) -> str:
    hasher = checksums.new_hasher("qetag")
    hasher.update(data)
    return hasher.value()


def encode_marker(last_key: str) -> str:
    return base64.urlsafe_b64encode(
        json.dumps({"c": 0, "k": last_key}, separators=(",", ":")).encode()
    ).decode()


def decode_marker(marker: str) -> str:
    """The last key a marker resumes after; 640 if it is not one of ours."""
    if not marker:
        return ""
    try:
        value = json.loads(kodo_auth.b64decode(marker))["k"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise KodoError(640, "invalid marker") from None
    if not isinstance(value, str):
        raise KodoError(640, "invalid marker")
    return value


@dataclass
class _Object:
    data: bytes
    hash: str
    mime: str
    put_time: int  # 100 ns units since the epoch, as Kodo's putTime
    md5: str

    def describe(self) -> dict[str, Any]:
        return {"fsize": len(self.data), "hash": self.hash, "mimeType": self.mime,
                "putTime": self.put_time, "type": 0, "status": 0, "md5": self.md5}  # fmt: skip


@dataclass
class _Bucket:
    name: str
    region: str
    domain: str  # host name, no scheme
    objects: dict[str, _Object] = field(default_factory=dict)


@dataclass(frozen=True)
class KodoClient:
    """What a user of the official SDK holds for this server: the `Auth`, a `BucketManager` and
    the `Region` (every service at the server) to pass to uploads, plus signed downloads."""

    auth: Auth
    bucket_manager: BucketManager
    region: Region
    server: LocalKodoServer

    def download_url(self, bucket: str, key: str, expires: int = 3600) -> str:
        """The private download URL of `key` on the bucket's (never resolved) domain; a leading
        ``/`` of the key goes as ``%2F`` (HTTP clients fold ``//key`` into ``/key``)."""
        path = quote(key, safe="/~")
        path = "%2F" + path[1:] if path.startswith("/") else path
        return str(self.auth.private_download_url(f"{self.server.domain_url(bucket)}/{path}", expires))

    def fetch(self, url: str, **kwargs: Any) -> requests.Response:
        """GET a download URL through the server (its ``Host`` stays the bucket domain)."""
        import requests

        parts = urlsplit(url)
        target = f"{self.server.endpoint}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        headers = {**kwargs.pop("headers", {}), "Host": parts.netloc}
        return requests.get(target, headers=headers, timeout=kwargs.pop("timeout", 10), **kwargs)

    def get(self, bucket: str, key: str) -> requests.Response:
        return self.fetch(self.download_url(bucket, key))


def render_fault(err: Injected) -> tuple[Headers, bytes]:
    """An injected error in Kodo's shape (JSON ``error``, ``X-Reqid``), so the SDK reports an
    injected status as it would a real one (without ``X-Reqid`` it reports a connection failure)."""
    resp = error_response(err.status, err.message, err.request_id, err.head)
    return [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"], resp.get_data()


class _ObjectPaths:
    """Outermost layer: shows `faults` each request under a path naming its object (see the
    module docstring); the Kodo app gets the request's own path back."""

    def __init__(self, app: WSGIApp, server: LocalKodoServer) -> None:
        self.app, self.server = app, server

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = _wsgi_path(environ)
        environ[_ORIGINAL] = environ.get("PATH_INFO", "")
        logical = self._logical(environ, path)
        if logical is not None:
            environ["PATH_INFO"] = logical.encode("utf-8").decode("latin-1")
        return self.app(environ, start_response)

    def _logical(self, environ: dict[str, Any], path: str) -> str | None:
        bucket = self.server.bucket_of_domain(environ.get("HTTP_HOST", ""))
        if bucket is not None:
            return f"/{bucket}{path}"
        method = environ.get("REQUEST_METHOD", "").upper()
        op, _, entry = path[1:].partition("/")
        if method == "POST" and op in _RS_OPS and (decoded := kodo_auth.decode_entry(entry)):
            return f"/{op}/{decoded[0]}/{decoded[1] or ''}"
        if method == "POST" and path == "/" and "multipart/form-data" in environ.get("CONTENT_TYPE", ""):
            body = _read_body(environ)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
            environ.pop("wsgi.input_terminated", None)
            copy = {**environ, "wsgi.input": io.BytesIO(body)}
            with Request(copy) as parsed:  # closes the form's spooled file parts
                form = parsed.form
                token = kodo_auth.parse_upload_token(form.get("token", ""))
            if token is not None:
                return f"/{token.bucket}/{form.get('key', '')}"
        return None


def _wsgi_path(environ: Mapping[str, Any]) -> str:
    raw: str = environ.get("PATH_INFO", "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


def _read_body(environ: Mapping[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):
        return b"".join(iter(lambda: stream.read(65536), b""))
    data: bytes = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
    return data


def _request_uri(environ: Mapping[str, Any]) -> str:
    """Path and query exactly as the client sent (and signed) them; a proxy request's absolute
    URI loses its scheme and host."""
    raw: str = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO") or "/"
    if "://" in raw.split("?", 1)[0]:
        parts = urlsplit(raw)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return raw


class LocalKodoServer(KeyRingServer):
    """Kodo on ``127.0.0.1:<free port>`` in a daemon thread, with in-memory buckets; a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, region: str = "cn-east-1") -> None:
        super().__init__(host, port)
        self.region = region
        self.keys = KeyRing(prefix="QNAK")
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._domains: dict[str, str] = {}
        self.faults = Faults(self._app, render_error=render_fault)
        self.app = _ObjectPaths(self.faults, self)

    # -- lifecycle, keys, clients ----------------------------------------------------------

    def region_object(self) -> Region:
        """A `qiniu.http.region.Region` with every service (uc too) at this server."""
        from qiniu.http.endpoint import Endpoint
        from qiniu.http.region import Region, ServiceName

        services = {
            sn: [Endpoint.from_host(self.endpoint)] for sn in ServiceName if sn is not ServiceName.UP_ACC
        }
        return Region(region_id=ZONES.get(self.region, self.region), services=services)

    def client(self, credentials: ServerKey | tuple[str, str] | None = None, **options: Any) -> KodoClient:
        """The official SDK set up for this server (admin key by default), as the module docstring
        shows; `options` go to `BucketManager`."""
        from qiniu import Auth, BucketManager

        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, ServerKey) else creds
        auth = Auth(ak, sk)
        region = self.region_object()
        manager = BucketManager(auth, regions=[region], **({"preferred_scheme": "http"} | options))
        return KodoClient(auth, manager, region, self)

    # -- buckets and objects, server-side ----------------------------------------------------

    def create_bucket(self, name: str, *, region: str | None = None, domain: str | None = None) -> str:
        """Create `name` (in the server's region unless `region`: its uploads then get "incorrect
        region"), bound to download `domain` (a host name; default ``<name>.kodo.invalid``; ``""``
        binds none)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", name):
            raise ValueError(f"invalid Kodo bucket name {name!r}")
        host = (f"{name.lower().replace('_', '-')}.{DOMAIN_SUFFIX}" if domain is None else domain).lower()
        with self._lock:
            if name in self._buckets:
                raise ValueError(f"bucket {name!r} exists already")
            if host and host in self._domains:
                raise ValueError(f"domain {host!r} is bound to bucket {self._domains[host]!r}")
            self._buckets[name] = _Bucket(name, region or self.region, host)
            if host:
                self._domains[host] = name
        return name

    def domain_url(self, bucket: str) -> str:
        """``http://<bucket domain>``: what a target's ``domain`` option names."""
        with self._lock:
            host = self._get(bucket).domain
        if not host:
            raise KeyError(f"bucket {bucket!r} has no download domain")
        return f"http://{host}"

    def target_options(self, bucket: str) -> dict[str, str]:
        """What a target URL of `bucket` needs beyond region and endpoint: its download domain."""
        with self._lock:
            bound = bool(self._get(bucket).domain)
        return {"domain": self.domain_url(bucket)} if bound else {}

    def bucket_of_domain(self, host: str) -> str | None:
        name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        with self._lock:
            return self._domains.get(name)

    def put_file(self, bucket: str, key: str, data: bytes, *, mime: str = "application/octet-stream") -> str:
        """Store `data` at `key` without HTTP (seeding benchmarks); returns its qetag."""
        obj = _new_object(data, mime)
        with self._lock:
            self._get(bucket).objects[key] = obj
        return obj.hash

    def objects(self, bucket: str) -> dict[str, bytes]:
        """A snapshot of a bucket's objects by key."""
        with self._lock:
            return {k: o.data for k, o in self._get(bucket).objects.items()}

    def _get(self, bucket: str) -> _Bucket:
        found = self._buckets.get(bucket)
        if found is None:
            raise KeyError(f"no bucket {bucket!r} on this server")
        return found

    def _bucket(self, name: str) -> _Bucket:
        with self._lock:
            found = self._buckets.get(name)
        if found is None:
            raise KodoError(631, "no such bucket")
        return found

    # -- WSGI ----------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["PATH_INFO"] = environ.get(_ORIGINAL, environ.get("PATH_INFO", ""))
        req = Request(environ)
        req.get_data(cache=True)  # read whatever the answer: the keep-alive connection stays in sync
        rid = _reqid()
        try:
            resp = self._route(req)
        except KodoError as err:
            resp = error_response(err.status, err.message, rid, req.method == "HEAD")
        finally:
            req.close()  # an upload's form parts are spooled temp files
        resp.headers["X-Reqid"] = rid
        return resp(environ, start_response)

    def _route(self, req: Request) -> Response:
        bucket = self.bucket_of_domain(req.headers.get("Host", ""))
        if bucket is not None:
            return self._download(req, bucket)
        path, method = req.path, req.method
        op, _, rest = path[1:].partition("/")
        if path == "/" and method == "POST":
            return self._upload(req)
        if op in _RS_OPS and method == "POST":
            return self._rs(req, op, rest)
        if path == "/list" and method in ("GET", "POST"):
            return self._list(req)
        if path == "/v2/domains":
            return self._domains_of(req)
        if path == "/buckets":
            return self._bucket_names(req)
        if path == "/v2/bucketInfo":
            return self._bucket_info(req)
        if op == "mkbucketv3" and method == "POST":
            return self._mkbucket(req, rest)
        raise KodoError(404, "no such api")

    # -- authentication --------------------------------------------------------------------

    def _caller(self, access_key: str) -> ServerKey:
        key = self.keys.get(access_key)
        if key is None:
            raise KodoError(*UNKNOWN_KEY_ERROR)
        return key

    def _manager(self, req: Request, body: bytes) -> ServerKey:
        """The key that signed a management request (``Qiniu`` or ``QBox``), or a KodoError."""
        cred = kodo_auth.parse_authorization(req.headers.get("Authorization", ""))
        if cred is None:
            raise _bad_token()
        key = self._caller(cred.access_key)
        path_query = _request_uri(req.environ)
        content_type = req.environ.get("CONTENT_TYPE") or None
        if cred.scheme == "Qiniu":
            date = req.headers.get("X-Qiniu-Date")
            if date is not None:
                try:
                    signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                except ValueError:
                    raise _bad_token() from None
                if abs((datetime.now(UTC) - signed_at).total_seconds()) > MAX_SKEW:
                    raise KodoError(403, "request time too skewed")
            host = req.headers.get("Host", "")
            data = kodo_auth.mac_data(req.method, path_query, host, content_type, req.headers.items(), body)
        else:
            data = kodo_auth.qbox_data(path_query, content_type, body)
        if not hmac.compare_digest(kodo_auth.sign(key.secret_key, data), cred.signature):
            raise _bad_token()
        return key

    @staticmethod
    def _allow(key: ServerKey, action: str, bucket: str) -> None:
        if not key.allows(action, bucket):
            raise KodoError(*DENIED_ERROR)

    # -- up ------------------------------------------------------------------------------

    def _upload(self, req: Request) -> Response:
        form, files = req.form, req.files
        raw = form.get("token")
        if not raw:
            raise KodoError(401, "token not specified")
        token = kodo_auth.parse_upload_token(raw)
        if token is None:
            raise _bad_token()
        caller = self._caller(token.access_key)
        if not token.valid_for(caller.secret_key):
            raise _bad_token()
        deadline = token.policy.get("deadline")
        if not isinstance(deadline, int) or deadline < time.time():
            raise KodoError(401, "token out of date")
        bucket = self._bucket(token.bucket)
        self._allow(caller, "Write", bucket.name)
        if bucket.region != self.region:
            zone = ZONES.get(bucket.region, bucket.region)
            raise KodoError(400, f"incorrect region, please use up-{zone}.qiniup.com")
        upload = files.get("file")
        if upload is None:
            raise KodoError(400, "file not specified")
        data = upload.read()
        limit = token.policy.get("fsizeLimit")
        if isinstance(limit, int) and len(data) > limit:
            raise KodoError(413, "file size too large")
        crc = form.get("crc32")
        if crc and (not crc.isdigit() or int(crc) != zlib.crc32(data)):
            raise KodoError(406, "crc32 not match")
        obj = _new_object(data, upload.mimetype or "application/octet-stream")
        key = form.get("key", obj.hash)
        scoped = token.scoped_key
        prefixal = bool(token.policy.get("isPrefixalScope"))
        if scoped is not None and not (key == scoped or (prefixal and key.startswith(scoped))):
            raise KodoError(403, "key doesn't match scope")
        insert_only = scoped is None or prefixal or bool(token.policy.get("insertOnly"))
        with self._lock:
            old = bucket.objects.get(key)
            if insert_only and old is not None and old.hash != obj.hash:
                raise KodoError(614, "file exists")
            bucket.objects[key] = obj
        return _json({"hash": obj.hash, "key": key})

    # -- rs, rsf, uc -------------------------------------------------------------------------

    def _rs(self, req: Request, op: str, entry: str) -> Response:
        caller = self._manager(req, req.get_data())
        name, key = kodo_auth.decode_entry(entry) or ("", None)
        if key is None:
            raise KodoError(400, "invalid argument")
        self._allow(caller, "Read" if op == "stat" else "Delete", name)
        bucket = self._bucket(name)
        with self._lock:
            obj = bucket.objects.get(key) if op == "stat" else bucket.objects.pop(key, None)
        if obj is None:
            raise KodoError(612, "no such file or directory")
        return _json(obj.describe()) if op == "stat" else Response(b"", 200)

    def _list(self, req: Request) -> Response:
        body = req.get_data(cache=True)
        caller = self._manager(req, body)
        args = req.args if req.method == "GET" else req.form
        name = args.get("bucket", "")
        self._allow(caller, "List", name)
        bucket = self._bucket(name)
        prefix, delimiter = args.get("prefix", ""), args.get("delimiter", "")
        raw_limit = args.get("limit", "")
        limit = int(raw_limit) if raw_limit.isdigit() and int(raw_limit) > 0 else LIST_LIMIT
        limit = min(limit, LIST_LIMIT)
        after = decode_marker(args.get("marker", ""))
        with self._lock:
            objects = list(bucket.objects.items())
        page, groups, last = list_page(objects, prefix, delimiter, after, limit)
        items = [{"key": k, **obj.describe()} for k, obj in page]
        result: dict[str, Any] = {"items": items, "commonPrefixes": groups}
        if last is not None:
            result["marker"] = encode_marker(last)
        return _json(result)

    def _domains_of(self, req: Request) -> Response:
        caller = self._manager(req, req.get_data())
        name = req.args.get("tbl", "")
        if not any(caller.allows(a, name) for a in ACTIONS):
            raise KodoError(*DENIED_ERROR)
        domain = self._bucket(name).domain
        return _json([domain] if domain else [])

    def _bucket_names(self, req: Request) -> Response:
        caller = self._manager(req, req.get_data())
        with self._lock:
            names = sorted(self._buckets)
        return _json([n for n in names if any(caller.allows(a, n) for a in ACTIONS)])

    def _bucket_info(self, req: Request) -> Response:
        caller = self._manager(req, req.get_data())
        name = req.args.get("bucket", "")
        if not any(caller.allows(a, name) for a in ACTIONS):
            raise KodoError(*DENIED_ERROR)
        bucket = self._bucket(name)
        return _json({"region": ZONES.get(bucket.region, bucket.region), "private": 1, "protected": 0})

    def _mkbucket(self, req: Request, rest: str) -> Response:
        caller = self._manager(req, req.get_data())
        name, _, region_part = rest.partition("/region/")
        self._allow(caller, "Admin", name)
        region = next((r for r, z in ZONES.items() if z == region_part), region_part or self.region)
        try:
            self.create_bucket(name, region=region)
        except ValueError as exc:
            raise KodoError(614 if "exists" in str(exc) else 400, str(exc)) from None
        return Response(b"", 200)

    # -- io ------------------------------------------------------------------------------

    def _download(self, req: Request, name: str) -> Response:
        if req.method not in ("GET", "HEAD"):
            raise KodoError(405, "method not allowed")
        host = req.headers.get("Host", "")
        url = f"{req.environ.get('wsgi.url_scheme', 'http')}://{host}{_request_uri(req.environ)}"
        parts = kodo_auth.download_signed_part(url)
        if parts is None:
            raise KodoError(401, "download token not specified")
        signed, token = parts
        access_key, _, signature = token.rpartition(":")
        caller = self._caller(access_key)
        if not hmac.compare_digest(kodo_auth.sign(caller.secret_key, signed), signature):
            raise _bad_token()
        deadline = kodo_auth.deadline_of(signed)
        if deadline is None or deadline < time.time():
            raise KodoError(401, "token out of date")
        self._allow(caller, "Read", name)
        bucket = self._bucket(name)
        with self._lock:
            obj = bucket.objects.get(_wsgi_path(req.environ)[1:])  # req.path drops a key's leading "/"
        if obj is None:
            raise KodoError(404, "Document not found")
        headers = {
            "ETag": f'"{obj.hash}"',
            "Last-Modified": email.utils.formatdate(obj.put_time / 10_000_000, usegmt=True),
            "Accept-Ranges": "bytes",
        }
        resp = Response(
            b"" if req.method == "HEAD" else obj.data, 200, headers=headers, content_type=obj.mime
        )
        resp.headers["Content-Length"] = str(len(obj.data))
        return resp


def _new_object(data: bytes, mime: str) -> _Object:
    return _Object(bytes(data), qetag(data), mime, time.time_ns() // 100, hashlib.md5(data).hexdigest())


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload), 200, content_type="application/json")


__all__ = [
    "DENIED_ERROR",
    "DOMAIN_SUFFIX",
    "UNKNOWN_KEY_ERROR",
    "ZONES",
    "KodoClient",
    "KodoError",
    "LocalKodoServer",
    "decode_marker",
    "encode_marker",
    "error_response",
    "qetag",
    "render_fault",
]
