"""Where snapshots live: a provider URL plus the credentials to reach it.

`s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:9000` — the scheme picks the
provider, the rest is provider-neutral. Secrets are `secrets.Secret` and never rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from urllib.parse import parse_qsl, urlencode, urlsplit

from rtcsnap import secrets
from rtcsnap.errors import ConfigurationError
from rtcsnap.secrets import Secret

_RESERVED = ("region", "endpoint")


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and STS token). `repr`/`str` show the access key only."""

    access_key: str
    secret_key: Secret
    session_token: Secret | None = None
    source: str = "explicit"
    extra: Mapping[str, Secret] = field(default_factory=lambda: MappingProxyType({}))
    """A provider's secret target fields by name (a veImageX URL-auth key, …): redacted like the
    secret key, shown by name only."""

    def __post_init__(self) -> None:
        secrets.register(
            self.secret_key.get_secret_value(),
            self.session_token.get_secret_value() if self.session_token else None,
            *(v.get_secret_value() for v in self.extra.values()),
        )

    def with_extra(self, values: Mapping[str, str]) -> Credentials:
        """These credentials plus secret fields `values` (name -> plain value)."""
        merged = {**self.extra, **{k: Secret(v) for k, v in values.items()}}
        return replace(self, extra=MappingProxyType(merged))

    @classmethod
    def of(
        cls,
        access_key: str,
        secret_key: str,
        session_token: str | None = None,
        *,
        source: str = "explicit",
    ) -> Credentials:
        if not access_key:
            raise ConfigurationError("credentials: access key is empty")
        if not secret_key:
            raise ConfigurationError("credentials: secret key is empty")
        return cls(
            access_key,
            Secret(secret_key),
            Secret(session_token) if session_token else None,
            source,
        )

    def redact(self, text: str) -> str:
        """`text` with every credential value replaced by ``***`` (for SDK messages that echo them)."""
        values = [self.access_key, self.secret_key.get_secret_value()]
        if self.session_token is not None:
            values.append(self.session_token.get_secret_value())
        values.extend(v.get_secret_value() for v in self.extra.values())
        for value in values:
            if value:
                text = text.replace(value, "***")
        return text

    def __repr__(self) -> str:
        token = ", session_token='**********'" if self.session_token else ""
        extra = "".join(f", {name}='**********'" for name in sorted(self.extra))
        return (
            f"Credentials(access_key={self.access_key!r}, secret_key='**********'{token}{extra}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class StorageTarget:
    """A bucket (and key prefix) of one provider. Build it with `StorageTarget.parse`."""

    scheme: str
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint: str | None = None
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    credentials: Credentials | None = None

    @classmethod
    def parse(
        cls,
        url: str,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
    ) -> StorageTarget:
        """``SCHEME://BUCKET[/PREFIX][?region=R&endpoint=URL&OPTION=V…]``, e.g.
        ``s3://snaps/rtc?region=us-east-1`` or ``tos://snaps?region=cn-beijing&account_id=2100…``.

        Credentials never go in the URL: pass `access_key`/`secret_key` (+ `session_token`), or
        leave them out and the provider's own chain is used (``AWS_*``, ``VOLC_*``, ``OSS_*``…;
        `rtcsnap providers` lists the schemes, each provider's docs its options).
        """
        parts = urlsplit(url)
        if not parts.scheme or "://" not in url:
            raise ConfigurationError(
                f"target {url!r}: expected SCHEME://BUCKET[/PREFIX][?options], e.g. s3://my-bucket/snaps"
            )
        if parts.username or parts.password:
            raise ConfigurationError(
                "target: do not put credentials in the URL; pass them explicitly or via the environment"
            )
        bucket = parts.hostname or ""
        if parts.port is not None or not bucket:
            raise ConfigurationError(
                f"target {parts.scheme}://{parts.netloc}: the part after :// must be a bucket name"
            )
        query: dict[str, str] = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            if k in query:
                raise ConfigurationError(f"target option {k!r}: given more than once")
            query[k] = v
        endpoint = query.pop("endpoint", None) or None
        if endpoint is not None:
            _check_endpoint(endpoint)
        creds = None
        if access_key or secret_key:
            creds = Credentials.of(access_key or "", secret_key or "", session_token)
        return cls(
            scheme=parts.scheme.lower(),
            bucket=parts.netloc,
            prefix=parts.path.lstrip("/"),
            region=query.pop("region", None) or None,
            endpoint=endpoint,
            options=MappingProxyType(query),
            credentials=creds,
        )

    @property
    def url(self) -> str:
        """The URL form again (never with credentials)."""
        q = {k: v for k, v in (("region", self.region), ("endpoint", self.endpoint)) if v}
        q.update(self.options)
        tail = f"?{urlencode(q, safe=':/')}" if q else ""
        return f"{self.scheme}://{self.bucket}/{self.prefix}{tail}"

    def with_credentials(self, credentials: Credentials | None) -> StorageTarget:
        return replace(self, credentials=credentials)

    def replace(self, **changes: object) -> StorageTarget:
        return replace(self, **changes)  # type: ignore[arg-type]

    def key(self, name: str) -> str:
        """A key under this target's prefix."""
        if not self.prefix:
            return name
        return self.prefix + ("" if self.prefix.endswith("/") else "/") + name

    def __repr__(self) -> str:
        return f"StorageTarget({self.url!r}, credentials={self.credentials!r})"

    __str__ = __repr__


def _check_endpoint(endpoint: str) -> None:
    """An endpoint is a URL with a scheme: ``localhost:9555`` would reach no server (SDKs read
    ``localhost`` as the scheme), so say so at parse time instead of as a network error later."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"target option 'endpoint': {endpoint!r} is not an http(s) URL; "
            f"add the scheme, e.g. http://{endpoint.split('://')[-1]}"
        )
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigurationError(f"target option 'endpoint': {endpoint!r} has an invalid port") from None


__all__ = ["Credentials", "StorageTarget"]
