"""``[plugins.NAME]``: a plugin's own table in the config file, checked by the plugin, located by core.

Why core owns this: the file forbids unknown keys (a typo is an error at its line), so a plugin
cannot simply add a section; and every plugin would otherwise parse the file again and lose the
line numbers. So core accepts ``[plugins.NAME]`` tables without looking inside, hands each to the
installed plugins' `rtcsnap_check_config` during ``rtcsnap config check`` (their answers become
``FILE:LINE: plugins.NAME.…: rule`` problems; a table nobody reads is a warning), and gives a
plugin its table at run time with the same locations (`plugin_section`, `PluginSection.where`).

No import of `rtcsnap.profiles` at module level: it imports this module.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rtcsnap import secrets
from rtcsnap.profiles.lines import line_of

if TYPE_CHECKING:
    import pluggy

    from rtcsnap.profiles import Config, Problem

HOOK = "rtcsnap_check_config"
Loc = tuple[str | int, ...]


def field_name(loc: Sequence[str | int]) -> str:
    """A location as the check prints it: ``("plugins", "moderation", "text", 1, "patterns", 0)``
    is ``plugins.moderation.text[1].patterns[0]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class PluginSection:
    """One plugin's ``[plugins.NAME]`` table: `data` as parsed (empty when absent), and where each
    part of it sits in the file, for messages a user can act on."""

    name: str
    data: Mapping[str, Any]
    path: Path | None
    """The config file (None: there is none)."""
    present: bool = False
    """Whether the file has this table (else `data` is empty and the plugin uses its defaults)."""
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict, repr=False)

    def line(self, loc: Loc = ()) -> int | None:
        """The line of `loc` within the section (or of its nearest enclosing key)."""
        return line_of(self.lines, ("plugins", self.name, *loc))

    def where(self, loc: Loc = ()) -> str:
        """``FILE:LINE: plugins.NAME.LOC`` — prefix a rule with ``": "`` to report a problem, e.g.
        ``section.where(("text", 1, "patterns", 0))`` for the second ``[[plugins.NAME.text]]``."""
        name = field_name(("plugins", self.name, *loc))
        if self.path is None:
            return name
        line = self.line(loc)
        return f"{self.path}:{line}: {name}" if line else f"{self.path}: {name}"


_override: dict[str, Mapping[str, Any]] | None = None
_override_lock = threading.Lock()


@contextlib.contextmanager
def sections_override(sections: Mapping[str, Mapping[str, Any]]) -> Iterator[None]:
    """While active, `plugin_section` answers from `sections` (NAME → table) instead of the config
    file, in every thread: how ``rtcsnap demo`` runs plugins self-contained. A name it lacks has no
    table. Not nestable (the demo is one per process): a second one is a `RuntimeError`."""
    global _override
    with _override_lock:
        if _override is not None:
            raise RuntimeError("plugin sections are already overridden")
        _override = {name: copy.deepcopy(dict(table)) for name, table in sections.items()}
    try:
        yield
    finally:
        with _override_lock:
            _override = None


def plugin_section(name: str, config: Config | None = None) -> PluginSection:
    """``[plugins.NAME]`` of `config`, default the config file in use (`rtcsnap.profiles.load`:
    `ConfigFileError` when the file is invalid), or of an active `sections_override`. No file or
    no such table: an empty section."""
    from rtcsnap.profiles import config_path, load

    override = _override
    if config is None and override is not None:
        table = override.get(name)
        return PluginSection(name, table if table is not None else {}, None, table is not None)
    if config is None:
        config = load()
    if config is None:
        return PluginSection(name, {}, config_path())
    data = config.plugins.get(name)
    return PluginSection(name, data if data is not None else {}, config.path, data is not None, config.lines)


def _answer_problems(answer: object) -> list[tuple[Loc, str]] | None:
    """A `rtcsnap_check_config` answer as (loc, rule) pairs; None when it is not one."""
    if not isinstance(answer, list | tuple):
        return None
    out: list[tuple[Loc, str]] = []
    for item in answer:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            return None
        loc, rule = item
        if isinstance(loc, str | int) and not isinstance(loc, bool):
            loc = (loc,)
        if not isinstance(loc, list | tuple) or not isinstance(rule, str):
            return None
        if not all(isinstance(p, str | int) and not isinstance(p, bool) for p in loc):
            return None
        out.append((tuple(loc), rule))
    return out


def _one_line(text: str) -> str:
    return secrets.redact(" ".join(text.split()))[:1000]


def check_sections(
    config: Config, manager: pluggy.PluginManager, problems: list[Problem]
) -> dict[str, list[str]]:
    """Hand every ``[plugins.NAME]`` of `config` to each `rtcsnap_check_config` implementation of
    `manager`, one at a time (a raising plugin is an error of its own, naming it, and the others
    still check); append the problems to `problems`. Returns NAME -> the plugins that read it."""
    from rtcsnap.profiles import Problem

    caller = getattr(manager.hook, HOOK, None)
    impls = [] if caller is None else [i for i in caller.get_hookimpls() if not (i.wrapper or i.hookwrapper)]
    readers: dict[str, list[str]] = {}

    def add(loc: Loc, rule: str, severity: Literal["error", "warning"] = "error") -> None:
        line = line_of(config.lines, loc)
        problems.append(Problem(config.path, line, field_name(loc), rule, severity))

    for name, section in config.plugins.items():
        base: Loc = ("plugins", name)
        readers[name] = []
        for impl in impls:
            kwargs = {"name": name, "section": copy.deepcopy(dict(section))}  # a plugin cannot alter it
            try:
                answer = impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                readers[name].append(impl.plugin_name)
                reason = _one_line(f"{type(exc).__name__}: {exc}")
                add(base, f"plugin {impl.plugin_name!r} failed to check it: {reason}")
                continue
            if answer is None:
                continue
            readers[name].append(impl.plugin_name)
            found = _answer_problems(answer)
            if found is None:
                add(
                    base,
                    f"plugin {impl.plugin_name!r}: {HOOK} must return None or a list of (location, rule)",
                )
                continue
            for loc, rule in found:
                add((*base, *loc), _one_line(rule))
        if not readers[name]:
            add(base, f"no installed plugin reads [plugins.{name}]", "warning")
    return readers


__all__ = ["PluginSection", "check_sections", "field_name", "plugin_section", "sections_override"]
