"""The one interface every storage speaks.

A `Provider` describes a storage (name, URL scheme, StorageConfig Type/Vendor, region table,
capabilities) and builds the StartSnapshot `StorageConfig` payload. A `Session` implements the
handful of primitives that differ between SDKs. Everything else — probing, paging, retries,
concurrency, atomic writes, checksums — lives once in `rtcsnap.storage`.

Contract rules a provider must keep:
* every SDK failure leaves a primitive as a `StorageError` with a `Reason`: a *raised* one through
  ``with self.sdk(op, key):`` → `translate`, a *returned* one (OBS ``resp.status``, qiniu's
  ``(ret, info)``, a plain HTTP response) through ``self.check(result, op, key)`` → `failure`;
  both end in the same redaction, and an `RtcSnapError` raised inside passes through untouched;
* the SDK's own retries are off: core retries (a failed request costs exactly core's attempts);
* `get` streams: never read a whole object into memory;
* `list_page` returns one page and a cursor that core hands back untouched (the SDK's token, or
  whatever string the provider needs to resume); loops live in core, and a page that says
  "more" without a way to resume is an error, never a silent end or an endless loop;
* `stat` is the cheapest call that describes one object (HEAD), so a re-run decides to skip
  without opening a GET;
* a `Session` is used from one thread at a time (core opens one per worker thread), unless
  the provider declares `thread_safe_sessions` (its SDK client is documented thread-safe): then
  the workers share one, which saves a client per thread (botocore: ~0.2 s of CPU each).
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType, TracebackType
from typing import IO, Any, ClassVar, Self, TypeVar

from rtcsnap.errors import ConfigurationError, Reason, RtcSnapError, StorageError
from rtcsnap.target import Credentials, StorageTarget

CHUNK_SIZE = 256 * 1024
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_R = TypeVar("_R")


@dataclass(frozen=True)
class TargetField:
    """A typed, provider-declared part of a target beyond bucket/prefix/region/endpoint.

    Plain fields (an AccountId) are URL options (``?account_id=…``) or come from `env`; a `secret`
    field (a URL-auth key) is never accepted in the URL — it comes from `env` or
    ``Credentials.extra`` and is redacted wherever the credentials are."""

    help: str
    env: str | None = None
    """Environment variable read when the target does not set the field."""
    secret: bool = False
    required: bool = False
    """Required for every use of the target (sessions and StorageConfig)."""
    pattern: str | None = None
    """A regular expression the value must match in full."""
    rule: str = ""
    """The pattern in words, for the error message."""


@dataclass(frozen=True)
class Capabilities:
    """What a provider's SDK can do; core and the contract suite skip what is absent."""

    list: bool = True
    delete: bool = True
    upload: bool = True
    checksums: tuple[str, ...] = ()
    """Algorithms `Session.checksum` may return, e.g. ``("md5",)`` or ``("crc64ecma",)``."""

    def names(self) -> builtins.list[str]:
        caps = [n for n in ("list", "delete", "upload") if getattr(self, n)]
        return caps + [f"checksum:{c}" for c in self.checksums]


@dataclass(frozen=True, slots=True)  # slots: a listing builds one per object
class ObjectInfo:
    """What a listing or a GET says about one object."""

    key: str
    size: int
    etag: str | None = None
    last_modified: datetime | None = None
    checksums: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Provider-declared checksums by algorithm (e.g. ``{"crc64ecma": "1234"}``), as received."""
    uri: str | None = None
    """The storage's own name for the object where it is not the key (veImageX: the StoreUri
    ``BUCKET/KEY`` that RTC's callback reports as `VeImageXUri`); None: the key is the name."""


@dataclass(frozen=True)
class Checksum:
    """What the downloaded bytes must hash to: an algorithm registered in `rtcsnap.checksums`,
    the value as the service sent it, and the algorithm's parameters (e.g. ``part_size``)."""

    algorithm: str
    value: str
    params: Mapping[str, int | tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, spec: Checksum | tuple[str, str] | None) -> Checksum | None:
        """Accept the older ``(algorithm, value)`` tuple form too."""
        if spec is None or isinstance(spec, Checksum):
            return spec
        algorithm, value = spec
        return cls(algorithm, value)


@dataclass(frozen=True)
class Page:
    items: list[ObjectInfo]
    next_cursor: str | None

    @classmethod
    def resuming(cls, items: list[ObjectInfo], cursor: str | None, more: bool, where: str, name: str) -> Page:
        """A page whose service said whether `more` follow: then `cursor` (the service's `name`
        field) must be there, or the listing would end silently or loop — an error instead.
        `where` is the target URL of the listing (``scheme://bucket/prefix``)."""
        if more and not cursor:
            raise StorageError(
                Reason.OTHER,
                f"{where}: the listing says more follows but gives no {name} to resume from",
                provider=where.partition("://")[0],
                operation="list",
            )
        return cls(items, cursor if more else None)


class ObjectStream:
    """A GET in progress: `info` plus a chunk iterator; always close it (use `with`)."""

    def __init__(
        self, info: ObjectInfo, chunks: Iterator[bytes], close: Callable[[], None] = lambda: None
    ) -> None:
        self.info = info
        self._chunks = chunks
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def read(self) -> bytes:
        """Whole body; for probes and tests only — downloads stream."""
        return b"".join(self._chunks)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


Body = bytes | IO[bytes]


class Session(ABC):
    """Primitives over one SDK client, opened for one `StorageTarget`.

    Wrap each SDK call in ``with self.sdk("operation", key):`` and implement `translate`: that is
    the single place where the SDK's exceptions (`sdk_errors`) become a `StorageError`.
    """

    sdk_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    """What the SDK raises; `sdk()` hands these (and their subclasses) to `translate`."""
    sdk_exact_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    """Types matched exactly, not their subclasses: volcengine raises a bare `Exception`, and
    declaring ``(Exception,)`` here keeps a `KeyError` in the provider a bug, not an SDK failure."""

    def __init__(self, provider: Provider, target: StorageTarget) -> None:
        self.provider = provider
        self.target = target

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        """Map an SDK exception to a `StorageError` with a `Reason`; override per provider."""
        return StorageError(
            Reason.OTHER, f"{type(exc).__name__}", provider=self.provider.name, operation=operation
        )

    def require_credentials(self) -> Credentials:
        """The target's credentials, or a one-line error saying where this provider looks."""
        creds = self.target.credentials
        if creds is None:
            where = f", or {self.provider.credentials_hint}" if self.provider.credentials_hint else ""
            raise ConfigurationError(f"{self.provider.name}: no credentials: pass access/secret keys{where}")
        return creds

    def failure(self, result: Any, operation: str, key: str = "") -> StorageError | None:
        """The failure a *returned* SDK result reports, translated; None when it is a success.
        Override for SDKs that answer errors instead of raising them."""
        return None

    @contextlib.contextmanager
    def sdk(self, operation: str, key: str = "") -> Iterator[None]:
        """Translate SDK exceptions raised inside the block; credentials are redacted from the message.

        An `RtcSnapError` (the provider's own `StorageError`, a `ConfigurationError`) is already
        what core understands and passes through, even when `sdk_errors` is as wide as
        ``(Exception,)``."""
        try:
            yield
        except RtcSnapError:
            raise
        except BaseException as exc:
            if isinstance(exc, self.sdk_errors) or type(exc) in self.sdk_exact_errors:
                raise self._redacted(self.translate(exc, operation, key)) from exc
            raise

    def check(self, result: _R, operation: str, key: str = "") -> _R:
        """`result` if it is a success, else its `failure` raised (redacted like `sdk`)."""
        err = self.failure(result, operation, key)
        if err is not None:
            raise self._redacted(err)
        return result

    def _redacted(self, err: StorageError) -> StorageError:
        if self.target.credentials is not None:
            err.message = self.target.credentials.redact(err.message)
            err.args = (err._format(),)
        return err

    @abstractmethod
    def head_bucket(self) -> None:
        """Cheapest call that proves the bucket exists and the key is accepted."""

    @abstractmethod
    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo: ...

    @abstractmethod
    def get(self, key: str) -> ObjectStream: ...

    @abstractmethod
    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def stat(self, key: str) -> ObjectInfo:
        """What a GET of `key` would say, without its body; raises `StorageError(NOT_FOUND)`.
        The default opens a GET and closes it unread: correct, not cheap — override with a HEAD."""
        with self.get(key) as stream:
            return stream.info

    def checksum(self, info: ObjectInfo) -> Checksum | tuple[str, str] | None:
        """What the bytes of the object `info` describes (from its GET) must hash to, if the storage
        offers a checksum; None means the download is checked by size only and reported unverified.

        The default takes the first of the provider's declared `Capabilities.checksums` present
        in ``info.checksums``, then — for a provider declaring ``md5`` — an ETag that is an MD5
        (32 hex digits: an S3-style single-part ETag); override to derive one (e.g. an MD5 ETag) or to call the SDK
        (wrapped in `sdk()`), e.g. to learn a multipart object's part size."""
        declared = self.provider.capabilities.checksums
        for algorithm in declared:
            value = info.checksums.get(algorithm)
            if value:
                return Checksum(algorithm, value)
        etag = (info.etag or "").lower()
        if "md5" in declared and _MD5_HEX.fullmatch(etag):  # S3-style: a single-part ETag is the MD5
            return Checksum("md5", etag)
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release SDK resources."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Provider(ABC):
    """A storage kind. Subclasses set the class attributes and implement two methods."""

    name: ClassVar[str]
    """Short unique id, e.g. ``"s3"``."""
    scheme: ClassVar[str]
    """URL scheme of its targets, e.g. ``"s3"``."""
    storage_type: ClassVar[int]
    """StorageConfig.Type it serves: 0 TOS, 2 third-party (CustomConfig), 3 veImageX."""
    vendor: ClassVar[int | None] = None
    """CustomConfig.Vendor for Type 2 (0 S3, 1 OSS, 2 OBS, 3 COS, 4 Kodo)."""
    region_table: ClassVar[str | None] = None
    """Name of the region table in `rtcsnap.regions` (e.g. ``"s3"``)."""
    capabilities: ClassVar[Capabilities] = Capabilities()
    options: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Extra URL query options the provider accepts, name -> help."""
    fields: ClassVar[Mapping[str, TargetField]] = MappingProxyType({})
    """Typed target fields (account id, a second secret); see `TargetField`."""
    credential_env: ClassVar[tuple[str, str] | None] = None
    """(access key, secret key) environment variables read when no credentials are given."""
    session_token_env: ClassVar[str | None] = None
    credentials_hint: ClassVar[str] = ""
    """Where else credentials come from, for the "no credentials" error (e.g. "configure the AWS chain")."""
    thread_safe_sessions: ClassVar[bool] = False
    """True when one `Session` may serve several threads at once (the SDK client is thread-safe)."""
    sdk_loggers: ClassVar[tuple[str, ...]] = ()
    """Logger names of the SDK (e.g. ``("botocore", "urllib3")``): their records pass through the
    secret-redaction filter of `rtcsnap.logs` before any handler sees them."""
    description: ClassVar[str] = ""
    target_help: ClassVar[str] = ""
    """The TARGET URL form, for help texts: ``s3://BUCKET[/PREFIX]?region=us-east-1[&endpoint=URL]``
    (brackets: optional parts). Empty: derived from `scheme`, `options` and `fields`."""
    credentials_help: ClassVar[str] = ""
    """Where the provider finds credentials when none are given, naming its environment
    variables, for help texts. Empty: derived from `credential_env` and `credentials_hint`."""
    rtc_write_path: ClassVar[str | None] = None
    """How RTC writes when not with a key from the StorageConfig (TOS, veImageX: the main
    account's service authorization). Then `verify` says plainly that RTC's own write path is
    beyond what a user key can prove, and what the probes did prove instead."""

    @abstractmethod
    def storage_config(self, target: StorageTarget) -> Any:
        """The StartSnapshot `StorageConfig` model for this target (secrets included)."""

    @abstractmethod
    def open(self, target: StorageTarget) -> Session:
        """A session over the provider's SDK; credentials are already resolved on `target`."""

    # -- overridable helpers ---------------------------------------------------------------

    @classmethod
    def help_target(cls) -> str:
        """`target_help`, or a form derived from the declared URL options and plain fields."""
        if cls.target_help:
            return cls.target_help
        names = [*cls.options, *(n for n, f in cls.fields.items() if not f.secret)]
        return f"{cls.scheme}://BUCKET[/PREFIX]?region=REGION[&endpoint=URL]" + "".join(
            f"[&{n}=…]" for n in names
        )

    @classmethod
    def help_credentials(cls) -> str:
        """`credentials_help`, or the declared environment variables (else `credentials_hint`)."""
        if cls.credentials_help:
            return cls.credentials_help
        if cls.credential_env is not None:
            token = f" (+ {cls.session_token_env})" if cls.session_token_env else ""
            return f"{cls.credential_env[0]}/{cls.credential_env[1]}{token}"
        return cls.credentials_hint or "none: pass --access-key/--secret-key"

    def target_for(self, config: Any) -> StorageTarget:
        """The target (with the RTC key) a StartSnapshot `StorageConfig` points at, to verify it before sending."""
        raise ConfigurationError(
            f"provider {self.name!r} cannot derive a target from a StorageConfig; pass one explicitly"
        )

    def credentials_from_env(self, target: StorageTarget) -> Credentials | None:
        """The provider's conventional credential source; default reads `credential_env`."""
        if self.credential_env is None:
            return None
        ak_name, sk_name = self.credential_env
        ak, sk = os.environ.get(ak_name), os.environ.get(sk_name)
        if not ak or not sk:
            return None
        token = os.environ.get(self.session_token_env) if self.session_token_env else None
        return Credentials.of(ak, sk, token, source=f"env:{ak_name}")

    def check_target(self, target: StorageTarget) -> None:
        """Reject unknown URL options before any request; extend for provider rules."""
        if target.scheme != self.scheme:
            raise ConfigurationError(
                f"target scheme {target.scheme!r}: provider {self.name!r} serves {self.scheme}://"
            )
        plain = [n for n, f in self.fields.items() if not f.secret]
        for name, spec in self.fields.items():
            if spec.secret and name in target.options:
                where = f"the {spec.env} environment variable" if spec.env else "Credentials.extra"
                raise ConfigurationError(
                    f"target option {name!r}: a secret, never put in the URL; use {where}"
                )
        unknown = sorted(set(target.options) - set(self.options) - set(plain))
        if unknown:
            known = ", ".join(["region", "endpoint", *self.options, *plain]) or "none"
            raise ConfigurationError(
                f"target option {unknown[0]!r}: not understood by provider {self.name!r} (known: {known})"
            )
        for name in plain:
            spec, value = self.fields[name], target.options.get(name)
            if value is not None and spec.pattern and not re.fullmatch(spec.pattern, value):
                raise ConfigurationError(
                    f"target option {name!r}: {value!r} is not {spec.rule or spec.pattern}"
                )

    def resolve(self, target: StorageTarget) -> StorageTarget:
        """The target checked, with credentials and fields filled from the environment if absent."""
        self.check_target(target)
        if target.credentials is None:
            creds = self.credentials_from_env(target)
            if creds is not None:
                target = target.with_credentials(creds)
        options = dict(target.options)
        extra: dict[str, str] = {}
        for name, spec in self.fields.items():
            have = (
                target.credentials is not None and name in target.credentials.extra
                if spec.secret
                else name in options
            )
            value = os.environ.get(spec.env) if spec.env and not have else None
            if value:
                if spec.secret:
                    extra[name] = value
                else:
                    options[name] = value
        if options != dict(target.options):
            target = target.replace(options=MappingProxyType(options))
            self.check_target(target)
        if extra and target.credentials is not None:
            target = target.with_credentials(target.credentials.with_extra(extra))
        for name, spec in self.fields.items():
            if spec.required and not self.field(target, name):
                source = f" or set {spec.env}" if spec.env else ""
                how = (
                    f"add ?{name}=…{source}" if not spec.secret else f"set {spec.env or 'Credentials.extra'}"
                )
                raise ConfigurationError(f"target field {name!r}: required by provider {self.name!r}; {how}")
        return target

    def field(self, target: StorageTarget, name: str) -> str | None:
        """The value of declared field `name` on a resolved target (a secret's value revealed)."""
        spec = self.fields[name]
        if not spec.secret:
            return target.options.get(name) or None
        if target.credentials is None or name not in target.credentials.extra:
            return None
        return target.credentials.extra[name].get_secret_value()

    @classmethod
    def version(cls) -> str:
        """The version of the distribution that ships the provider's module.

        `packages_distributions` misses editable installs (their RECORD lists a .pth, not the
        package), so the distribution whose ``rtcsnap`` entry point names the module decides next.
        """
        from importlib.metadata import distributions, packages_distributions

        top = cls.__module__.split(".")[0]
        for name in packages_distributions().get(top, []):
            for dist in distributions(name=name):
                return dist.version
        for dist in distributions():
            if any(
                ep.group == "rtcsnap" and ep.value.split(".")[0].split(":")[0] == top
                for ep in dist.entry_points
            ):
                return dist.version
        return "unknown"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.scheme}:// Type={self.storage_type} Vendor={self.vendor}>"


class ThirdPartyProvider(Provider):
    """Base of the StorageConfig Type 2 providers (S3, OSS, OBS, COS, Kodo): their payload is one
    shape, `CustomConfig{Vendor, Region, Bucket, AccessKey, SecretKey}` (spec §3.3.4), built and
    read back here once. Subclasses set `vendor` and `region_table`."""

    storage_type: ClassVar[int] = 2

    def storage_config(self, target: StorageTarget) -> Any:
        from rtcsnap.models import CustomConfig, StorageConfig

        if not target.region:
            raise ConfigurationError(
                f"{self.name}: region required for StorageConfig (RTC needs Region): add ?region=..."
            )
        creds = target.credentials
        if creds is None:
            raise ConfigurationError(f"{self.name}: credentials required for StorageConfig")
        if creds.session_token is not None:
            raise ConfigurationError(
                f"{self.name}: StorageConfig cannot carry an STS session token; give RTC a long-term key"
            )
        return StorageConfig(
            type=self.storage_type,
            custom_config=CustomConfig(
                vendor=self.vendor,
                region=target.region,
                bucket=target.bucket,
                access_key=creds.access_key,
                secret_key=creds.secret_key.get_secret_value(),
            ),
        )

    def target_for(self, config: Any) -> StorageTarget:
        from rtcsnap.regions import load_table

        custom = config.custom_config
        entry = load_table(self.region_table or self.name).by_code(int(custom.region))
        return StorageTarget(
            scheme=self.scheme,
            bucket=custom.bucket,
            region=entry.region if entry is not None else None,
            credentials=Credentials.of(
                custom.access_key.get_secret_value(), custom.secret_key.get_secret_value()
            ),
        )


ACCOUNT_ID = TargetField(
    "the Volcengine main account id RTC writes as (spec §3.3.1-3.3.2)",
    env="VOLC_ACCOUNT_ID",
    pattern=r"[0-9]{1,20}",
    rule="a numeric account id",
)


class MainAccountProvider(Provider):
    """Base of the Volcengine storages (TOS Type 0, veImageX Type 3): RTC writes with the main
    account's service authorization, so the payload names `AccountId`, a bucket-like field and a
    Region — no key. Subclasses declare which sub-config and which field holds the bucket."""

    sub_config: ClassVar[str]
    """The `StorageConfig` field of the sub-config: ``"tos_config"`` or ``"ve_image_x_config"``."""
    bucket_field: ClassVar[str]
    """The sub-config field the target's bucket goes to: ``"bucket"`` or ``"service_id"``."""
    default_region: ClassVar[str]
    fields: ClassVar[Mapping[str, TargetField]] = MappingProxyType({"account_id": ACCOUNT_ID})

    def credentials_from_env(self, target: StorageTarget) -> Credentials | None:
        """The provider's own variables (`credential_env`), then the Volcengine chain."""
        from rtcsnap.volc_credentials import from_chain

        token = os.environ.get(self.session_token_env) if self.session_token_env else None
        return super().credentials_from_env(target) or from_chain(token)

    def storage_config(self, target: StorageTarget) -> Any:
        from rtcsnap import models

        account = self.field(target, "account_id")
        if not account:
            raise ConfigurationError(
                f"{self.name}: account_id required for StorageConfig (RTC writes as the main "
                "account): add ?account_id=… or set VOLC_ACCOUNT_ID"
            )
        field_info = models.StorageConfig.model_fields[self.sub_config]
        sub_model = next(a for a in getattr(field_info.annotation, "__args__", ()) if a is not type(None))
        sub = sub_model(
            account_id=account,
            **{self.bucket_field: target.bucket},
            region=target.region or self.default_region,
        )
        return models.StorageConfig(type=self.storage_type, **{self.sub_config: sub})

    def target_for(self, config: Any) -> StorageTarget:
        from rtcsnap.regions import load_table

        sub = getattr(config, self.sub_config)
        entry = load_table(self.region_table or self.name).by_code(int(sub.region))
        return StorageTarget(
            scheme=self.scheme,
            bucket=getattr(sub, self.bucket_field),
            region=entry.region if entry is not None else None,
            options=MappingProxyType({"account_id": sub.account_id}),
        )


__all__ = [
    "ACCOUNT_ID",
    "CHUNK_SIZE",
    "Body",
    "Capabilities",
    "Checksum",
    "MainAccountProvider",
    "ObjectInfo",
    "ObjectStream",
    "Page",
    "Provider",
    "Session",
    "TargetField",
    "ThirdPartyProvider",
]
