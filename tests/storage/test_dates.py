"""Provider timestamp parsing (`rtcsnap.providers.dates`): every shape the SDKs return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rtcsnap.providers.dates import epoch_date, http_date, iso_date

WHEN = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-12-01T10:00:00Z", "2026-12-01T10:00:00+00:00", "2026-12-01T18:00:00+08:00", "2026-12-01T10:00:00"],
)
def test_iso_dates_in_every_offset_form_mean_the_same_instant(text: str) -> None:
    got = iso_date(text)
    assert got == WHEN and got is not None and got.tzinfo is not None


def test_iso_date_keeps_fractions_and_the_offset() -> None:
    got = iso_date("2026-12-01T18:00:00.250+08:00")
    assert got is not None and got.utcoffset() == timedelta(hours=8) and got.microsecond == 250_000


@pytest.mark.parametrize("bad", [None, "", "yesterday", "2026-13-01T00:00:00Z"])
def test_unreadable_dates_are_none_not_errors(bad: object) -> None:
    assert iso_date(bad) is None and http_date(bad) is None


def test_datetimes_pass_through_and_naive_ones_become_utc() -> None:
    assert iso_date(WHEN) is WHEN
    assert iso_date(datetime(2026, 12, 1, 10)) == WHEN
    aware = datetime(2026, 12, 1, 18, tzinfo=timezone(timedelta(hours=8)))
    assert iso_date(aware) is aware


def test_http_date() -> None:
    assert http_date("Tue, 01 Dec 2026 10:00:00 GMT") == WHEN


def test_epoch_dates_in_seconds_and_in_kodos_100ns_units() -> None:
    assert epoch_date(int(WHEN.timestamp())) == WHEN
    assert epoch_date(str(int(WHEN.timestamp()) * 10_000_000), per_second=10_000_000) == WHEN
    assert epoch_date(None) is None and epoch_date("soon") is None
