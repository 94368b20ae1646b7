"""Named OpenAPI accounts and storage targets, like aws profiles and rclone remotes.

``$RTCSNAP_CONFIG``, else ``$XDG_CONFIG_HOME/rtcsnap/config.toml``, else
``~/.config/rtcsnap/config.toml``::

    [accounts.prod]                                  # --profile prod (start/update/stop/status)
    endpoint = "cn"                                  # cn | overseas | byteplus | URL
    region = "cn-north-1"
    api_version = "2023-11-01"
    app_id = "661e…"
    credentials = { volc_profile = "default" }       # a ~/.volc/credentials section

    [targets.evidence]                               # @evidence in place of a TARGET
    url = "tos://snaps/rtc?region=cn-beijing&account_id=2100000000"
    write = { env = ["RTC_WRITE_AK", "RTC_WRITE_SK"] }   # the key RTC writes with
    read = { volc_profile = "reader" }                   # the key ls/download read with

    [plugins.moderation]                             # a plugin's own table (free-form for core)

Secrets never go in the file: credentials are references, environment variable names or a
``~/.volc/credentials`` section, resolved when used; an inline ``secret_key = …`` is an error. A
missing reference means the provider's (or the OpenAPI client's) usual credential chain.

Errors name the file and line, ``FILE:LINE: field: rule``. A missing file is not an error until a
profile or an ``@name`` is asked for. `resolve_target` is the one place a TARGET string (a URL or
``@name``) and its use (``write`` for what RTC is given, ``read`` for listing and downloading)
become a `StorageTarget`. A plugin reads its ``[plugins.NAME]`` table with `plugin_section`
(`rtcsnap.profiles.plugins`). docs/profiles.md has the whole format.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rtcsnap import secrets
from rtcsnap.errors import ConfigurationError
from rtcsnap.profiles.lines import key_lines, line_of
from rtcsnap.profiles.plugins import PluginSection, plugin_section, sections_override
from rtcsnap.target import Credentials, StorageTarget

if TYPE_CHECKING:
    from rtcsnap.profiles.schema import Account, CredentialsRef, Target
    from rtcsnap.providers.manager import ProviderManager

ENV = "RTCSNAP_CONFIG"
"""Environment variable naming the config file (wins over the XDG location)."""
PROFILE_ENV = "RTCSNAP_PROFILE"
"""Environment variable giving ``--profile``."""
Use = Literal["write", "read"]
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def config_path() -> Path:
    """The config file in use (whether or not it exists)."""
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "rtcsnap" / "config.toml"


@dataclass(frozen=True)
class Problem:
    """One finding of the config check: an error (the file is unusable) or a warning."""

    path: Path
    line: int | None
    field: str
    rule: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.field}: {self.rule}" if self.field else f"{where}: {self.rule}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "rule": self.rule, "severity": self.severity}


class ConfigFileError(ConfigurationError):
    """The config file does not parse or validate; `problems` holds every error."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 1} more: rtcsnap config check)" if len(self.problems) > 1 else ""
        super().__init__(f"{self.problems[0]}{more}")


def _field(loc: Sequence[object]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Config:
    """A parsed and validated config file."""

    path: Path
    accounts: Mapping[str, Account]
    targets: Mapping[str, Target]
    lines: Mapping[tuple[str, ...], int] = field(repr=False)
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """``[plugins.NAME]`` tables, as parsed (core does not look inside)."""

    def where(self, *loc: str) -> str:
        """``FILE:LINE`` of `loc` (for messages)."""
        line = line_of(self.lines, loc)
        return f"{self.path}:{line}" if line else str(self.path)

    def account(self, name: str) -> Account:
        if name not in self.accounts:
            known = ", ".join(sorted(self.accounts)) or "none"
            raise ConfigurationError(f"profile {name!r} is not in {self.path} (accounts: {known})")
        return self.accounts[name]

    def target(self, name: str) -> Target:
        if name not in self.targets:
            known = ", ".join(f"@{n}" for n in sorted(self.targets)) or "none"
            raise ConfigurationError(f"target @{name} is not in {self.path} (targets: {known})")
        return self.targets[name]

    def credentials(self, ref: CredentialsRef, *loc: str) -> Credentials:
        """The key pair `ref` points at, read now (and registered as secrets)."""
        where = f"{self.where(*loc)}: {'.'.join(loc)}"
        if ref.env is not None:
            values = [os.environ.get(name) or "" for name in ref.env]
            for name, value in zip(ref.env[:2], values[:2], strict=True):
                if not value:
                    raise ConfigurationError(f"{where}: environment variable {name} is not set")
            token = values[2] if len(values) > 2 else None
            return Credentials.of(values[0], values[1], token or None, source=f"env:{ref.env[0]}")
        assert ref.volc_profile is not None
        return volc_section(ref.volc_profile, where)


def volc_credentials_file() -> Path:
    """``~/.volc/credentials`` ($HOME's, as `rtcsnap.volc_credentials` reads it)."""
    home = os.environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".volc" / "credentials"


def _volc_parser(where: str) -> tuple[Path, configparser.ConfigParser | None]:
    ini = volc_credentials_file()
    if not ini.is_file():
        return ini, None
    conf = configparser.ConfigParser(interpolation=None)
    try:
        conf.read(ini)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", None)
        reason = exc.message.splitlines()[0] if getattr(exc, "message", "") else type(exc).__name__
        raise ConfigurationError(
            f"{where}: {ini}{f', line {line}' if line else ''}: not a valid credentials file "
            f"({secrets.redact(reason)})"
        ) from None
    return ini, conf


def volc_section(section: str, where: str = "volc_profile") -> Credentials:
    """The key pair of ``[section]`` in ``~/.volc/credentials``."""
    ini, conf = _volc_parser(where)
    if conf is None:
        raise ConfigurationError(f"{where}: {ini} does not exist (wanted its [{section}] section)")
    if not conf.has_section(section):
        known = ", ".join(conf.sections()) or "none"
        raise ConfigurationError(f"{where}: {ini} has no [{section}] section (sections: {known})")
    ak = conf.get(section, "access_key_id", fallback="")
    sk = conf.get(section, "secret_access_key", fallback="")
    token = conf.get(section, "session_token", fallback="") or None
    if not ak or not sk:
        raise ConfigurationError(f"{where}: {ini} [{section}]: needs access_key_id and secret_access_key")
    return Credentials.of(ak, sk, token, source=f"{ini}[{section}]")


def _read(path: Path) -> tuple[dict[str, Any] | None, dict[tuple[str, ...], int], list[Problem]]:
    """Parse and validate `path`: (the validated data, the key lines, the errors)."""
    from pydantic import ValidationError as PydanticError

    from rtcsnap.profiles import schema

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        return None, {}, [Problem(path, None, "", "not UTF-8 text")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        line = int(position[1]) if position else None
        rule = _TOML_POSITION.sub("", message)
        column = f" (column {position[2]})" if position else ""
        return None, {}, [Problem(path, line, "", f"invalid TOML: {rule}{column}")]
    lines = key_lines(text)
    problems: list[Problem] = []
    for loc in list(schema.inline_secrets(data)):
        problems.append(
            Problem(
                path,
                line_of(lines, loc),
                _field(loc),
                f"inline secrets are not accepted; {schema.REFERENCE_HINT}",
            )
        )
        schema.drop(data, loc)
    try:
        model = schema.ConfigFile.model_validate(data)
    except PydanticError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            error_loc = tuple(error["loc"])
            rule = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                known = schema.known_keys(error_loc[:-1])
                rule = f"unknown key (known: {', '.join(known)})" if known else "unknown key"
            problems.append(Problem(path, line_of(lines, error_loc), _field(error_loc), rule))
        model = None
    if problems or model is None:
        problems.sort(key=lambda p: p.line or 0)
        return None, lines, problems
    return {"accounts": model.accounts, "targets": model.targets, "plugins": model.plugins}, lines, []


def load(path: Path | None = None) -> Config | None:
    """The config file, parsed and validated; None when it does not exist. Raises
    `ConfigFileError` (every error, line-numbered) when it is invalid."""
    path = path or config_path()
    if not path.exists():
        return None
    data, lines, problems = _read(path)
    if problems or data is None:
        raise ConfigFileError(problems)
    return Config(path, data["accounts"], data["targets"], lines, data["plugins"])


def require(what: str, path: Path | None = None) -> Config:
    """The config file, or a one-line error saying `what` needed it and where it was looked for."""
    path = path or config_path()
    config = load(path)
    if config is None:
        raise ConfigurationError(
            f"{what}: no config file at {path} (set {ENV} or create it; see docs/profiles.md)"
        )
    return config


def resolve_target(
    spec: str,
    use: Use,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    config: Config | None = None,
) -> StorageTarget:
    """The `StorageTarget` a TARGET string names: a URL as `StorageTarget.parse` reads it, or
    ``@name`` — a ``[targets.name]`` of the config file, with its `use` key (``write``: the key
    RTC is given; ``read``: the key that lists and downloads).

    Explicit `access_key`/`secret_key` win over the config's reference; no key at all leaves the
    provider's own credential chain to find one.
    """
    if not spec.startswith("@"):
        return StorageTarget.parse(spec, access_key=access_key, secret_key=secret_key)
    name = spec[1:]
    config = config or require(f"target {spec}")
    target = config.target(name)
    if access_key or secret_key:
        return StorageTarget.parse(target.url, access_key=access_key, secret_key=secret_key)
    ref = target.write if use == "write" else target.read
    creds = config.credentials(ref, "targets", name, use) if ref is not None else None
    return StorageTarget.parse(target.url).with_credentials(creds)


def same_keys(spec: str, config: Config | None = None) -> bool:
    """Whether both uses of TARGET `spec` resolve to the same key (always, for a URL)."""
    if not spec.startswith("@"):
        return True
    target = (config or require(f"target {spec}")).target(spec[1:])
    return target.write == target.read


@dataclass(frozen=True)
class AccountSettings:
    """What ``--profile NAME`` supplies to an OpenAPI command; None where the profile is silent."""

    name: str
    endpoint: str | None
    region: str | None
    api_version: str | None
    app_id: str | None
    credentials: Credentials | None


def account(name: str, config: Config | None = None) -> AccountSettings:
    """The account ``[accounts.NAME]``, its credentials reference resolved now."""
    config = config or require(f"profile {name!r}")
    acc = config.account(name)
    creds = (
        config.credentials(acc.credentials, "accounts", name, "credentials")
        if acc.credentials is not None
        else None
    )
    return AccountSettings(name, acc.endpoint, acc.region, acc.api_version, acc.app_id, creds)


@dataclass
class CheckReport:
    """What `check` found: the errors and warnings, and the entries it read."""

    path: Path
    exists: bool
    problems: list[Problem]
    config: Config | None
    readers: dict[str, list[str]] = field(default_factory=dict)
    """``[plugins.NAME]`` -> the installed plugins that checked it (empty: none reads it); only
    when `check` was given a manager."""

    @property
    def ok(self) -> bool:
        return self.exists and not any(p.severity == "error" for p in self.problems)


def _ref_warnings(ref: CredentialsRef | None, loc: tuple[str, ...]) -> list[str]:
    if ref is None:
        return []
    if ref.env is not None:
        return [f"environment variable {n} is not set" for n in ref.env[:2] if not os.environ.get(n)]
    section = ref.volc_profile or ""
    try:
        ini, conf = _volc_parser(".".join(loc))
    except ConfigurationError as exc:
        return [str(exc).split(": ", 1)[-1]]
    if conf is None:
        return [f"{ini} does not exist (wanted its [{section}] section)"]
    if not conf.has_section(section):
        return [f"{ini} has no [{section}] section"]
    return []


def check(path: Path | None = None, manager: ProviderManager | None = None) -> CheckReport:
    """Validate the config file: schema errors, inline secrets, target URLs (against their
    installed provider when `manager` is given) — and warn about references that do not resolve
    here (an unset environment variable, a missing ``~/.volc/credentials`` section). With a
    manager, each ``[plugins.NAME]`` goes to the installed plugins' `rtcsnap_check_config`."""
    path = path or config_path()
    if not path.exists():
        return CheckReport(
            path, False, [Problem(path, None, "", f"no config file (set {ENV} or create it)")], None
        )
    data, lines, problems = _read(path)
    if data is None:
        return CheckReport(path, True, problems, None)
    config = Config(path, data["accounts"], data["targets"], lines, data["plugins"])

    def warn(loc: tuple[str, ...], rule: str) -> None:
        problems.append(Problem(path, line_of(lines, loc), ".".join(loc), rule, "warning"))

    for name, acc in config.accounts.items():
        loc = ("accounts", name, "credentials")
        for rule in _ref_warnings(acc.credentials, loc):
            warn(loc, rule)
    for name, target in config.targets.items():
        if manager is not None:
            from rtcsnap.errors import UnknownProviderError

            parsed = StorageTarget.parse(target.url)
            try:
                manager.for_scheme(parsed.scheme).check_target(parsed)
            except UnknownProviderError:
                warn(
                    ("targets", name, "url"),
                    f"no installed provider serves {parsed.scheme}:// (rtcsnap providers)",
                )
            except ConfigurationError as exc:
                loc = ("targets", name, "url")
                problems.append(Problem(path, line_of(lines, loc), ".".join(loc), str(exc)))
        for use in ("write", "read"):
            loc = ("targets", name, use)
            ref = target.write if use == "write" else target.read
            for rule in _ref_warnings(ref, loc):
                warn(loc, rule)
    readers: dict[str, list[str]] = {}
    if manager is not None and config.plugins:
        from rtcsnap.profiles.plugins import check_sections

        readers = check_sections(config, manager.plugin_manager(), problems)
    problems.sort(key=lambda p: p.line or 0)
    return CheckReport(path, True, problems, config, readers)


__all__ = [
    "ENV",
    "PROFILE_ENV",
    "AccountSettings",
    "CheckReport",
    "Config",
    "ConfigFileError",
    "PluginSection",
    "Problem",
    "Use",
    "account",
    "check",
    "config_path",
    "load",
    "plugin_section",
    "require",
    "resolve_target",
    "same_keys",
    "sections_override",
    "volc_credentials_file",
    "volc_section",
]
