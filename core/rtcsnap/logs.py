"""Log records that can never carry a secret, and the CLI's verbosity levels.

Why at record creation: an SDK's debug log is not ours to print raw — botocore logs its
canonical request, session token included, ten times per call. A filter on a handler protects
only that handler and a filter on a logger not its children, so rtcsnap wraps the log-record
factory instead: every record of a protected logger (rtcsnap's own, and each provider's
`sdk_loggers`) has its message and traceback redacted (`rtcsnap.secrets`) before any handler,
ours or the embedding application's, can see it. Records of other loggers are left untouched.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from typing import Any

from rtcsnap import secrets

PROTECTED: tuple[str, ...] = ("rtcsnap", "httpx", "httpcore", "uvicorn")

_lock = threading.Lock()
_prefixes: frozenset[str] = frozenset(PROTECTED)
_installed = False


def _protected(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in _prefixes)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message now, with every registered secret masked."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: let logging report it as usual
        return record
    masked = secrets.redact(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = secrets.redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = secrets.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = secrets.redact(record.stack_info)
    return record


def protect(names: Iterable[str] = ()) -> None:
    """Redact every record of the loggers `names` (and their children), from now on."""
    global _prefixes, _installed
    with _lock:
        _prefixes = _prefixes | {n for n in names if n}
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            return redact_record(record) if _protected(record.name) else record

        logging.setLogRecordFactory(factory)
        _installed = True


class RedactingFilter(logging.Filter):
    """For handlers: masks secrets in records of any logger (belt and braces for the CLI's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def is_sdk_record(record: logging.LogRecord) -> bool:
    """A record of a provider's SDK logger (its `sdk_loggers`), not of rtcsnap or its own libraries."""
    name = record.name
    own = any(name == p or name.startswith(p + ".") for p in PROTECTED)
    return not own and _protected(name)


class QuietSdks(logging.Filter):
    """The CLI's default: SDKs' own reports of a failure (qcloud_cos logs every failed request at
    ERROR, before the provider translates it) are dropped, short of CRITICAL — the user gets
    rtcsnap's one line for the same failure instead; ``-v`` shows them again."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.CRITICAL or not is_sdk_record(record)


LOG_LEVELS = ("debug", "info", "warning", "error")


def configure_cli(verbosity: int, debug: bool, level: str | None = None) -> None:
    """`-v`: INFO from every library; `-vv`: DEBUG from every library (SDKs included, redacted);
    `--log-level LEVEL`: that level for every library (wins over -v); `--debug`: rtcsnap's own
    DEBUG log (and tracebacks, handled by the CLI). At the default level the SDKs' own failure
    reports are left out (`QuietSdks`). Every record passes the redaction filter."""
    protect()
    if level is not None and level not in LOG_LEVELS:
        raise ValueError(f"log level: one of {', '.join(LOG_LEVELS)}, not {level!r}")
    chosen = (
        getattr(logging, level.upper())
        if level is not None
        else logging.DEBUG
        if verbosity >= 2
        else logging.INFO
        if verbosity == 1
        else logging.WARNING
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if chosen >= logging.WARNING:
        handler.addFilter(QuietSdks())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(chosen)
    if debug:
        logging.getLogger("rtcsnap").setLevel(logging.DEBUG)


__all__ = [
    "LOG_LEVELS",
    "PROTECTED",
    "QuietSdks",
    "RedactingFilter",
    "configure_cli",
    "is_sdk_record",
    "protect",
    "redact_record",
]
