"""Region tables as data (spec §3.4) and their use by the storage models."""

from __future__ import annotations

import dataclasses
import re
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import pytest
from rtcsnap import regions
from rtcsnap.errors import ValidationError
from rtcsnap.models import RtcSnapLenientWarning, StartSnapshotRequest
from rtcsnap.regions import TABLES, RegionTable, load_table, lookup, table_name

from tests.models.wire_bodies import custom_body, edit, tos_body, veimagex_body

CHECKOUT = Path(__file__).resolve().parents[2]
SPEC_DIR = CHECKOUT.parent / "shared" / "spec"
"""The spec folder lives beside the checkout (``<checkout>/../shared/spec``), locally and in CI."""
SPEC = SPEC_DIR / "volc-snapshot-spec.md"
needs_spec = pytest.mark.skipif(
    not SPEC_DIR.is_dir(), reason=f"no spec folder at {SPEC_DIR} (expected shared/spec beside the checkout)"
)
SECTIONS = {
    "tos": "3.4.1",
    "veimagex": "3.4.2",
    "s3": "3.4.3",
    "oss": "3.4.4",
    "obs": "3.4.5",
    "cos": "3.4.6",
    "kodo": "3.4.7",
}
"""Each table's section of the spec."""

KNOWN = [
    ("tos", "cn-beijing", 0),
    ("tos", "cn-shanghai", 2),
    ("tos", "ap-southeast-1", 3),
    ("s3", "us-east-1", 0),
    ("s3", "ap-northeast-1", 10),
    ("s3", "cn-north-1", 15),
    ("s3", "af-south-1", 24),
    ("oss", "oss-cn-hangzhou", 0),
    ("oss", "oss-cn-wulanchabu", 6),
    ("oss", "oss-ap-southeast-6", 23),
    ("veimagex", "cn-north-1", 0),
    ("veimagex", "ap-singapore-1", 1),
    ("obs", "cn-north-4", 1),
    ("obs", "ap-southeast-1", 14),
    ("cos", "ap-beijing", 1),
    ("cos", "ap-hongkong", 10),
    ("kodo", "cn-east-1", 0),
    ("kodo", "cn-south-1", 3),
]


@pytest.mark.parametrize(("table", "region", "code"), KNOWN)
def test_name_to_code_and_back(table: str, region: str, code: int) -> None:
    assert lookup(table, region).code == code
    assert lookup(table, code).region == region
    assert lookup(table, str(code)).region == region
    assert load_table(table).by_code(code) == load_table(table).by_region(region)


def test_oss_accepts_ids_without_prefix_and_any_case() -> None:
    assert lookup("oss", "cn-hangzhou").code == 0
    assert lookup("oss", "CN-Wulanchabu").region == "oss-cn-wulanchabu"
    assert lookup("s3", " US-EAST-2 ").code == 1


def test_endpoints() -> None:
    assert lookup("tos", "cn-beijing").endpoint == "tos-cn-beijing.volces.com"
    assert lookup("s3", 0).endpoint == "s3.us-east-1.amazonaws.com"
    assert lookup("s3", 15).endpoint == "s3.cn-north-1.amazonaws.com.cn"
    assert lookup("oss", 0).endpoint == "oss-cn-hangzhou.aliyuncs.com"
    assert lookup("obs", 5).endpoint == "obs.cn-east-3.myhuaweicloud.com"
    assert lookup("kodo", 1).endpoint == "s3.cn-east-2.qiniucs.com"
    assert lookup("cos", 4).endpoint is None  # the spec gives no COS endpoint
    assert lookup("veimagex", 1).endpoint is None


@pytest.mark.parametrize("code", [7, 9, 17, 23])
def test_unsupported_s3_codes_are_rejected(code: int) -> None:
    with pytest.raises(ValidationError, match=rf"s3 region code {code} .*not supported"):
        lookup("s3", code)
    entry = lookup("s3", code, allow_unsupported=True)
    assert not entry.supported
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(custom_body(vendor=0, region=code))
    assert info.value.paths == ["StorageConfig.CustomConfig.Region"]


@pytest.mark.parametrize(("vendor", "table"), [(2, "obs"), (3, "cos")])
def test_an_omitted_region_is_checked_too_cos_and_obs_have_no_code_0(vendor: int, table: str) -> None:
    """CustomConfig.Region defaults to 0, which OBS and COS do not have: leaving it out is an error
    naming the field and the valid codes, before anything is sent (S3, OSS and Kodo do have 0)."""
    body = custom_body(vendor=vendor)
    del body["StorageConfig"]["CustomConfig"]["Region"]
    with pytest.raises(ValidationError, match=rf"unknown {table} region code 0; valid codes") as info:
        StartSnapshotRequest.from_wire(body)
    assert info.value.paths == ["StorageConfig.CustomConfig.Region"]
    for fine in (0, 1, 4):
        ok = custom_body(vendor=fine)
        del ok["StorageConfig"]["CustomConfig"]["Region"]
        assert (
            StartSnapshotRequest.from_wire(ok).to_wire()["StorageConfig"]["CustomConfig"].get("Region", 0)
            == 0
        )


def test_s3_15_and_16_are_supported_but_flagged() -> None:
    for code in (15, 16):
        entry = lookup("s3", code)
        assert entry.supported
        assert "version-dependent" in entry.note


def test_oss_16_is_unsupported_and_23_valid() -> None:
    with pytest.raises(ValidationError, match=r"oss region code 16 \(oss-ap-southeast-3\) is not supported"):
        lookup("oss", "ap-southeast-3")
    assert not lookup("oss", 16, allow_unsupported=True).supported
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(custom_body(vendor=1, region=16))
    assert info.value.paths == ["StorageConfig.CustomConfig.Region"]
    with pytest.warns(RtcSnapLenientWarning, match=r"CustomConfig\.Region.*not supported"):
        req = StartSnapshotRequest.from_wire(custom_body(vendor=1, region=16), lenient=True)
    assert req.to_wire()["StorageConfig"]["CustomConfig"]["Region"] == 16
    assert lookup("oss", 23).supported


def test_veimagex_1_is_ap_singapore_1_and_ap_southeast_1_is_rejected() -> None:
    assert lookup("veimagex", 1).region == "ap-singapore-1"
    with pytest.raises(ValidationError) as info:
        lookup("veimagex", "ap-southeast-1")
    assert str(info.value) == (
        "unknown veimagex region 'ap-southeast-1'; valid: cn-north-1, ap-singapore-1 or their integer codes"
    )
    body = edit(veimagex_body(), "StorageConfig.VeImageXConfig.Region", "ap-southeast-1")
    with pytest.raises(ValidationError) as model_info:
        StartSnapshotRequest.from_wire(body)
    assert model_info.value.paths == ["StorageConfig.VeImageXConfig.Region"]
    assert "valid: cn-north-1, ap-singapore-1" in str(model_info.value)


def test_unknown_name_error_names_table_and_lists_valid_names() -> None:
    with pytest.raises(ValidationError) as info:
        lookup("s3", "mars-central-1")
    message = str(info.value)
    assert "s3" in message and "'mars-central-1'" in message
    assert "us-east-1" in message and "(25 regions)" in message


def test_unknown_code_error_names_valid_range() -> None:
    with pytest.raises(ValidationError, match=r"unknown oss region code 24; valid codes: 0-23"):
        lookup("oss", 24)
    with pytest.raises(ValidationError, match=r"unknown obs region code 2; valid codes: 1, 3, 5-6, 11, 14$"):
        lookup("obs", 2)
    with pytest.raises(ValidationError, match=r"unknown cos region code 0; valid codes: 1-10$"):
        lookup("cos", "0")


def _unlisted(t: RegionTable) -> list[int]:
    """Codes a table does not list: the first gap (if any) and one past the end."""
    codes = {e.code for e in t.entries}
    gaps = [c for c in range(max(codes)) if c not in codes]
    return [*gaps[:1], max(codes) + 1]


def _body_with_region(t: RegionTable, code: int) -> tuple[dict[str, object], str]:
    """A valid StartSnapshot body for `t`'s storage with `code` as its Region, and that field's path."""
    if t.storage_type == 0:
        body, section = tos_body(), "TosConfig"
    elif t.storage_type == 3:
        body, section = veimagex_body(), "VeImageXConfig"
    else:
        body, section = custom_body(vendor=t.vendor or 0), "CustomConfig"
    path = f"StorageConfig.{section}.Region"
    return edit(body, path, code), path


@pytest.mark.parametrize("table", TABLES)
def test_confirmed_table_rejects_unlisted_codes(table: str) -> None:
    t = load_table(table)
    assert t.confirmed, "every table is confirmed (spec §9 #3, #4)"
    for code in _unlisted(t):
        for given in (code, str(code)):
            with pytest.raises(ValidationError, match=rf"unknown {table} region code {code}; valid codes: "):
                lookup(table, given)
        body, path = _body_with_region(t, code)  # through the models the error names the field
        with pytest.raises(ValidationError) as info:
            StartSnapshotRequest.from_wire(body)
        assert info.value.paths == [path]
        assert f"{path}: unknown {table} region code {code}; valid codes: " in str(info.value)


def test_cos_has_no_code_0() -> None:
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(custom_body(vendor=3, region=0))
    assert (
        str(info.value) == "StorageConfig.CustomConfig.Region: unknown cos region code 0; valid codes: 1-10"
    )
    wire = StartSnapshotRequest.from_wire(custom_body(vendor=3, region="ap-guangzhou")).to_wire()
    assert wire["StorageConfig"]["CustomConfig"]["Region"] == 4


def test_an_unconfirmed_table_would_accept_explicit_codes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No shipped table is unconfirmed any more; the rule stays for a data file marked so."""
    real = regions.load_table
    fakes = {
        "obs": dataclasses.replace(real("obs"), confirmed=False),
        "cos": dataclasses.replace(real("cos"), confirmed=False, entries=()),
    }
    monkeypatch.setattr(regions, "load_table", lambda name: fakes.get(name) or real(name))
    entry = lookup("obs", 7)
    assert (entry.code, entry.region, entry.note) == (7, "", "unconfirmed code")
    assert lookup("obs", "cn-north-4").code == 1  # listed rows still resolve by name
    with pytest.raises(ValidationError, match="unknown obs region 'cn-north-1'"):
        lookup("obs", "cn-north-1")
    with pytest.raises(ValidationError, match="unconfirmed and lists no region ids"):
        lookup("cos", "ap-beijing")
    assert lookup("cos", "3").code == 3
    with pytest.raises(ValidationError, match=">= 0"):
        lookup("cos", -1)


@pytest.mark.parametrize("value", [True, 1.5, None])
def test_lookup_rejects_other_types(value: object) -> None:
    with pytest.raises(ValidationError):
        lookup("tos", value)  # type: ignore[arg-type]


def test_every_data_file_loads_with_unique_codes_and_regions() -> None:
    data = files("rtcsnap.regions").joinpath("data")
    on_disk = sorted(p.name for p in data.iterdir() if p.name.endswith(".json"))
    assert on_disk == sorted(f"{t}.json" for t in TABLES)
    for name in TABLES:
        t = load_table(name)
        assert t.table == name
        assert table_name(t.storage_type, t.vendor) == name
        codes = [e.code for e in t.entries]
        names = [e.region for e in t.entries]
        assert len(codes) == len(set(codes)), name
        assert len(names) == len(set(names)), name
        assert all(code >= 0 for code in codes)
        assert t.source.startswith(f"spec §{SECTIONS[name]}"), t.source
        assert t.note
        assert t.confirmed and t.entries and all(e.region for e in t.entries)
        assert codes == sorted(codes), name
        # a table has an endpoint on every row or on none (COS, veImageX: the spec gives none)
        assert len({e.endpoint is None for e in t.entries}) == 1, name


def test_table_contents_match_spec() -> None:
    """Pinned here so a data edit shows in review even without the spec folder."""
    codes = {name: [e.code for e in load_table(name).entries] for name in TABLES}
    assert codes == {
        "tos": [0, 1, 2, 3],
        "veimagex": [0, 1],
        "s3": list(range(25)),
        "oss": list(range(24)),
        "obs": [1, 3, 5, 6, 11, 14],
        "cos": list(range(1, 11)),
        "kodo": [0, 1, 2, 3],
    }
    unsupported = {name: [e.code for e in load_table(name).entries if not e.supported] for name in TABLES}
    assert {name: codes for name, codes in unsupported.items() if codes} == {
        "s3": [7, 9, 17, 23],
        "oss": [16],
    }
    assert [e.region for e in load_table("veimagex").entries] == ["cn-north-1", "ap-singapore-1"]
    assert "2024-02-20" in lookup("tos", 3).note


# --------------------------------------------------------------------------- the spec's own tables


class SpecRow(NamedTuple):
    region: str
    name: str
    remark: str
    extra: tuple[str, ...]


def _spec_text() -> str:
    # the folder is there, so a missing or renamed spec is a failure, not a skip
    return SPEC.read_text(encoding="utf-8")


def _section(text: str, number: str) -> str:
    found = re.search(rf"^#### {re.escape(number)} .*?(?=^#{{2,4}} )", text, re.M | re.S)
    assert found, f"spec has no section {number}"
    return found.group(0)


def _spec_rows(section: str) -> dict[int, SpecRow]:
    """The section's first markdown table; side-by-side halves (``| 0 | a | | 13 | b |``) are split."""
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert len(lines) > 2, "no table in the section"
    rows: dict[int, SpecRow] = {}
    for line in lines[2:]:  # header and separator
        groups: list[list[str]] = [[]]
        for cell in (c.strip() for c in line.strip().strip("|").split("|")):
            if cell:
                groups[-1].append(cell)
            elif groups[-1]:
                groups.append([])
        for group in filter(None, groups):
            code, region_cell, *rest = group
            m = re.fullmatch(r"`?([a-z0-9-]+)`?\s*(?:\((.*)\))?", region_cell)
            assert m, f"region cell {region_cell!r}"
            name, _, more = rest[0].partition(" — ") if rest else ("", "", "")
            assert int(code) not in rows, f"code {code} twice"
            rows[int(code)] = SpecRow(m.group(1), name.strip(), m.group(2) or more.strip(), tuple(rest[1:]))
    return rows


def _endpoint_format(section: str) -> str | None:
    """The first backticked host pattern with a ``{…}`` placeholder, e.g. ``obs.{region}.myhuaweicloud.com``."""
    found = re.search(r"`([a-z0-9.-]*\{[a-z-]+\}[a-z0-9.-]*)`", section)
    return None if found is None else found.group(1)


def _spec_unsupported(text: str, table: str) -> set[int]:
    if table == "s3":
        found = re.search(r"Unsupported: 2025 rev — \*\*([0-9, ]+)\*\*", _section(text, SECTIONS["s3"]))
        assert found, "S3 unsupported list"
        return {int(c) for c in found.group(1).split(",")}
    if table == "oss":  # §9 #4 (revised 2026-12-01): "Aliyun region 23 … valid; 16 unsupported"
        item = _open_items(text)["4"]
        assert item.startswith("Aliyun"), item
        return {int(c) for c in re.findall(r"\b(\d+) unsupported", item)}
    return set()


def _open_items(text: str) -> dict[str, str]:
    """§9's table: item number -> the rest of its row."""
    found = re.search(r"^## 9\. .*?(?=^## |\Z)", text, re.M | re.S)
    assert found, "spec has no section 9"
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| (\d+) \| (.*)$", found.group(0), re.M)}


@needs_spec
@pytest.mark.parametrize("table", TABLES)
def test_rows_equal_the_spec(table: str) -> None:
    text = _spec_text()
    section = _section(text, SECTIONS[table])
    spec = _spec_rows(section)
    t = load_table(table)
    ours = {e.code: e for e in t.entries}
    assert sorted(ours) == sorted(spec), "codes"
    assert {c: e.region for c, e in ours.items()} == {c: r.region for c, r in spec.items()}, "region ids"
    for code, row in spec.items():
        entry = ours[code]
        if row.name:
            assert entry.name == row.name, f"name of {code}"
        if row.remark:
            assert entry.note, f"code {code}: the spec remarks {row.remark!r}, the row has no note"
        for word in re.findall(r"GOWB|AWS China|[0-9]{4}-[0-9]{2}-[0-9]{2}", row.remark):
            assert word in entry.note, f"code {code}: the spec's remark {row.remark!r}"
        for zone in row.extra:  # Kodo's qiniu SDK zone column
            assert f"zone: {zone} " in entry.note, f"zone of {code}"
    unsupported = {e.code for e in t.entries if not e.supported}
    assert unsupported == _spec_unsupported(text, table)
    pattern = _endpoint_format(section)
    if pattern is not None:
        expected = {c: re.sub(r"\{[a-z-]+\}", e.region, pattern) for c, e in ours.items()}
        assert {c: e.endpoint for c, e in ours.items()} == expected, "endpoints"
    elif table != "s3":  # S3 rows carry AWS's standard endpoints (the spec's EndPointFormat is "")
        assert all(e.endpoint is None for e in t.entries), "the spec gives no endpoint"


@needs_spec
def test_confirmed_flags_follow_the_spec() -> None:
    text = _spec_text()
    for table, number in SECTIONS.items():
        heading = _section(text, number).splitlines()[0]
        if heading.endswith("— confirmed"):
            assert load_table(table).confirmed, table
    items = _open_items(text)
    for number, tables in (("3", ("obs", "cos", "kodo", "veimagex")), ("4", ("oss",))):
        status = items[number].split("|")[1].strip()
        assert status == "**confirmed**", f"spec §9 #{number}: {status}"
        for table in tables:
            assert load_table(table).confirmed, table


def test_table_name_mapping() -> None:
    assert table_name(0, None) == "tos"
    assert table_name(3, None) == "veimagex"
    assert [table_name(2, v) for v in range(5)] == ["s3", "oss", "obs", "cos", "kodo"]
    assert table_name(2, None) == "s3"
    for bad in ((1, None), (2, 5), (4, None)):
        with pytest.raises(ValidationError):
            table_name(*bad)
    with pytest.raises(ValidationError):
        load_table("vod")


def test_load_table_is_cached() -> None:
    assert load_table("s3") is load_table("s3")
    assert regions.load_table.cache_info().hits > 0


@pytest.mark.parametrize(
    ("body", "section", "given", "code"),
    [
        (tos_body(), "TosConfig", "cn-guangzhou", 1),
        (veimagex_body(), "VeImageXConfig", "ap-singapore-1", 1),
        (custom_body(vendor=0), "CustomConfig", "eu-north-1", 21),
        (custom_body(vendor=1), "CustomConfig", "oss-cn-shenzhen", 7),
        (custom_body(vendor=1), "CustomConfig", "cn-shenzhen", 7),
        (custom_body(vendor=2), "CustomConfig", 11, 11),
        (custom_body(vendor=2), "CustomConfig", "cn-north-9", 3),
        (custom_body(vendor=3), "CustomConfig", "ap-shenzhen-fsi", 7),
        (custom_body(vendor=4), "CustomConfig", "3", 3),
        (custom_body(vendor=4), "CustomConfig", "cn-east-2", 1),
    ],
)
def test_models_store_and_emit_integer_codes(
    body: dict[str, object], section: str, given: object, code: int
) -> None:
    storage = body["StorageConfig"]
    assert isinstance(storage, dict)
    storage[section]["Region"] = given
    wire = StartSnapshotRequest.from_wire(body).to_wire()
    assert wire["StorageConfig"][section]["Region"] == code
    assert type(wire["StorageConfig"][section]["Region"]) is int


def test_target_region_is_one_message_for_every_provider() -> None:
    from rtcsnap.errors import ConfigurationError
    from rtcsnap.regions import target_region

    assert target_region("cos", "ap-guangzhou").code == target_region("cos", "4").code == 4
    with pytest.raises(
        ConfigurationError, match=r"target option 'region': unknown obs region 'mars'; valid: cn-north-4"
    ):
        target_region("obs", "mars")
    with pytest.raises(
        ConfigurationError, match=r"target option 'region': required for cos:// targets; one of ap-beijing"
    ):
        target_region("cos", None)
    assert not target_region("oss", "16", allow_unsupported=True).supported
    with pytest.raises(ConfigurationError, match="not supported"):
        target_region("oss", "16")
