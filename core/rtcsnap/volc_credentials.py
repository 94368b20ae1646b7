"""Where Volcengine credentials come from, in the official SDK's order, without its global state.

Shared by the OpenAPI client and the Volcengine storage providers (TOS, veImageX), so it sits
below both: providers never import the OpenAPI layer.

explicit arguments → ``VOLC_ACCESSKEY`` / ``VOLC_SECRETKEY`` (+ ``VOLC_SESSION_TOKEN``) →
``~/.volc/credentials`` (INI, ``[default] access_key_id / secret_access_key``) → ``~/.volc/config``
(JSON ``{"ak": …, "sk": …}``), as `volcengine.base.Service.init` reads them.

Whatever the source, the secret key and session token are registered with `rtcsnap.secrets`, so
log redaction masks them wherever they might be echoed.
"""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

from rtcsnap import secrets
from rtcsnap.errors import ConfigurationError
from rtcsnap.target import Credentials


def _home() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home) if home else None


def from_files(home: Path | None = None) -> Credentials | None:
    home = home or _home()
    if home is None:
        return None
    ini, cfg = home / ".volc" / "credentials", home / ".volc" / "config"
    if ini.is_file():
        conf = configparser.ConfigParser()
        try:
            conf.read(ini)
        except configparser.Error as exc:  # a config error (exit 2) naming the file and line
            line = getattr(exc, "lineno", None)
            where = f"{ini}, line {line}" if line else str(ini)
            reason = exc.message.splitlines()[0] if getattr(exc, "message", "") else type(exc).__name__
            raise ConfigurationError(
                f"{where}: not a valid credentials file ({secrets.redact(reason)}); expected "
                "[default] with access_key_id = … and secret_access_key = …"
            ) from None
        ak = conf.get("default", "access_key_id", fallback="")
        sk = conf.get("default", "secret_access_key", fallback="")
        return Credentials.of(ak, sk, source=str(ini)) if ak and sk else None
    if cfg.is_file():
        try:
            data = json.loads(cfg.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{cfg}: not a JSON file ({type(exc).__name__})") from None
        ak, sk = str(data.get("ak") or ""), str(data.get("sk") or "")
        return Credentials.of(ak, sk, source=str(cfg)) if ak and sk else None
    return None


def resolve_credentials(
    access_key: str | None = None, secret_key: str | None = None, session_token: str | None = None
) -> Credentials:
    """The OpenAPI credentials from the first source that has them, registered as secrets."""
    creds = _resolve(access_key, secret_key, session_token)
    token = creds.session_token.get_secret_value() if creds.session_token is not None else None
    secrets.register(creds.secret_key.get_secret_value(), token)
    return creds


def from_chain(session_token: str | None = None) -> Credentials | None:
    """The environment, then the files; None when neither has a key pair."""
    ak, sk = os.environ.get("VOLC_ACCESSKEY"), os.environ.get("VOLC_SECRETKEY")
    if bool(ak) != bool(sk):  # half a key pair is a mistake, not a reason to try the files
        have, missing = ("VOLC_ACCESSKEY", "VOLC_SECRETKEY") if ak else ("VOLC_SECRETKEY", "VOLC_ACCESSKEY")
        raise ConfigurationError(f"credentials: {have} is set but {missing} is not; set both")
    if ak and sk:
        return Credentials.of(
            ak, sk, session_token or os.environ.get("VOLC_SESSION_TOKEN"), source="env:VOLC_ACCESSKEY"
        )
    return from_files()


def _resolve(access_key: str | None, secret_key: str | None, session_token: str | None) -> Credentials:
    if access_key or secret_key:
        if not (access_key and secret_key):
            raise ConfigurationError("credentials: give both access_key and secret_key")
        return Credentials.of(access_key, secret_key, session_token)
    found = from_chain(session_token)
    if found is not None:
        return found
    raise ConfigurationError(
        "no OpenAPI credentials: set VOLC_ACCESSKEY and VOLC_SECRETKEY, or write ~/.volc/credentials "
        "([default] access_key_id, secret_access_key)"
    )


__all__ = ["from_chain", "from_files", "resolve_credentials"]
