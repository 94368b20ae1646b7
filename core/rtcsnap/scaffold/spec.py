"""What `rtcsnap provider new` is asked to scaffold, checked before anything is written.

A name is used three ways at once — provider name, URL scheme and entry-point name — and becomes
the package ``rtcsnap_<name>`` and the distribution ``rtcsnap-<name>``, so one rule covers all.
Every refusal is one line naming the field and the rule (the CLI turns it into exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rtcsnap.errors import ConfigurationError
from rtcsnap.providers.manager import ProviderEntry
from rtcsnap.regions import load_table, table_name

NAME_PATTERN = re.compile(r"[a-z][a-z0-9]{1,19}")
NAME_RULE = "a lowercase letter, then 1-19 lowercase letters or digits ([a-z][a-z0-9]{1,19})"

TYPES = {0: "TOS", 2: "third-party (CustomConfig)", 3: "veImageX"}
"""StorageConfig.Type values RTC snapshots take (spec §3.3)."""
VENDORS = {0: "S3", 1: "OSS", 2: "OBS", 3: "COS", 4: "Kodo"}
"""CustomConfig.Vendor values RTC knows (spec §3.3.4); each has a region table."""


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigurationError(f"NAME {name[:40]!r}: must be {NAME_RULE}")
    return name


@dataclass(frozen=True)
class Spec:
    """A provider to scaffold: its name and the StorageConfig (Type, Vendor) it serves."""

    name: str
    storage_type: int = 2
    vendor: int | None = 0
    s3_compatible: bool = False

    @classmethod
    def build(
        cls,
        name: str,
        *,
        storage_type: int | None = None,
        vendor: int | None = None,
        s3_compatible: bool = False,
    ) -> Spec:
        """The spec for the CLI's options; defaults: Type 2, Vendor 0."""
        check_name(name)
        if s3_compatible and storage_type not in (None, 2):
            raise ConfigurationError(
                f"--type {storage_type}: --s3-compatible scaffolds a Type 2 (CustomConfig) provider"
            )
        kind = 2 if storage_type is None else storage_type
        if kind not in TYPES:
            raise ConfigurationError(f"--type {kind}: must be 0 (TOS), 2 (third-party) or 3 (veImageX)")
        if kind != 2 and vendor is not None:
            raise ConfigurationError(
                f"--vendor {vendor}: only for --type 2 (CustomConfig.Vendor); Type {kind} has no vendor"
            )
        if kind == 2 and vendor is not None and vendor not in VENDORS:
            raise ConfigurationError(
                f"--vendor {vendor}: must be one RTC knows: "
                + ", ".join(f"{v} {n}" for v, n in VENDORS.items())
            )
        return cls(name, kind, (0 if vendor is None else vendor) if kind == 2 else None, s3_compatible)

    # -- derived names ---------------------------------------------------------------------

    @property
    def package(self) -> str:
        return f"rtcsnap_{self.name}"

    @property
    def distribution(self) -> str:
        return f"rtcsnap-{self.name}"

    @property
    def class_prefix(self) -> str:
        return self.name[0].upper() + self.name[1:]

    @property
    def env_prefix(self) -> str:
        return self.name.upper()

    @property
    def region_table(self) -> str:
        return table_name(self.storage_type, self.vendor)

    @property
    def example_region(self) -> str:
        """A region id RTC supports in the table, for the generated tests' targets."""
        return next(e.region for e in load_table(self.region_table).entries if e.supported and e.region)

    @property
    def kind(self) -> str:
        """E.g. ``Type 2, Vendor 0 (S3)`` or ``Type 0 (TOS)``."""
        if self.storage_type == 2:
            return f"Type 2, Vendor {self.vendor} ({VENDORS[self.vendor or 0]})"
        return f"Type {self.storage_type} ({TYPES[self.storage_type]})"


def check_free(spec: Spec, entries: Iterable[ProviderEntry], plugin_names: Iterable[str] = ()) -> None:
    """Refuse a name that an installed provider already has as its name or URL scheme, or that an
    installed plugin's entry point already has (a plugin that failed to load still claims it)."""
    for entry in entries:
        provider = entry.provider
        what = "name" if provider.name == spec.name else "URL scheme" if provider.scheme == spec.name else ""
        if what:
            raise ConfigurationError(
                f"NAME {spec.name!r}: already the {what} of the installed provider {provider.name!r} "
                f"({entry.distribution or entry.plugin}); a name must be unique: choose another"
            )
    if spec.name in set(plugin_names):
        raise ConfigurationError(
            f"NAME {spec.name!r}: already the entry-point name of an installed rtcsnap plugin; choose another"
        )


def served_by(spec: Spec, entries: Iterable[ProviderEntry]) -> ProviderEntry | None:
    """The installed provider serving the same (Type, Vendor), which the new one would replace."""
    for entry in entries:
        provider = entry.provider
        if provider.storage_type == spec.storage_type and (
            spec.storage_type != 2 or provider.vendor == spec.vendor
        ):
            return entry
    return None


def check_directory(directory: Path) -> None:
    """A new or empty directory only: scaffolding never overwrites a file."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        what = "is not a directory" if not directory.is_dir() else "exists and is not empty"
        raise ConfigurationError(f"--dir {str(directory)!r}: {what}; give a new or empty directory")


__all__ = [
    "NAME_PATTERN",
    "NAME_RULE",
    "TYPES",
    "VENDORS",
    "Spec",
    "check_directory",
    "check_free",
    "check_name",
    "served_by",
]
