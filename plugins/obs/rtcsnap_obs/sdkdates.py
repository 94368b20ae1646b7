"""Listing timestamps back to what the service sent.

The SDK rewrites each listed ``LastModified`` (``2026-12-01T10:00:00.000Z``) into *local* time
without a zone, ``2026/12/01 18:00:00`` in UTC+8 (``obs/model.py`` ``DateTime.UTCToLocal``:
``localtime(mktime(utc fields) - timezone)``), and leaves a value it cannot parse (no
milliseconds, as SeaweedFS sends) as it was. `listed_date` undoes exactly that computation, so
the result is the service's UTC instant whatever the machine's zone; GET and HEAD dates are
plain HTTP dates and need none of this.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rtcsnap.providers.dates import iso_date

_SDK_LOCAL = "%Y/%m/%d %H:%M:%S"


def listed_date(value: object) -> datetime | None:
    """The UTC time of a listing's ``lastModified`` as the SDK hands it over (None if unreadable)."""
    if not value:
        return None
    text = str(value)
    try:
        local = time.strptime(text, _SDK_LOCAL)
    except ValueError:
        return iso_date(text)  # the SDK passed it through untouched
    # the SDK computed local = localtime(mktime(utc) - timezone); so mktime(utc) = mktime(local) + timezone
    utc = time.localtime(time.mktime(local) + time.timezone)
    return datetime(*utc[:6], tzinfo=UTC)


__all__ = ["listed_date"]
