"""The shape of ``config.toml`` as pydantic models (extra keys forbidden), and the rules that keep
secrets out of it: credentials are references (environment variable names or a
``~/.volc/credentials`` section), never values.

Imported only when a config file is read, so a CLI run that names no profile pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"[A-Za-z0-9_-]+"
_NAME = re.compile(NAME_PATTERN)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SECRET_KEYS = frozenset(
    {
        "access_key",
        "access_key_id",
        "ak",
        "password",
        "secret",
        "secret_access_key",
        "secret_id",
        "secret_key",
        "security_token",
        "session_token",
        "sk",
        "token",
    }
)
"""Key names that would hold a credential value: refused wherever they appear."""
REFERENCE_HINT = 'reference it instead: { env = ["AK_VAR", "SK_VAR"] } or { volc_profile = "SECTION" }'


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):  # never echo the value: it may be a pasted secret
        raise ValueError(
            "not an environment variable name (letters, digits, _): give the variable's name, never its value"
        )
    return value


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("not a valid name: use letters, digits, _ and -")
    return value


def _endpoint(value: str) -> str:
    from urllib.parse import urlsplit

    from rtcsnap.protocol.api import ENDPOINTS

    parts = urlsplit(value)
    if value not in ENDPOINTS and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValueError(f"expected one of {', '.join(ENDPOINTS)} or an http(s) URL")
    return value


def _api_version(value: str) -> str:
    from rtcsnap.protocol.api import VERSIONS

    if value not in VERSIONS:
        raise ValueError(f"expected one of {', '.join(VERSIONS)}")
    return value


def _target_url(value: str) -> str:
    from rtcsnap.errors import ConfigurationError
    from rtcsnap.target import StorageTarget

    try:
        StorageTarget.parse(value)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from None
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
Name = Annotated[str, AfterValidator(_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CredentialsRef(_Strict):
    """Where a key pair comes from: exactly one of `env` or `volc_profile`."""

    env: list[EnvName] | None = Field(default=None, min_length=2, max_length=3)
    """Names of the environment variables holding the access key, the secret key and (optional)
    a session token."""
    volc_profile: Name | None = None
    """A section of ``~/.volc/credentials`` (``access_key_id``, ``secret_access_key``)."""

    @model_validator(mode="after")
    def _one_source(self) -> CredentialsRef:
        if (self.env is None) == (self.volc_profile is None):
            raise ValueError("give exactly one of env = [AK_VAR, SK_VAR] or volc_profile = SECTION")
        return self

    def describe(self) -> str:
        if self.env is not None:
            return "env " + "/".join(self.env)
        return f"~/.volc/credentials [{self.volc_profile}]"


class Account(_Strict):
    """An OpenAPI account: ``--profile NAME``."""

    endpoint: Annotated[str, AfterValidator(_endpoint)] | None = None
    region: str | None = None
    api_version: Annotated[str, AfterValidator(_api_version)] | None = None
    app_id: str | None = None
    credentials: CredentialsRef | None = None


class Target(_Strict):
    """A storage target: ``@NAME`` in place of a TARGET URL."""

    url: Annotated[str, AfterValidator(_target_url)]
    write: CredentialsRef | None = None
    """The key handed to RTC (start --storage, storage-config, verify --for rtc)."""
    read: CredentialsRef | None = None
    """The key that lists and downloads (ls, download, snapshots manifest|download, verify --for read)."""


class ConfigFile(_Strict):
    accounts: dict[Name, Account] = Field(default_factory=dict)
    targets: dict[Name, Target] = Field(default_factory=dict)
    plugins: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    """``[plugins.NAME]``: one free-form table per plugin. Core checks only that each is a table;
    the plugin checks the rest (`rtcsnap_check_config`) and reads it (`profiles.plugin_section`)."""


def inline_secrets(data: Any, loc: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The location of every key named like a credential value (`SECRET_KEYS`)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() in SECRET_KEYS and loc[:1] in (("accounts",), ("targets",)):
                yield (*loc, str(key))
            else:
                yield from inline_secrets(value, (*loc, str(key)))


def drop(data: Any, loc: tuple[str, ...]) -> None:
    """Remove the key at `loc`, and its table if that leaves it empty (so the schema does not
    report the same mistake a second time, as an empty reference)."""
    parents = [data]
    for key in loc[:-1]:
        parents.append(parents[-1][key])
    parents[-1].pop(loc[-1], None)
    if len(loc) > 3 and not parents[-1]:
        parents[-2].pop(loc[-2], None)


def known_keys(loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the table at `loc` accepts (for an unknown key's message), None if not a table."""
    node: Any = ConfigFile
    rest = list(loc)
    while True:
        origin = get_origin(node)
        if origin in (Union, UnionType):
            node = next(a for a in get_args(node) if a is not NoneType)
        elif origin is Annotated:
            node = get_args(node)[0]
        elif origin is dict:
            if not rest:
                return None
            rest.pop(0)
            node = get_args(node)[1]
        elif isinstance(node, type) and issubclass(node, BaseModel):
            if not rest:
                return list(node.model_fields)
            field = node.model_fields.get(str(rest.pop(0)))
            if field is None:
                return None
            node = field.annotation
        else:
            return None


__all__ = [
    "NAME_PATTERN",
    "REFERENCE_HINT",
    "SECRET_KEYS",
    "Account",
    "ConfigFile",
    "CredentialsRef",
    "Target",
    "drop",
    "inline_secrets",
    "known_keys",
]
