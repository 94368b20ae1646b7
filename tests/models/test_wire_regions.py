"""Region tables as data (spec §3.4) and their use by the storage models."""

from __future__ import annotations

from importlib.resources import files

import pytest
from rtcsnap import regions
from rtcsnap.errors import ValidationError
from rtcsnap.models import StartSnapshotRequest
from rtcsnap.regions import TABLES, load_table, lookup, table_name

from tests.models.wire_bodies import custom_body, tos_body, veimagex_body

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
    ("veimagex", "ap-southeast-1", 1),
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


@pytest.mark.parametrize("code", [7, 9, 17, 23])
def test_unsupported_s3_codes_are_rejected(code: int) -> None:
    with pytest.raises(ValidationError, match=rf"s3 region code {code} .*not supported"):
        lookup("s3", code)
    entry = lookup("s3", code, allow_unsupported=True)
    assert not entry.supported
    with pytest.raises(ValidationError) as info:
        StartSnapshotRequest.from_wire(custom_body(vendor=0, region=code))
    assert info.value.paths == ["StorageConfig.CustomConfig.Region"]


def test_s3_15_and_16_are_supported_but_flagged() -> None:
    for code in (15, 16):
        entry = lookup("s3", code)
        assert entry.supported
        assert "version-dependent" in entry.note


def test_unknown_name_error_names_table_and_lists_valid_names() -> None:
    with pytest.raises(ValidationError) as info:
        lookup("s3", "mars-central-1")
    message = str(info.value)
    assert "s3" in message and "'mars-central-1'" in message
    assert "us-east-1" in message and "(25 regions)" in message


def test_unknown_code_error_names_valid_range() -> None:
    with pytest.raises(ValidationError, match=r"unknown oss region code 24; valid codes: 0-23"):
        lookup("oss", 24)


def test_unconfirmed_table_accepts_explicit_codes_only() -> None:
    entry = lookup("obs", 5)
    assert (entry.code, entry.region, entry.note) == (5, "", "unconfirmed code")
    assert lookup("kodo", "3").code == 3
    with pytest.raises(ValidationError, match="unconfirmed"):
        lookup("obs", "cn-north-4")
    with pytest.raises(ValidationError, match=">= 0"):
        lookup("cos", -1)
    # veImageX is unconfirmed too: unlisted codes pass, unlisted names do not
    assert lookup("veimagex", 4).note == "unconfirmed code"
    with pytest.raises(ValidationError):
        lookup("veimagex", "cn-beijing")


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
        assert t.source and t.note
        if t.confirmed:
            assert t.entries and all(e.region and e.endpoint for e in t.entries)
        else:
            assert "integer" in t.note


def test_table_contents_match_spec() -> None:
    assert [e.code for e in load_table("s3").entries] == list(range(25))
    assert [e.code for e in load_table("oss").entries] == list(range(24))
    assert [e.code for e in load_table("tos").entries] == list(range(4))
    unsupported = [e.code for e in load_table("s3").entries if not e.supported]
    assert unsupported == [7, 9, 17, 23]
    assert all(e.supported for e in load_table("oss").entries)
    for name in ("obs", "cos", "kodo", "veimagex"):
        assert not load_table(name).confirmed
    for name in ("obs", "cos", "kodo"):
        assert load_table(name).entries == ()
    assert "2024-02-20" in lookup("tos", 3).note


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
        (veimagex_body(), "VeImageXConfig", "ap-southeast-1", 1),
        (custom_body(vendor=0), "CustomConfig", "eu-north-1", 21),
        (custom_body(vendor=1), "CustomConfig", "oss-cn-shenzhen", 7),
        (custom_body(vendor=1), "CustomConfig", "cn-shenzhen", 7),
        (custom_body(vendor=2), "CustomConfig", 12, 12),
        (custom_body(vendor=4), "CustomConfig", "3", 3),
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
