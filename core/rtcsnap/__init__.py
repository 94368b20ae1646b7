"""rtcsnap: Volcengine RTC cloud snapshots, end to end (models, storage providers, client, CLI)."""

from rtcsnap.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    FieldError,
    PluginError,
    ProviderClashError,
    Reason,
    RtcSnapError,
    StorageError,
    UnknownProviderError,
    ValidationError,
)
from rtcsnap.hookspecs import hookimpl, hookspec
from rtcsnap.providers.contract import (
    Capabilities,
    ObjectInfo,
    ObjectStream,
    Page,
    Provider,
    Session,
)
from rtcsnap.target import Credentials, StorageTarget

__version__ = "0.1.0"

__all__ = [
    "Capabilities",
    "ChecksumMismatchError",
    "ConfigurationError",
    "Credentials",
    "FieldError",
    "ObjectInfo",
    "ObjectStream",
    "Page",
    "PluginError",
    "Provider",
    "ProviderClashError",
    "Reason",
    "RtcSnapError",
    "Session",
    "StorageError",
    "StorageTarget",
    "UnknownProviderError",
    "ValidationError",
    "hookimpl",
    "hookspec",
]
