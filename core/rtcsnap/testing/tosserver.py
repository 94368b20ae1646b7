"""A local Volcengine TOS endpoint for tests: moto's S3 store behind a hand-written TOS layer.

The official SDK (``tos`` 2.9) only speaks virtual-host addressing (``http://<bucket>.<endpoint>/
<key>``), so it reaches this server as an HTTP *proxy*: the request line carries the absolute URL
and the bucket arrives in ``Host``. Nothing but 127.0.0.1 is contacted, and the ``.invalid``
domain cannot resolve should the proxy setting ever be dropped:

    with LocalTOSServer() as server:
        server.create_bucket("snaps")
        key = server.key(["Write"])                       # a write-only key, like RTC's
        client = tos.TosClientV2(*key.credentials,        # what server.client(key) returns
            endpoint="http://tos-cn-beijing.rtcsnap.invalid", region="cn-beijing",
            proxy_host="127.0.0.1", proxy_port=server.port,
            max_retry_count=0, enable_crc=True, dns_cache_time=0)

``is_custom_domain=True`` works too (``server.client(custom_domain=True)``): the SDK then sends
``PUT http://127.0.0.1:PORT/key`` and the object lands in `default_bucket`.

WSGI stack: a virtual-host shim (``Host`` → ``/bucket/key``, so fault rules and counters see the
paths they see on `LocalS3Server`) → `faults` → `TosLayer` (signature, permissions, TOS dialect)
→ moto's S3 backend. moto's state is process-global: use unique bucket names.

Modelled on the real service (SDK source ``tos/auth.py``, ``models2.py``, ``http.py``; the vendor's
own signature test vector; the vendor JS SDK's listing types): TOS4-HMAC-SHA256 header and
presigned-URL signatures, ``X-Tos-Date`` within ±15 min, JSON errors ``{Code, Message, RequestId,
HostId}``, ``x-tos-request-id`` on every response, HEAD errors without a body, CRC64-ECMA in
``x-tos-hash-crc64ecma`` (put/get/head) and as the string ``HashCrc64ecma`` in JSON listings.
Guessed (UNCONFIRMED): `UNKNOWN_KEY_CODE`; the codes for an expired URL, a bad credential scope
and an anonymous request; a key-valued NextMarker on every truncated v1 page; HEAD bucket needing
``List`` (what SeaweedFS does). A security token is signed like any ``x-tos-*`` header but not
validated (no STS here). Re-creating an existing bucket succeeds (moto's us-east-1 rule).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET
from calendar import timegm
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from rtcsnap.testing.dialect import (
    S3_LIST_PARAMS,
    UNSIGNED,
    DialectError,
    DialectLayer,
    DialectServer,
    MotoBackend,
    Query,
    get_header,
    header,
    put_header,
    raw_path,
)
from rtcsnap.testing.faults import Faults, Headers, StartResponse, WSGIApp, request_path
from rtcsnap.testing.keys import KeyRing, ServerKey

if TYPE_CHECKING:
    from tos import TosClientV2

UNKNOWN_KEY_CODE = "InvalidAccessKeyId"
"""UNCONFIRMED: the code is in the vendor's TOS error-code list (ve-tos-golang-sdk ``tos/codes``),
but no source says real TOS answers an unknown access key with it (and 403, as S3 does)."""
ALGORITHM = "TOS4-HMAC-SHA256"
MAX_SKEW = 15 * 60
DOMAIN = "rtcsnap.invalid"
HOST_ID = "rtcsnap-local-tos"
_ADDR = "rtcsnap.tos.address"  # environ: (bucket or None, the path as the client signed it)
_KEEP = ("DATE", "CONTENT_SHA256", "SECURITY_TOKEN")  # x-tos-* auth headers: not forwarded as x-amz-*
_ERRORS = {  # code → (status, message)
    "AccessDenied": (403, "Access Denied"),
    "AuthorizationHeaderMalformed": (400, f"expected {ALGORITHM} Credential=AK/day/region/tos/request"),
    "AuthorizationQueryParametersError": (400, "bad X-Tos-Algorithm, X-Tos-Date or X-Tos-Expires"),
    "InvalidRequest": (400, "no bucket in the Host header and no default bucket"),
    "RequestTimeTooSkewed": (403, "request and server time differ by more than 15 minutes"),
    "SignatureDoesNotMatch": (403, "the signature does not match the one we calculated"),
    UNKNOWN_KEY_CODE: (403, "the access key id does not exist"),
}


class TosError(DialectError):
    """An error answer: HTTP status, TOS code and message (by default the usual one for `code`)."""

    defaults = _ERRORS


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed: Sequence[str],
) -> str:
    """Method, quoted path, sorted quoted query (minus the signature), signed headers, payload hash:
    written from the definition in the SDK's ``tos/auth.py``, never by calling its signer."""
    pairs = sorted((k, v) for k, v in query if k.lower() != "x-tos-signature")
    q = "&".join(f"{quote(k, '-_.~')}={quote(v, '-_.~')}" for k, v in pairs)
    lines = "".join(f"{name}:{headers[name]}\n" for name in signed)
    payload = headers.get("x-tos-content-sha256", UNSIGNED)
    return "\n".join([method.upper(), quote(path, safe="/~"), q, lines, ";".join(signed), payload])


def signature(secret: str, date: str, region: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed by the chain secret → day → region → tos → request."""
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{date}\n{date[:8]}/{region}/tos/request\n{digest}"
    key = secret.encode()
    for part in (date[:8], region, "tos", "request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _error_body(code: str, message: str, request_id: str) -> bytes:
    return json.dumps({"Code": code, "Message": message, "RequestId": request_id, "HostId": HOST_ID}).encode()


class TosLayer(DialectLayer):
    """WSGI app in front of moto: checks who asks and what they may do, then speaks TOS."""

    request_id_header = "x-tos-request-id"
    error_class = TosError

    def __init__(self, backend: MotoBackend, keys: KeyRing, region: str) -> None:
        super().__init__(backend, keys)
        self.region = region

    def error_response(self, err: DialectError, request_id: str) -> tuple[Headers, bytes]:
        return [("Content-Type", "application/json")], _error_body(err.code, err.message, request_id)

    def handle(self, environ: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
        bucket, path = environ.get(_ADDR, (None, request_path(environ)))
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        key = self._authenticate(environ, method, path, query)
        if bucket is None and path != "/":
            raise TosError("InvalidRequest")
        name, forwarded = path[1:], [(k, v) for k, v in query if not k.lower().startswith("x-tos-")]
        params = {k for k, _ in forwarded}
        self.authorize(key, method, bucket, name, params)
        status, headers, out = self.backend.forward(environ, method, forwarded, body)
        if status >= 300:
            raise TosError.from_moto(status, out)
        headers = self.backend.vendor_headers(headers)
        if bucket and name:
            if method in ("PUT", "GET", "HEAD") and "HTTP_X_TOS_COPY_SOURCE" not in environ:
                etag = (get_header(headers, "etag") or "").strip('"')
                crc = self.object_crc(environ, (bucket, name, etag), body if method == "PUT" else out, status)
                headers += [("x-tos-hash-crc64ecma", crc)] if crc is not None else []
        elif bucket and method == "GET" and params <= S3_LIST_PARAMS:
            out, headers = self._listing(bucket, out), put_header(headers, "Content-Type", "application/json")
        elif bucket and method == "HEAD":
            headers = put_header(headers, "x-tos-bucket-region", self.region)
        return status, headers, out

    def _authenticate(self, environ: dict[str, Any], method: str, path: str, query: Query) -> ServerKey:
        """The key that signed this request (Authorization header or presigned URL), or a TosError."""
        params, auth, expires = {k.lower(): v for k, v in query}, environ.get("HTTP_AUTHORIZATION", ""), None
        if auth:
            scheme, _, rest = auth.partition(" ")
            fields = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
            if scheme != ALGORITHM or not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
                raise TosError("AuthorizationHeaderMalformed")
            credential, signed, given = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
            date = environ.get("HTTP_X_TOS_DATE", "")
        elif "x-tos-signature" in params:
            credential, signed = params.get("x-tos-credential", ""), params.get("x-tos-signedheaders", "")
            given, date, expires = (
                params["x-tos-signature"],
                params.get("x-tos-date", ""),
                params.get("x-tos-expires"),
            )
            if params.get("x-tos-algorithm") != ALGORITHM or not (expires or "").isdigit():
                raise TosError("AuthorizationQueryParametersError")
        else:
            raise TosError("AccessDenied", "anonymous access is not allowed")  # UNCONFIRMED code
        scope = credential.split("/")
        if (key := self.keys.get(scope[0])) is None:
            raise TosError(UNKNOWN_KEY_CODE)
        if scope[1:] != [date[:8], self.region, "tos", "request"]:
            raise TosError("AuthorizationHeaderMalformed")  # UNCONFIRMED code
        try:
            skew = timegm(time.strptime(date, "%Y%m%dT%H%M%SZ")) - time.time()
        except ValueError:
            raise TosError("AccessDenied", "X-Tos-Date is missing or not ISO basic") from None
        if skew > MAX_SKEW or (expires is None and skew < -MAX_SKEW):
            raise TosError("RequestTimeTooSkewed")
        if expires is not None and skew + int(expires) < 0:
            raise TosError("AccessDenied", "Request has expired")  # UNCONFIRMED code
        names = [n for n in signed.lower().split(";") if n]
        headers = {n: v for n in names if (v := header(environ, n)) is not None}
        headers["x-tos-content-sha256"] = environ.get("HTTP_X_TOS_CONTENT_SHA256") or UNSIGNED
        expected = signature(
            key.secret_key, date, self.region, canonical_request(method, path, query, headers, names)
        )
        if not set(names) <= headers.keys() or not hmac.compare_digest(expected, given):
            raise TosError("SignatureDoesNotMatch")
        return key

    def _listing(self, bucket: str, xml: bytes) -> bytes:
        """moto's ListBucketResult XML as TOS's JSON (the field names ``tos/models2.py`` reads)."""
        out: dict[str, Any] = {"CommonPrefixes": [], "Contents": []}
        for el in ET.fromstring(xml):
            tag, text = el.tag.rpartition("}")[2], el.text or ""
            if tag == "Contents":
                item: dict[str, Any] = {c.tag.rpartition("}")[2]: c.text or "" for c in el}
                item["Size"] = int(item.get("Size") or 0)
                if (owner := el.find("{*}Owner")) is not None:
                    item["Owner"] = {c.tag.rpartition("}")[2]: c.text or "" for c in owner}
                key = unquote(item["Key"]) if out.get("EncodingType") == "url" else item["Key"]
                crc = self.crcs.get((bucket, key, item.get("ETag", "").strip('"')))
                out["Contents"].append(item if crc is None else {**item, "HashCrc64ecma": crc})
            elif tag == "CommonPrefixes":
                out[tag].append({"Prefix": el.findtext("{*}Prefix") or ""})
            elif tag in ("MaxKeys", "KeyCount"):
                out[tag] = int(text or 0)
            else:
                out[tag] = text == "true" if tag == "IsTruncated" else text
        if "KeyCount" not in out:  # v1: moto's NextMarker is an opaque token; TOS's (as S3's) is a key
            last = [c["Key"] for c in out["Contents"][-1:]] + [
                p["Prefix"] for p in out["CommonPrefixes"][-1:]
            ]
            if out.get("IsTruncated") and last:
                out["NextMarker"] = max(last)  # UNCONFIRMED: that TOS sends it without a delimiter too
        return json.dumps(out).encode()


class _VirtualHost:
    """Outermost: ``<bucket>.tos-…`` in Host (else `default_bucket`: custom domains) → ``/bucket/key``."""

    def __init__(self, app: WSGIApp, default_bucket: str | None) -> None:
        self.app, self.default_bucket = app, default_bucket

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        labels = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].lower().split(".")
        if len(labels) >= 3 and labels[1].startswith("tos-"):
            bucket: str | None = labels[0]
        else:  # ``tos-<region>.<domain>`` alone: a service-level request (list buckets)
            bucket = None if labels[0].startswith("tos-") else self.default_bucket
        path, raw, qs = request_path(environ), raw_path(environ), environ.get("QUERY_STRING", "")
        environ[_ADDR] = (bucket, path)
        if bucket is not None:
            tail, raw_tail = ("", "") if path == "/" else (environ.get("PATH_INFO", ""), raw)
            environ["PATH_INFO"] = f"/{bucket}{tail}"
            environ["RAW_URI"] = environ["REQUEST_URI"] = f"/{bucket}{raw_tail}" + (f"?{qs}" if qs else "")
        return self.app(environ, start_response)


class LocalTOSServer(DialectServer):
    """TOS on ``127.0.0.1:<free port>`` in a daemon thread; a context manager."""

    layer: TosLayer

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        region: str = "cn-beijing",
        default_bucket: str | None = None,
    ) -> None:
        super().__init__(host, port)
        self.host = host
        self.region = region
        self.keys = KeyRing()
        self.layer = TosLayer(MotoBackend("tos", keep=_KEEP), self.keys, region)
        self.faults = Faults(self.layer, render_error=self.layer.render_fault)
        self._vhost = _VirtualHost(self.faults, default_bucket)
        self.app = self._vhost

    @property
    def virtual_endpoint(self) -> str:
        """The TOS endpoint proxied clients are configured with; never resolved."""
        return f"http://tos-{self.region}.{DOMAIN}"

    @property
    def default_bucket(self) -> str | None:
        """The bucket of requests without one in Host (the SDK's ``is_custom_domain=True``)."""
        return self._vhost.default_bucket

    @default_bucket.setter
    def default_bucket(self, name: str | None) -> None:
        self._vhost.default_bucket = name

    def client(self, credentials: ServerKey | tuple[str, str] | None = None, **options: Any) -> TosClientV2:
        """An official-SDK client for this server (admin key by default), set up as the module docstring
        shows; `options` override any TosClientV2 argument. ``custom_domain=True`` gives a client of
        `default_bucket` instead: ``is_custom_domain``, the server itself as endpoint, no proxy."""
        import tos

        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, ServerKey) else creds
        config: dict[str, Any] = {
            "region": self.region,
            "max_retry_count": 0,
            "enable_crc": True,
            "dns_cache_time": 0,
        }
        if options.pop("custom_domain", False):
            config |= {"endpoint": self.endpoint, "is_custom_domain": True}
        else:
            config |= {"endpoint": self.virtual_endpoint, "proxy_host": self.host, "proxy_port": self.port}
        return tos.TosClientV2(ak, sk, **(config | options))


__all__ = [
    "UNKNOWN_KEY_CODE",
    "LocalTOSServer",
    "TosError",
    "TosLayer",
    "canonical_request",
    "signature",
]
