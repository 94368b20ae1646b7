"""From a URL or `StorageTarget` to the provider that serves it and a ready target."""

from __future__ import annotations

import logging

from rtcsnap.providers.contract import Provider, Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.target import StorageTarget

log = logging.getLogger(__name__)

TargetLike = StorageTarget | str


def resolve(target: TargetLike, manager: ProviderManager | None = None) -> tuple[Provider, StorageTarget]:
    """The provider for the target's scheme, and the target checked with credentials resolved."""
    t = StorageTarget.parse(target) if isinstance(target, str) else target
    provider = (manager or ProviderManager.default()).for_scheme(t.scheme)
    resolved = provider.resolve(t)
    source = resolved.credentials.source if resolved.credentials else "none"
    log.debug("%s served by provider %r (credentials: %s)", resolved.url, provider.name, source)
    return provider, resolved


def open_session(target: TargetLike, manager: ProviderManager | None = None) -> Session:
    provider, t = resolve(target, manager)
    return provider.open(t)


__all__ = ["TargetLike", "open_session", "resolve"]
