"""``[plugins.moderation]`` of rtcsnap's config file: the rules, plus how the hook runs.

    [plugins.moderation]
    storage = "@evidence"      # where the hook reads each new image (a TARGET: URL or @NAME, read key)
    workers = 2                # model processes (and hook threads); default 1
    detectors = ["nudity", "text"]
    packs = ["contact"]
    [[plugins.moderation.text]]
    name = "gambling"
    keywords = ["赌博", "online casino"]

Everything but `storage` and `workers` is the rules table (`rtcsnap_moderation.rules`), so an error
anywhere is reported at its line by ``rtcsnap config check`` (`problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rtcsnap_moderation.rules import ModerationRules, RulesError, parse_rules

NAME = "moderation"
"""The plugin's name: its ``[plugins.NAME]`` table, the `source` of its verdicts in the index."""
RUN_KEYS = ("storage", "workers")
MAX_WORKERS = 64


@dataclass(frozen=True)
class Settings:
    rules: ModerationRules
    storage: str | None = None
    workers: int = 1


class SettingsError(ValueError):
    """The section is invalid; `problems` are (location within the section, rule) pairs."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, loc)) or NAME}: {rule}" for loc, rule in problems))


def problems(section: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every error of the section, located within it (empty: valid)."""
    try:
        parse(section)
    except SettingsError as exc:
        return exc.problems
    return []


def parse(section: Mapping[str, Any]) -> Settings:
    """The settings of a ``[plugins.moderation]`` table; `SettingsError` naming each broken field."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    storage = section.get("storage")
    if storage is not None and (not isinstance(storage, str) or not storage.strip()):
        found.append((("storage",), "must be a TARGET: a storage URL or @NAME"))
    workers = section.get("workers", 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        found.append((("workers",), f"must be an integer from 1 to {MAX_WORKERS} (got {workers!r})"))
    rules = ModerationRules()
    try:
        rules = parse_rules({k: v for k, v in section.items() if k not in RUN_KEYS})
    except RulesError as exc:
        found += [(p.loc, f"{p.rule}: {p.message}" if p.rule else p.message) for p in exc.problems]
    if found:
        raise SettingsError(found)
    return Settings(rules, storage if isinstance(storage, str) else None, int(workers))


__all__ = ["NAME", "Settings", "SettingsError", "parse", "problems"]
