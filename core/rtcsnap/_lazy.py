"""PEP 562 lazy attributes, so a package can re-export heavy parts without importing them.

Why: `import rtcsnap` must not pay for httpx and the OpenAPI client in a storage run, nor a listing
for the download machinery (SQLite, crcmod) — each is tens of milliseconds of a short CLI run.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``table[name]`` (a module path) on first use and keeps
    the attribute in `package`'s namespace, so later lookups cost nothing."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


__all__ = ["lazy_attributes"]
