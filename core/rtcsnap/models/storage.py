"""StorageConfig and its per-Type sub-configs (spec §3.3, regions §3.4).

Regions are integers on the wire whose meaning depends on Type and Vendor; these models
accept the provider's own region id too and always store the integer. A Region is an
int32 (spec §3.3); as a string it is an ASCII decimal code or an ASCII region id, checked
here before the region tables see it (they would take any Unicode digit for a number).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import (
    Field,
    SecretStr,
    SerializationInfo,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from rtcsnap import regions
from rtcsnap.errors import FieldError
from rtcsnap.models.base import (
    REVEAL_SECRETS,
    SECRET_MASK,
    RuleViolation,
    WireModel,
    is_response,
    shown_str,
)
from rtcsnap.models.types import (
    NonEmptyStr,
    Secret,
    StorageType,
    Vendor,
    check_int32,
    decimal,
    enum_of,
)

_REGION_ID = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}", re.ASCII)


class _WaivedRegion(int):
    """A region code lenient mode accepted although the table marks it unsupported."""


def region_code(table: str, value: Any, info: ValidationInfo) -> Any:
    """The integer code for a region id or code in `table`; unsupported codes are waivable."""
    if isinstance(value, _WaivedRegion):
        return int(value)
    if is_response(info):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(f"must be an integer code or a {table} region id (got {type(value).__name__})")
    if isinstance(value, str):
        code = decimal(value)
        name = value.strip(" \t\r\n")
        if code is None and _REGION_ID.fullmatch(name) is None:
            raise RuleViolation(
                f"must be an integer code (ASCII digits) or a {table} region id (got {shown_str(value)})"
            )
        value = name if code is None else code
    if isinstance(value, int):
        value = check_int32(int(value), info)
    entry = regions.lookup(table, value, allow_unsupported=True)
    if not entry.supported:
        why = f": {entry.note}" if entry.note else ""
        raise RuleViolation(
            f"{table} region code {entry.code} ({entry.region}) is not supported for snapshots{why}",
            fix="replace",
            replacement=_WaivedRegion(entry.code),
        )
    return entry.code


class TosConfig(WireModel):
    """Type 0: a Volcengine TOS bucket owned by the main account `AccountId`."""

    account_id: NonEmptyStr
    bucket: NonEmptyStr
    region: int = 0

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any, info: ValidationInfo) -> Any:
        return region_code("tos", value, info)


class VeImageXConfig(WireModel):
    """Type 3: a veImageX service of the main account `AccountId`."""

    account_id: NonEmptyStr
    service_id: NonEmptyStr
    region: int = 0

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any, info: ValidationInfo) -> Any:
        return region_code("veimagex", value, info)


class CustomConfig(WireModel):
    """Type 2: a third-party S3-compatible bucket; the keys need write permission only."""

    vendor: Annotated[Vendor, enum_of(Vendor)] = Vendor.S3
    region: int = Field(default=0, validate_default=True)
    """Validated even when omitted: the default 0 is no region at all for COS and OBS (spec
    §3.4.5-3.4.6), and a config that leaves it out must fail here, not at the service."""
    bucket: NonEmptyStr
    access_key: Secret
    secret_key: Secret

    @model_validator(mode="before")
    @classmethod
    def _echoed_keys(cls, data: Any, info: ValidationInfo) -> Any:
        """A server echo may omit the keys (or mask them): parse it all the same."""
        if is_response(info) and isinstance(data, dict):
            return {"AccessKey": "", "SecretKey": "", **data}
        return data

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any, info: ValidationInfo) -> Any:
        vendor = info.data.get("vendor")
        if vendor is None:  # Vendor was invalid and is reported on its own
            return value
        return region_code(regions.table_name(StorageType.CUSTOM, vendor), value, info)

    @field_serializer("access_key", "secret_key")
    def _dump_secret(self, value: SecretStr, info: SerializationInfo) -> str:
        reveal = isinstance(info.context, dict) and info.context.get(REVEAL_SECRETS) is True
        return value.get_secret_value() if reveal else SECRET_MASK


_SUB_CONFIGS = {
    StorageType.TOS: "TosConfig",
    StorageType.CUSTOM: "CustomConfig",
    StorageType.VEIMAGEX: "VeImageXConfig",
}
_FIELDS = {"TosConfig": "tos_config", "CustomConfig": "custom_config", "VeImageXConfig": "ve_image_x_config"}


class StorageConfig(WireModel):
    """Where images go. Exactly the sub-config matching `type` must be present."""

    type: Annotated[StorageType, enum_of(StorageType, allowed=tuple(_SUB_CONFIGS))] = StorageType.TOS
    tos_config: TosConfig | None = None
    ve_image_x_config: VeImageXConfig | None = None
    custom_config: CustomConfig | None = None

    @model_validator(mode="after")
    def _one_sub_config(self, info: ValidationInfo) -> Self:
        if is_response(info):
            return self
        kind = StorageType(self.type)
        wanted = _SUB_CONFIGS[kind]
        errors: list[FieldError] = []
        if getattr(self, _FIELDS[wanted]) is None:
            errors.append(FieldError(wanted, f"is required when Type is {int(kind)} ({kind.name})"))
        for t, alias in _SUB_CONFIGS.items():
            if alias != wanted and getattr(self, _FIELDS[alias]) is not None:
                rule = f"must not be set when Type is {int(kind)} ({kind.name}); it needs Type {int(t)}"
                errors.append(FieldError(alias, rule))
        if errors:
            raise RuleViolation(errors)
        return self
