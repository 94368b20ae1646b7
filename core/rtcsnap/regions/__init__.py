"""RTC's integer Region codes, one table per storage, kept as data (spec §3.4).

The OpenAPI only takes integers whose meaning depends on StorageConfig.Type and, for
third-party storage, CustomConfig.Vendor; users think in provider region ids
("oss-cn-hangzhou", "us-east-1"). The tables live in ``data/*.json`` so they can be
corrected without touching code. Every shipped table is confirmed (spec §9 #3, #4): a code it
does not list is rejected. A table marked ``"confirmed": false`` would accept unlisted codes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from rtcsnap.errors import ValidationError

TABLES = ("tos", "veimagex", "s3", "oss", "obs", "cos", "kodo")
"""Every table name, in StorageConfig.Type / Vendor order."""

_VENDOR_TABLES = ("s3", "oss", "obs", "cos", "kodo")
_SHOWN = 6  # how many valid names an error message lists before abbreviating


@dataclass(frozen=True)
class RegionEntry:
    """One row: the RTC integer `code` and the provider's own `region` id."""

    code: int
    region: str
    endpoint: str | None
    name: str
    supported: bool
    note: str


@dataclass(frozen=True)
class RegionTable:
    """One storage's table; `confirmed` is False where the spec could only infer it."""

    table: str
    storage_type: int
    vendor: int | None
    confirmed: bool
    source: str
    note: str
    entries: tuple[RegionEntry, ...]

    def by_code(self, code: int) -> RegionEntry | None:
        return next((e for e in self.entries if e.code == code), None)

    def by_region(self, name: str) -> RegionEntry | None:
        """Case-insensitive; OSS ids are also found without their ``oss-`` prefix."""
        key = name.strip().lower()
        candidates = {key, f"oss-{key}"} if self.table == "oss" else {key}
        return next((e for e in self.entries if e.region.lower() in candidates), None)


@lru_cache(maxsize=len(TABLES))
def load_table(name: str) -> RegionTable:
    """The table `name` (one of `TABLES`), read once from the package data."""
    if name not in TABLES:
        raise ValidationError(f"unknown region table {name!r}; valid: {', '.join(TABLES)}")
    raw: dict[str, Any] = json.loads(
        files(__name__).joinpath("data", f"{name}.json").read_text(encoding="utf-8")
    )
    entries = tuple(
        RegionEntry(
            code=int(e["code"]),
            region=str(e["region"]),
            endpoint=None if e.get("endpoint") is None else str(e["endpoint"]),
            name=str(e.get("name", "")),
            supported=bool(e.get("supported", True)),
            note=str(e.get("note", "")),
        )
        for e in raw["entries"]
    )
    vendor = raw.get("vendor")
    return RegionTable(
        table=str(raw["table"]),
        storage_type=int(raw["storage_type"]),
        vendor=None if vendor is None else int(vendor),
        confirmed=bool(raw["confirmed"]),
        source=str(raw.get("source", "")),
        note=str(raw.get("note", "")),
        entries=entries,
    )


def table_name(storage_type: int, vendor: int | None = None) -> str:
    """The table for a StorageConfig.Type (0 TOS, 3 veImageX, 2 + CustomConfig.Vendor 0..4)."""
    if storage_type == 0:
        return "tos"
    if storage_type == 3:
        return "veimagex"
    if storage_type == 2:
        v = 0 if vendor is None else vendor
        if 0 <= v < len(_VENDOR_TABLES):
            return _VENDOR_TABLES[v]
        raise ValidationError(f"no region table for Vendor {v}: must be 0 (S3) to 4 (Kodo)")
    raise ValidationError(f"no region table for StorageConfig.Type {storage_type}: snapshots take 0, 2 or 3")


def lookup(table: str, name_or_code: str | int, *, allow_unsupported: bool = False) -> RegionEntry:
    """Resolve a provider region id ("us-east-1") or an RTC code (7 or "7") in `table`.

    Unsupported rows raise unless `allow_unsupported`. An unconfirmed table accepts any
    explicit code >= 0 it does not list (the row is unknown, not absent), but no names.
    """
    t = load_table(table)
    if isinstance(name_or_code, bool) or not isinstance(name_or_code, int | str):
        raise ValidationError(f"{table} region: must be a region id or an integer code")
    text = str(name_or_code).strip()
    if isinstance(name_or_code, int):
        entry = _by_code(t, name_or_code)
    elif re.fullmatch(r"-?[0-9]{1,10}", text):  # ASCII digits only: '٣' or '３' is no code
        entry = _by_code(t, int(text))
    else:
        found = t.by_region(text)
        if found is None:
            raise ValidationError(_unknown_name(t, text))
        entry = found
    if not entry.supported and not allow_unsupported:
        why = f": {entry.note}" if entry.note else ""
        raise ValidationError(
            f"{table} region code {entry.code} ({entry.region}) is not supported for RTC snapshots{why}"
        )
    return entry


def target_region(table: str, region: str | None, *, allow_unsupported: bool = False) -> RegionEntry:
    """The row a target's ``?region=`` names in `table` (an id or an integer code), or a
    `ConfigurationError` naming the option and the valid regions: the one message for every
    provider whose targets must name a region of RTC's table."""
    from rtcsnap.errors import ConfigurationError

    if not region:
        names = ", ".join(e.region for e in load_table(table).entries)
        raise ConfigurationError(f"target option 'region': required for {table}:// targets; one of {names}")
    try:
        return lookup(table, region, allow_unsupported=allow_unsupported)
    except ValidationError as exc:
        raise ConfigurationError(f"target option 'region': {exc}") from None


def _by_code(t: RegionTable, code: int) -> RegionEntry:
    if code < 0:
        raise ValidationError(f"{t.table} region code must be >= 0 (got {code})")
    entry = t.by_code(code)
    if entry is not None:
        return entry
    if not t.confirmed:
        return RegionEntry(code, "", None, "", True, "unconfirmed code")
    raise ValidationError(f"unknown {t.table} region code {code}; valid codes: {_code_ranges(t)}")


def _code_ranges(t: RegionTable) -> str:
    """The listed codes as runs: ``0-23``, or ``1, 3, 5-6, 11, 14`` for a sparse table."""
    runs: list[list[int]] = []
    for code in sorted(e.code for e in t.entries):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs) or "none"


def _unknown_name(t: RegionTable, name: str) -> str:
    name = name if len(name) <= 40 else name[:40] + "…"  # never echo a 5,000-character input
    if not t.entries:
        return (
            f"{t.table} region {name!r}: the {t.table} table is unconfirmed and lists no region "
            "ids; pass the integer Region code explicitly"
        )
    names = [e.region for e in t.entries]
    shown = ", ".join(names[:_SHOWN]) + (f", … ({len(names)} regions)" if len(names) > _SHOWN else "")
    return f"unknown {t.table} region {name!r}; valid: {shown} or their integer codes"


__all__ = ["TABLES", "RegionEntry", "RegionTable", "load_table", "lookup", "table_name", "target_region"]
