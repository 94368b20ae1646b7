"""Where a client sends its calls and which region it signs for: a named preset or any URL.

The presets themselves are facts about the service (`protocol/api.py`, shared with the emulator);
turning a user's `endpoint=`/`region=` into a (URL, signing region) pair, and refusing a
malformed URL before any request is built, is client configuration and lives here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rtcsnap import errors as e
from rtcsnap.protocol.api import ENDPOINTS

DEFAULT_ENDPOINT = "cn"
"""The preset used when no endpoint is given."""
URL_REGION = "cn-north-1"
"""The signing region of an endpoint given as a URL (the emulator's, a proxy's) without `region`."""


def resolve_endpoint(endpoint: str | None, region: str | None) -> tuple[str, str]:
    """The base URL (no trailing slash) and signing region of `endpoint`.

    `endpoint`: a preset name (``cn``, ``overseas``, ``byteplus``; None is ``cn``) or an http(s)
    URL. `region` overrides the preset's region; a URL without one signs for ``cn-north-1``.
    """
    if endpoint is None or endpoint in ENDPOINTS:
        preset = ENDPOINTS[endpoint or DEFAULT_ENDPOINT]
        return preset.url, region or preset.region
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise e.ConfigurationError(
            f"endpoint {endpoint!r}: expected a URL like https://rtc.volcengineapi.com or one of {', '.join(ENDPOINTS)}"
        )
    return endpoint.rstrip("/"), region or URL_REGION


__all__ = ["DEFAULT_ENDPOINT", "URL_REGION", "resolve_endpoint"]
