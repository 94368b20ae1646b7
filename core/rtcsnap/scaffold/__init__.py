"""Scaffolding for a new storage provider: ``rtcsnap provider new NAME [--s3-compatible]``.

It writes a plugin distribution — pyproject.toml with the ``rtcsnap`` entry point, a provider
module whose primitives are stubs that say what to implement, and a test module running the shipped
contract suite — so that the generated tests run from the first minute and fail only where a
primitive is still a stub. For an S3-compatible vendor they run against rtcsnap's local S3 server
(moto); for any other protocol the author supplies the server. docs/providers.md walks through it.

The templates are plain files under ``templates/`` (shipped in the wheel with the package).
"""

from __future__ import annotations

from pathlib import Path

from rtcsnap.providers.manager import ProviderEntry
from rtcsnap.scaffold.render import render, write
from rtcsnap.scaffold.spec import (
    NAME_PATTERN,
    NAME_RULE,
    Spec,
    check_directory,
    check_free,
    check_name,
    served_by,
)

STUBBED = ("head_bucket", "put", "get", "stat", "list_page", "delete", "translate")
"""The Session primitives the templates leave as NotImplementedError stubs."""


def scaffold(spec: Spec, directory: Path, served: ProviderEntry | None = None) -> list[Path]:
    """Write the distribution for `spec` into `directory` (new or empty); the files written.
    `served` is the installed provider of the same (Type, Vendor), which the texts name."""
    return write(render(spec, served), directory)


__all__ = [
    "NAME_PATTERN",
    "NAME_RULE",
    "STUBBED",
    "Spec",
    "check_directory",
    "check_free",
    "check_name",
    "render",
    "scaffold",
    "served_by",
    "write",
]
