"""A local Tencent COS endpoint for tests: moto's S3 store behind a hand-written COS layer.

COS has no path-style addressing: the bucket (``name-APPID``) is always the first label of
``Host``. The official SDK (``cos-python-sdk-v5``, import ``qcloud_cos``) reaches this server
with ``IP``/``Port`` and a fake ``Endpoint`` domain, so it connects to 127.0.0.1 and sends
``Host: <bucket>.cos.<region>.rtcsnap.invalid``; the ``.invalid`` domain cannot resolve should
the IP setting ever be dropped:

    with LocalCOSServer() as server:
        server.create_bucket("snaps-1250000000")
        key = server.key(["Write"])                        # a write-only key, like RTC's
        client = CosS3Client(CosConfig(                    # what server.client(key) returns
            Region="ap-guangzhou", SecretId=key.access_key, SecretKey=key.secret_key,
            Scheme="http", Endpoint="cos.ap-guangzhou.rtcsnap.invalid",
            IP="127.0.0.1", Port=server.port), retry=0)

WSGI stack: a virtual-host shim (``Host`` → ``/bucket/key``, so fault rules and counters see the
paths they see on `LocalS3Server`) → `faults` → `CosLayer` (signature, permissions, COS dialect)
→ moto's S3 backend. moto's state is process-global: use unique bucket names. The server also
serves HTTP-proxy requests (``GET http://<bucket>.cos.<region>.rtcsnap.invalid/key``), which is
how a client configured with a real-looking endpoint hostname reaches it (``http_proxy``).

Modelled on the real service (SDK source ``qcloud_cos/cos_auth.py``, ``cos_client.py``,
``cos_exception.py``; the vendor's API docs "Request Signature" 436/7778 with its worked
example, "Error Codes" 436/7730, "GET Bucket" 436/7734, the 403 troubleshooting page 436/40105):

* the ``q-sign-algorithm=sha1&q-ak=…&q-sign-time=…&q-key-time=…&q-header-list=…&
  q-url-param-list=…&q-signature=…`` signature, in the Authorization header or a presigned
  URL's query: SignKey = HMAC-SHA1(secret, KeyTime); HttpString = method, path, the listed
  parameters and headers (keys lower-case, values percent-encoded); StringToSign =
  ``sha1\\n<SignTime>\\n<sha1(HttpString)>\\n``; the SignTime/KeyTime window is checked;
* a wrong secret is 403 ``SignatureDoesNotMatch``, an unknown SecretId 403 ``InvalidAccessKeyId``
  (the vendor's troubleshooting page names both), an unsigned request 403 ``AccessDenied``;
* errors as ``<Error><Code/><Message/><Resource/><RequestId/><TraceId/></Error>``, plus the
  ``x-cos-error-code``/``x-cos-error-message`` headers (so HEAD errors carry codes) and
  ``x-cos-request-id`` on every answer;
* ``x-cos-hash-crc64ecma`` on PUT, GET and HEAD; a NextMarker (a key) on every truncated listing,
  as the GET Bucket page says COS sends it, delimiter or not;
* a request addressed to another region than the server's finds no bucket there.

A ``x-cos-security-token`` header is signed like any ``x-cos-*`` header but not validated: there
is no STS here. Guesses are in `GUESSED` and `CODE_HEADERS_ON_EVERY_ERROR`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from rtcsnap.errors import ConfigurationError
from rtcsnap.testing.dialect import (
    S3_LIST_PARAMS,
    DialectError,
    DialectLayer,
    DialectServer,
    MotoBackend,
    Query,
    get_header,
    header,
    put_header,
    raw_path,
    xml_error,
)
from rtcsnap.testing.faults import Faults, Headers, Injected, StartResponse, WSGIApp, request_path
from rtcsnap.testing.keys import KeyRing, ServerKey

if TYPE_CHECKING:
    import requests
    from qcloud_cos import CosS3Client

UNKNOWN_KEY_CODE = "InvalidAccessKeyId"
"""What COS answers (403) for a SecretId it does not know: named by the vendor's 403
troubleshooting page (436/40105, "If the signature uses an incorrect SecretId, COS will return
InvalidAccessKeyId"); the message text is ours."""
GUESSED: Mapping[str, tuple[str, int, str]] = MappingProxyType(
    {
        "expired": ("AccessDenied", 403, "Request has expired"),
        "not_yet_valid": ("RequestTimeTooSkewed", 403, "The difference between the request time and the server's time is too large."),
        "malformed": ("AccessDenied", 403, "Invalid Authorization: expected q-sign-algorithm=sha1&q-ak=...&q-signature=..."),
        "other_region": ("NoSuchBucket", 404, "The specified bucket does not exist."),
        "no_bucket": ("InvalidURI", 400, "Could not parse the specified URI: COS takes the bucket from Host"),
    }
)  # fmt: skip
"""UNCONFIRMED: (code, status, message) of answers no vendor source pins down. The 403 page says
an expired signature gives the *message* "Request has expired" and a skewed clock the code
``RequestTimeTooSkewed``, but not which code the former carries (guessed AccessDenied) nor
which of the two a SignTime starting in the future gets; a malformed Authorization, a request
for a bucket of another region (COS's per-region domain finds no bucket: guessed NoSuchBucket,
as S3 has no redirect here) and a request without a bucket in Host are guesses outright."""
CODE_HEADERS_ON_EVERY_ERROR = True
"""UNCONFIRMED: real COS sends ``x-cos-error-code``/``x-cos-error-message`` on HEAD errors (a
``curl -I`` of a COS endpoint shows them; the SDK reads the header first, cos_client.py:510);
that it sends them on errors with an XML body too is a guess. When it does, the SDK reports the
whole XML body as the message (``get_error_msg()``) — a provider must cope with both shapes."""
MAX_SKEW = 15 * 60
"""How far in the future a SignTime may start (clock skew tolerated), in seconds."""
DOMAIN = "rtcsnap.invalid"
TRACE_ID = "cnRjc25hcC1sb2NhbC1jb3M="  # base64("rtcsnap-local-cos"): COS trace ids are base64
_ADDR = "rtcsnap.cos.address"  # environ: (bucket or None, region or None, the path as signed)
_KEEP = ("SECURITY_TOKEN",)  # x-cos-* auth headers: not forwarded to moto as x-amz-*
_AUTH_FIELDS = ("q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list")
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+")
_ERRORS = {  # code → (status, message)
    "AccessDenied": (403, "Access Denied."),
    "InvalidBucketName": (400, "The specified bucket is not valid: name-APPID, [a-z0-9-]"),
    "NoSuchBucket": (404, "The specified bucket does not exist."),
    "NoSuchKey": (404, "The specified key does not exist."),
    "SignatureDoesNotMatch": (403, "The Signature you specified is invalid."),
    UNKNOWN_KEY_CODE: (403, "The SecretId you provided does not exist."),
    **{code: (status, message) for code, status, message in GUESSED.values()},
}


class CosError(DialectError):
    """An error answer: HTTP status, COS code, message and the resource it concerns."""

    defaults = _ERRORS

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        super().__init__(code, message, status)
        self.resource = ""


def guessed(situation: str) -> CosError:
    code, status, message = GUESSED[situation]
    return CosError(code, message, status)


def cos_quote(value: str | bytes) -> str:
    """COS's percent-encoding: everything but ``A-Za-z0-9-_.~`` (``/`` and space included)."""
    return quote(value, safe="-_.~")


def http_string(method: str, path: str, params: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The HttpString of the definition: lower-case method, the (decoded) path, then the signed
    parameters and headers as sorted ``key=value`` pairs joined by ``&`` — keys lower-case and
    values already `cos_quote`-d."""
    joined = ["&".join(f"{k}={v}" for k, v in sorted(pairs.items())) for pairs in (params, headers)]
    return f"{method.lower()}\n{path}\n{joined[0]}\n{joined[1]}\n"


def signature(secret: str, key_time: str, sign_time: str, http: str) -> str:
    """Hex HMAC-SHA1 of ``sha1\\n<SignTime>\\n<sha1 hex of HttpString>\\n``, keyed by the hex
    SignKey = HMAC-SHA1(secret, KeyTime): written from the definition, never the SDK's signer."""
    sign_key = hmac.new(secret.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    digest = hashlib.sha1(http.encode()).hexdigest()
    to_sign = f"sha1\n{sign_time}\n{digest}\n"
    return hmac.new(sign_key.encode(), to_sign.encode(), hashlib.sha1).hexdigest()


def error_body(err: CosError, request_id: str) -> bytes:
    """COS's XML error (every element filled: the SDK's parser drops an error with an empty one)."""
    fields = (
        ("Code", err.code),
        ("Message", err.message or err.code),
        ("Resource", err.resource or "/"),
        ("RequestId", request_id),
        ("TraceId", TRACE_ID),
    )
    return xml_error(fields, declaration="<?xml version='1.0' encoding='utf-8' ?>")


def _window(value: str) -> tuple[int, int] | None:
    start, sep, end = value.partition(";")
    if not (sep and start.isdigit() and end.isdigit()):
        return None
    return int(start), int(end)


class CosLayer(DialectLayer):
    """WSGI app in front of moto: checks who asks and what they may do, then speaks COS."""

    request_id_header = "x-cos-request-id"
    error_class = CosError

    def __init__(self, backend: MotoBackend, keys: KeyRing, region: str) -> None:
        super().__init__(backend, keys)
        self.region = region

    def error_response(self, err: DialectError, request_id: str) -> tuple[Headers, bytes]:
        cos = err if isinstance(err, CosError) else CosError(err.code, err.message, err.status)
        headers = [("Content-Type", "application/xml"), ("x-cos-trace-id", TRACE_ID)]
        if CODE_HEADERS_ON_EVERY_ERROR:
            text = (cos.message or cos.code).encode("ascii", "replace").decode()  # headers are latin-1
            headers += [("x-cos-error-code", cos.code), ("x-cos-error-message", text)]
        return headers, error_body(cos, request_id)

    def render_fault(self, injected: Injected) -> tuple[Headers, bytes]:
        err = CosError(injected.code, injected.message, injected.status)
        err.resource = injected.path
        headers, body = self.error_response(err, injected.request_id)
        return [*headers, (self.request_id_header, injected.request_id)], body

    def handle(self, environ: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
        bucket, region, path = environ.get(_ADDR, (None, None, request_path(environ)))
        try:
            return self._handle(environ, body, bucket, region, path)
        except CosError as err:
            err.resource = f"{bucket}.cos.{region or self.region}.{DOMAIN}{path}" if bucket else path
            raise

    def _handle(
        self, environ: dict[str, Any], body: bytes, bucket: str | None, region: str | None, path: str
    ) -> tuple[int, Headers, bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        key = self._authenticate(environ, method, path, query)
        if bucket is None and path != "/":
            raise guessed("no_bucket")
        if bucket is not None and region not in (None, self.region):
            raise guessed("other_region")
        name = path[1:]
        forwarded = [(k, v) for k, v in query if not k.startswith("q-") and k != "x-cos-security-token"]
        params = {k for k, _ in forwarded}
        self.authorize(key, method, bucket, name, params)
        if bucket and not name and method == "PUT" and not params and not _BUCKET.fullmatch(bucket):
            raise CosError("InvalidBucketName")
        status, headers, out = self.backend.forward(environ, method, forwarded, body)
        if status >= 300:
            raise CosError.from_moto(status, out)
        headers = self.backend.vendor_headers(headers)
        if bucket and name:
            if method in ("PUT", "GET", "HEAD") and "HTTP_X_COS_COPY_SOURCE" not in environ:
                etag = (get_header(headers, "etag") or "").strip('"')
                crc = self.object_crc(environ, (bucket, name, etag), body if method == "PUT" else out, status)
                headers += [("x-cos-hash-crc64ecma", crc)] if crc is not None else []
        elif bucket and method == "GET" and params <= S3_LIST_PARAMS:
            out = _listing(out)
        elif bucket and method == "HEAD":
            headers = put_header(headers, "x-cos-bucket-region", self.region)
        return status, headers, out

    def _authenticate(self, environ: dict[str, Any], method: str, path: str, query: Query) -> ServerKey:
        """The key that signed this request (Authorization header or presigned URL), or a CosError."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth:
            fields = dict(p.split("=", 1) for p in auth.split("&") if "=" in p)
        elif any(k == "q-signature" for k, _ in query):
            fields = {k: v for k, v in query if k.startswith("q-")}
        else:
            raise CosError("AccessDenied", "Access Denied.")  # an anonymous request: the 403 page
        if fields.get("q-sign-algorithm") != "sha1" or not set(_AUTH_FIELDS) <= fields.keys():
            raise guessed("malformed")
        sign_time, key_time = _window(fields["q-sign-time"]), _window(fields["q-key-time"])
        if sign_time is None or key_time is None or "q-signature" not in fields:
            raise guessed("malformed")
        if (key := self.keys.get(fields["q-ak"])) is None:
            raise CosError(UNKNOWN_KEY_CODE)
        now = time.time()
        if min(sign_time[0], key_time[0]) > now + MAX_SKEW:
            raise guessed("not_yet_valid")
        if min(sign_time[1], key_time[1]) < now:
            raise guessed("expired")
        names = [n for n in fields["q-header-list"].split(";") if n]
        received = {cos_quote(k).lower(): v for k, v in query}
        params = {n: cos_quote(received[n]) for n in fields["q-url-param-list"].split(";") if n in received}
        wanted = [n for n in fields["q-url-param-list"].split(";") if n]
        headers = {
            n: cos_quote(v.encode("latin-1")) for n in names if (v := _signed_header(environ, n)) is not None
        }
        http = http_string(method, path, params, headers)
        expected = signature(key.secret_key, fields["q-key-time"], fields["q-sign-time"], http)
        complete = len(params) == len(wanted) and len(headers) == len(names)
        if not complete or not hmac.compare_digest(expected, fields["q-signature"]):
            raise CosError("SignatureDoesNotMatch")
        return key


def _signed_header(environ: Mapping[str, Any], name: str) -> str | None:
    """A signed header as the client signed it. ``host`` without a port: the SDK signs the URL's
    hostname when it sets no Host header itself (cos_auth.py), and its own Host has none."""
    value = header(environ, unquote(name))
    if name == "host" and value is not None:
        return value.rsplit(":", 1)[0] if not value.endswith("]") else value
    return value


def _listing(xml: bytes) -> bytes:
    """moto's ListBucketResult as COS writes it: no namespace, and a key-valued NextMarker on
    every truncated page (moto's is an opaque token, and COS sends it delimiter or not);
    Prefix/Marker percent-encoded like the keys when ``encoding-type=url``."""
    root = ET.fromstring(xml)
    for el in root.iter():
        el.tag = el.tag.rpartition("}")[2]
    encoded = root.findtext("EncodingType") == "url"
    for tag in ("Prefix", "Marker"):
        found = root.find(tag)
        if encoded and found is not None and found.text:
            found.text = quote(found.text)
    for stale in root.findall("NextMarker"):
        root.remove(stale)
    if root.findtext("IsTruncated") == "true":
        keys = [c.findtext("Key") or "" for c in root.findall("Contents")]
        keys += [p.findtext("Prefix") or "" for p in root.findall("CommonPrefixes")]
        if keys:  # the last key in key order (encoding does not preserve it), encoded like the keys
            last = max(unquote(k) for k in keys) if encoded else max(keys)
            ET.SubElement(root, "NextMarker").text = quote(last) if encoded else last
    return b"<?xml version='1.0' encoding='utf-8' ?>\n" + ET.tostring(root, encoding="unicode").encode()


class _VirtualHost:
    """Outermost: ``<bucket>.cos.<region>.<domain>`` in Host → ``/bucket/key`` (the region is
    remembered, to answer a request for another region as COS would)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        labels = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].lower().split(".")
        bucket: str | None = None
        region: str | None = None
        if len(labels) >= 3 and labels[1] == "cos":
            bucket, region = labels[0], labels[2]
        elif len(labels) >= 2 and labels[0] == "cos":  # ``cos.<region>.<domain>``: the service
            region = labels[1]
        path, raw, qs = request_path(environ), raw_path(environ), environ.get("QUERY_STRING", "")
        environ[_ADDR] = (bucket, region, path)
        if bucket is not None:
            tail, raw_tail = ("", "") if path == "/" else (environ.get("PATH_INFO", ""), raw)
            environ["PATH_INFO"] = f"/{bucket}{tail}"
            environ["RAW_URI"] = environ["REQUEST_URI"] = f"/{bucket}{raw_tail}" + (f"?{qs}" if qs else "")
        return self.app(environ, start_response)


class LocalCOSServer(DialectServer):
    """COS on ``127.0.0.1:<free port>`` in a daemon thread; a context manager."""

    layer: CosLayer

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, region: str = "ap-guangzhou") -> None:
        super().__init__(host, port)
        self.host = host
        self.region = region
        self.keys = KeyRing(prefix="AKID")
        self.layer = CosLayer(MotoBackend("cos", keep=_KEEP), self.keys, region)
        self.faults = Faults(self.layer, render_error=self.layer.render_fault)
        self.app = _VirtualHost(self.faults)

    @property
    def virtual_domain(self) -> str:
        """The SDK's ``Endpoint`` for this server: ``cos.<region>.rtcsnap.invalid``, never resolved."""
        return f"cos.{self.region}.{DOMAIN}"

    def create_bucket(self, name: str) -> str:
        """Create `name` straight in moto; COS bucket names carry the APPID (``snaps-1250000000``)."""
        if not _BUCKET.fullmatch(name):
            raise ConfigurationError(
                f"COS bucket {name!r}: expected NAME-APPID ([a-z0-9-], not starting or ending "
                "with '-', then '-' and the numeric APPID), e.g. snapshots-1250000000"
            )
        status, body = self.layer.backend.create_bucket(name)
        if status >= 300:
            raise CosError.from_moto(status, body)
        return name

    def client(
        self,
        credentials: ServerKey | tuple[str, str] | None = None,
        *,
        session: requests.Session | None = None,
        **options: Any,
    ) -> CosS3Client:
        """An official-SDK client for this server (admin key by default), set up as the module
        docstring shows; `options` override any CosConfig argument (``Token=…``), and a
        `session` replaces the SDK's process-wide connection pool."""
        from qcloud_cos import CosConfig, CosS3Client

        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, ServerKey) else creds
        config: dict[str, Any] = {
            "Region": self.region,
            "SecretId": ak,
            "SecretKey": sk,
            "Scheme": "http",
            "Endpoint": self.virtual_domain,
            "IP": self.host,
            "Port": self.port,
        }
        return CosS3Client(CosConfig(**(config | options)), retry=0, session=session)


__all__ = [
    "CODE_HEADERS_ON_EVERY_ERROR",
    "GUESSED",
    "UNKNOWN_KEY_CODE",
    "CosError",
    "CosLayer",
    "LocalCOSServer",
    "cos_quote",
    "http_string",
    "signature",
]
