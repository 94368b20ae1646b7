"""The shared half of our S3-dialect servers (TOS, OSS, OBS, COS): moto's S3 store behind a layer
that checks the vendor's own signatures and key permissions, and speaks the vendor's dialect.

Each vendor server is a `DialectLayer` subclass that implements what differs — `authenticate`
(its signature scheme → the `ServerKey` that signed), `error_response` (its error shape) and
`handle` (its request/response quirks around `MotoBackend.forward`) — and inherits what does not:

* the request body is read first, whatever the answer, so a keep-alive connection stays in sync;
* a HEAD error carries no body and says ``Content-Length: 0`` (TOS's SDK checks; others ignore);
* one request id per answer, in the vendor's header (`request_id_header`);
* the answer to a `DialectError`, and an injected fault (`Faults(render_error=layer.render_fault)`),
  both go through `error_response`, so an SDK reports an injected code exactly as a real one;
* requests reach moto path-style with the vendor's ``x-<vendor>-*`` headers as ``x-amz-*``
  (`MotoBackend`), signed as moto's admin while a `LocalS3Server` holds moto's global auth mode;
* key permissions by `s3_action` (SeaweedFS's action names, `rtcsnap.testing.keys`);
* CRC64-ECMA of object bodies remembered per (bucket, key, ETag) (`CrcMemo`), so 1,000 GETs of
  an object hash it once (the benchmarks measure the client, not our server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http
import io
import threading
import uuid
import xml.etree.ElementTree as ET
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.test import EnvironBuilder

from rtcsnap import checksums
from rtcsnap.testing.faults import Headers, Injected, StartResponse, WSGIApp, call_app
from rtcsnap.testing.keys import KeyRing, ServerKey
from rtcsnap.testing.s3server import MotoQuietHandler, S3OnlyDispatcher, moto_admin
from rtcsnap.testing.wsgiserver import KeyRingServer

Query = list[tuple[str, str]]
UNSIGNED = "UNSIGNED-PAYLOAD"
S3_LIST_PARAMS = frozenset(
    {"list-type", "prefix", "delimiter", "marker", "max-keys", "continuation-token", "start-after"}
    | {"encoding-type", "fetch-owner", "fetch-meta", "reverse"}
)
"""Query parameters of a bucket listing (anything else on a bucket GET is a sub-resource)."""
_MOTO_AUTH = "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/s3/aws4_request, Signature=0"
_CRC_MEMO = 100_000  # remembered object CRCs; the oldest go first
_CANONICAL = {
    name.lower(): name
    for name in ("Accept-Ranges", "Content-Length", "Content-Range", "Content-Type", "ETag", "Last-Modified")
}
"""moto spells these in lower case; real servers do not, and some SDKs read them from a plain,
case-sensitive dict (COS's ``['Last-Modified']``)."""


class DialectError(Exception):
    """An error answer: HTTP status, vendor code and message. Subclasses give `defaults`, the usual
    (status, message) per code, so raising sites name only the code."""

    defaults: ClassVar[Mapping[str, tuple[int, str]]] = {}

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        default_status, default_message = self.defaults.get(code, (500, ""))
        self.code, self.message, self.status = code, message or default_message, status or default_status
        super().__init__(f"{self.status} {code}: {self.message}")

    @classmethod
    def from_moto(cls, status: int, body: bytes) -> Self:
        """moto's XML error (a HEAD has none: a code from the status) in this dialect."""
        code, message = moto_error_fields(status, body)
        return cls(code, message, status)


def v2_string_to_sign(
    method: str, headers: Mapping[str, str], date: str, vendor_headers: str, resource: str
) -> str:
    """The string the AWS-V2 family signs (S3 V2, OSS V1, OBS V2): VERB, Content-MD5,
    Content-Type, Date, then the vendor's canonical headers and resource. `headers` holds
    lower-case names; which headers count and how, each vendor decides (`vendor_headers`)."""
    parts = [method.upper(), headers.get("content-md5", ""), headers.get("content-type", ""), date]
    return "\n".join([*parts, vendor_headers + resource])


def hmac_sha1_signature(secret: str, string_to_sign: str) -> str:
    """Base64 of HMAC-SHA1(secret, string to sign): the AWS-V2 family's signature."""
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def xml_error(
    fields: Iterable[tuple[str, str]], declaration: str = '<?xml version="1.0" encoding="UTF-8"?>'
) -> bytes:
    """An S3-style ``<Error>`` body of `fields` in order (OSS, OBS and COS add their own elements)."""
    inner = "".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in fields)
    return f"{declaration}\n<Error>{inner}</Error>".encode()


def status_line(code: int) -> str:
    try:
        return f"{code} {http.HTTPStatus(code).phrase}"
    except ValueError:  # a fault rule's made-up status
        return f"{code} Error"


def put_header(headers: Headers, name: str, value: str) -> Headers:
    """`headers` with `name` set to `value` (any earlier value, in any case, replaced)."""
    return [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]


def get_header(headers: Headers, name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def header(environ: Mapping[str, Any], name: str) -> str | None:
    """A request header by its HTTP name (``Content-Type``, ``x-oss-date``)."""
    env = name.upper().replace("-", "_")
    value: str | None = environ.get(env if env in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{env}")
    return value


def raw_path(environ: Mapping[str, Any]) -> str:
    """The path as it arrived, still percent-encoded (RAW_URI is a full URL for proxy requests)."""
    raw: str = (environ.get("RAW_URI") or environ.get("PATH_INFO") or "/").split("?", 1)[0]
    return urlsplit(raw).path if "://" in raw else raw


def read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug de-chunks, read to the end
        return b"".join(iter(lambda: stream.read(65536), b""))
    data: bytes = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
    return data


def s3_action(
    method: str,
    bucket: str | None,
    key: str,
    params: Iterable[str],
    list_params: frozenset[str] = S3_LIST_PARAMS,
) -> str:
    """The `KeyRing` action an S3-style request needs. HEAD bucket needs List: a SeaweedFS key with
    only Write, Read or Delete gets 403 there (checked with SeaweedFS 4.x), as AWS asks s3:ListBucket."""
    names = set(params)
    if bucket is None:
        return "Admin"
    if key:
        if method in ("GET", "HEAD"):
            return "Read"
        if method in ("PUT", "POST") or (method == "DELETE" and "uploadId" in names):
            return "Write"
        return "Delete" if method == "DELETE" else "Admin"
    if method == "HEAD" or (method == "GET" and (names <= list_params or "uploads" in names)):
        return "List"
    return "Delete" if method == "POST" and "delete" in names else "Admin"


def moto_error_fields(status: int, body: bytes) -> tuple[str, str]:
    """(code, message) of moto's XML error; a HEAD has none, so a code from the status."""
    code = {404: "NoSuchKey", 403: "AccessDenied", 304: "NotModified"}.get(status, "InternalError")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return code, ""
    return root.findtext("Code") or code, root.findtext("Message") or ""


def crc64(data: bytes) -> str:
    """CRC64-ECMA as TOS, OSS, COS and OBS send it: the unsigned decimal string."""
    hasher = checksums.new_hasher("crc64ecma")
    hasher.update(data)
    return hasher.value()


class CrcMemo:
    """CRC64s of stored objects by (bucket, key, ETag): computed from a PUT's body, or once from the
    first GET, and bounded (the oldest go first). Thread-safe."""

    def __init__(self) -> None:
        self._crcs: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def get(self, ident: tuple[str, str, str]) -> str | None:
        with self._lock:
            return self._crcs.get(ident)

    def put(self, ident: tuple[str, str, str], crc: str) -> None:
        with self._lock:
            self._crcs[ident] = crc
            if len(self._crcs) > _CRC_MEMO:
                del self._crcs[next(iter(self._crcs))]


class _UnsignedS3Auth(S3SigV4Auth):
    def payload(self, request: AWSRequest) -> str:
        return UNSIGNED


class MotoBackend:
    """moto's S3 app, reached path-style: a dialect's requests replayed with its ``x-<vendor>-*``
    headers as ``x-amz-*`` (but `keep`: its own auth headers, which moto must not see)."""

    def __init__(self, vendor: str, keep: Iterable[str] = ()) -> None:
        self.app: WSGIApp = S3OnlyDispatcher(create_backend_app)
        self.prefix = f"HTTP_X_{vendor.upper()}_"
        self.header_prefix = f"x-{vendor.lower()}-"
        self.keep = {k.upper().replace("-", "_") for k in keep}

    def forward(
        self, environ: dict[str, Any], method: str, query: Query, body: bytes, path: str | None = None
    ) -> tuple[int, Headers, bytes]:
        """Replay the request to moto at `path` (default: as received, percent-encoded)."""
        skip = ("HTTP_AUTHORIZATION", "HTTP_EXPECT", "HTTP_TRANSFER_ENCODING", "wsgi.input_terminated")
        prefix = self.prefix
        env = {k: v for k, v in environ.items() if k not in skip and not k.startswith(prefix)}
        for k, v in environ.items():
            if k.startswith(prefix) and k[len(prefix) :] not in self.keep:
                env[f"HTTP_X_AMZ_{k[len(prefix) :]}"] = v
        qs = urlencode(query, quote_via=quote, safe="-_.~")
        uri = (path if path is not None else raw_path(environ)) + (f"?{qs}" if qs else "")
        host = f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"  # path-style
        env.update(REQUEST_METHOD=method, QUERY_STRING=qs, RAW_URI=uri, REQUEST_URI=uri, HTTP_HOST=host)
        env.update({"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)})
        if path is not None:
            env["PATH_INFO"] = path
        env["HTTP_AUTHORIZATION"] = _MOTO_AUTH  # unsigned, moto treats a request as anonymous (403)
        if (admin := moto_admin()) is not None:  # a LocalS3Server holds moto's (global) auth mode
            req = AWSRequest(method=method, url=f"http://{host}{uri}", headers={"Host": host})
            _UnsignedS3Auth(Credentials(*admin), "s3", "us-east-1").add_auth(req)
            env["HTTP_AUTHORIZATION"] = req.headers["Authorization"]
            env["HTTP_X_AMZ_CONTENT_SHA256"] = UNSIGNED
            env["HTTP_X_AMZ_DATE"] = req.headers["X-Amz-Date"]
        status, headers, out = call_app(self.app, env)
        return int(status.split()[0]), headers, out

    def vendor_headers(self, headers: Headers) -> Headers:
        """moto's response headers in the vendor's names (``x-amz-*`` → ``x-<vendor>-*``, standard
        ones in their usual spelling), moto's request ids dropped (the layer sends its own)."""
        p = self.header_prefix
        renamed = [
            (f"{p}{k[6:]}" if k.lower().startswith("x-amz-") else _CANONICAL.get(k.lower(), k), v)
            for k, v in headers
        ]
        return [(k, v) for k, v in renamed if k.lower() not in (f"{p}request-id", "x-amzn-requestid")]

    def create_bucket(self, name: str) -> tuple[int, bytes]:
        """Create `name` straight in moto (no SDK involved)."""
        env = EnvironBuilder(path=f"/{name}", method="PUT").get_environ()
        status, _, body = self.forward(env, "PUT", [], b"", path=f"/{name}")
        return status, body


class DialectLayer(ABC):
    """A WSGI app in front of `MotoBackend`: checks who asks and what they may do, then speaks the
    vendor's dialect. See the module docstring for what subclasses implement."""

    request_id_header: ClassVar[str]
    error_class: ClassVar[type[DialectError]] = DialectError

    def __init__(self, backend: MotoBackend, keys: KeyRing) -> None:
        self.backend, self.keys = backend, keys
        self.crcs = CrcMemo()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        rid, head = self.new_request_id(), environ.get("REQUEST_METHOD", "").upper() == "HEAD"
        try:  # the body is read first, whatever the answer: the keep-alive connection stays in sync
            status, headers, body = self.handle(environ, read_body(environ))
        except DialectError as err:
            status = err.status
            headers, body = self.error_response(err, rid)
        if status >= 300 and head:
            body = b""  # no body on a HEAD error, and say so
        if not head or status >= 300:
            headers = put_header(headers, "Content-Length", str(len(body)))
        start_response(status_line(status), [*headers, (self.request_id_header, rid)])
        return [body]

    @staticmethod
    def new_request_id() -> str:
        return uuid.uuid4().hex[:24].upper()

    @abstractmethod
    def handle(self, environ: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
        """The answer to one request, or a `DialectError`."""

    @abstractmethod
    def error_response(self, err: DialectError, request_id: str) -> tuple[Headers, bytes]:
        """(headers, body) of an error answer in the vendor's shape (Content-Length is set for you)."""

    def render_fault(self, injected: Injected) -> tuple[Headers, bytes]:
        """An injected fault in this dialect's shape (for `Faults(render_error=...)`)."""
        err = self.error_class(injected.code, injected.message, injected.status)
        headers, body = self.error_response(err, injected.request_id)
        return [*headers, (self.request_id_header, injected.request_id)], body

    def authorize(
        self, key: ServerKey, method: str, bucket: str | None, name: str, params: Iterable[str]
    ) -> None:
        """Refuse (AccessDenied) what `key` may not do."""
        action = s3_action(method, bucket, name, params)
        if not key.allows(action, bucket or "*"):
            raise self.error_class("AccessDenied", f"this key may not {action} here", 403)

    def seed(self, bucket: str, key: str, data: bytes) -> str:
        """Store an object straight in moto's backend (no HTTP: seeding 10,000 objects for a
        benchmark), remembering its CRC64 as a PUT would; returns its ETag (the MD5 hex)."""
        from moto.backends import get_backend
        from moto.core.models import DEFAULT_ACCOUNT_ID

        get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"].put_object(
            bucket, key, data, disable_notification=True
        )
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self.crcs.put((bucket, key, etag), crc64(data))
        return etag

    def object_crc(
        self, environ: dict[str, Any], ident: tuple[str, str, str], data: bytes, status: int
    ) -> str | None:
        """The CRC64 of an object: of a PUT's body (remembered unless it is a part), else the
        remembered one, else computed once from this GET (a HEAD fetches the object once)."""
        method, part = environ["REQUEST_METHOD"].upper(), "uploadId" in environ.get("QUERY_STRING", "")
        if method != "PUT":
            if (known := self.crcs.get(ident)) is not None:
                return known
            if method == "HEAD":
                status, _, data = self.backend.forward(environ, "GET", [], b"")
            if status != 200:  # 206: a range, while the CRC is the whole object's
                return None
        crc = crc64(data)
        if not part:
            self.crcs.put(ident, crc)
        return crc


class DialectServer(KeyRingServer):
    """A dialect server on ``127.0.0.1:<free port>`` in a daemon thread; a context manager.
    Subclasses build `layer` (and `keys`, `faults`, `app`) in `__init__`."""

    handler = MotoQuietHandler
    layer: DialectLayer

    def create_bucket(self, name: str) -> str:
        """Create `name` straight in moto (no SDK needed)."""
        status, body = self.layer.backend.create_bucket(name)
        if status >= 300:
            raise self.layer.error_class.from_moto(status, body)
        return name

    def put_object(self, bucket: str, key: str, data: bytes) -> str:
        """Seed one object server-side (no HTTP: a benchmark's 10,000); returns its ETag."""
        return self.layer.seed(bucket, key, data)


__all__ = [
    "S3_LIST_PARAMS",
    "UNSIGNED",
    "CrcMemo",
    "DialectError",
    "DialectLayer",
    "DialectServer",
    "MotoBackend",
    "Query",
    "crc64",
    "get_header",
    "header",
    "hmac_sha1_signature",
    "moto_error_fields",
    "put_header",
    "raw_path",
    "read_body",
    "s3_action",
    "status_line",
    "v2_string_to_sign",
    "xml_error",
]
