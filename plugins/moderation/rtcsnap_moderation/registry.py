"""Which detectors exist: the built-ins plus every plugin of the ``rtcsnap_moderation`` entry-point
group, collected through the `rtcsnap_moderation_register_detectors` hook and validated on the way
in (a `Detector` subclass, a well-formed name, no two with one name).

As in core's provider manager, a broken third-party plugin costs a warning and a `LoadError` (in
``errors``), not moderation: every entry point is imported and called on its own, and a plugin
whose registration fails is rolled back whole. A direct ``register`` (tests, embedders) raises.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy
from rtcsnap.errors import PluginError
from rtcsnap.providers.manager import LoadError, PluginLoadWarning

from rtcsnap_moderation import hookspecs
from rtcsnap_moderation.detector import Detector

log = logging.getLogger(__name__)

GROUP = hookspecs.PROJECT
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class DetectorError(PluginError):
    """A detector plugin failed to load or register, or its class breaks the contract."""


class DetectorClashError(DetectorError):
    """Two detectors claim the same name."""


class UnknownDetectorError(DetectorError, KeyError):
    """No registered detector has that name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class DetectorLoadWarning(PluginLoadWarning):
    """A detector plugin was skipped because it failed to import or register."""


@dataclass(frozen=True)
class DetectorEntry:
    detector: type[Detector]
    plugin: str


def check(cls: Any, plugin: str) -> type[Detector]:
    """`cls` if it is a usable detector class; else a `DetectorError` naming the plugin and why."""
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise DetectorError(f"plugin {plugin!r} registered {cls!r}, which is not a Detector subclass")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise DetectorError(
            f"detector {cls.__name__} from plugin {plugin!r}: name must be lowercase letters, digits "
            f"and _, a letter first, at most 32 characters (got {name!r})"
        )
    if getattr(cls, "__abstractmethods__", None):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise DetectorError(f"detector {name!r} from plugin {plugin!r} does not implement {missing}")
    labels = cls.labels
    if labels is not None and not (isinstance(labels, frozenset) and all(isinstance(x, str) for x in labels)):
        raise DetectorError(f"detector {name!r} from plugin {plugin!r}: labels must be a frozenset of str")
    return cls


class DetectorRegistry:
    """pluggy host for detectors. ``DetectorRegistry()`` has the built-ins and the installed
    plugins (loaded on first lookup); ``DetectorRegistry(builtins=False, plugins=False)`` starts
    empty, for a test that registers its own."""

    _default: DetectorRegistry | None = None
    _default_lock = threading.Lock()

    def __init__(self, *, builtins: bool = True, plugins: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._detectors: dict[str, DetectorEntry] = {}
        self._errors: list[LoadError] = []
        self._lock = threading.RLock()
        self._pending_entry_points = plugins
        if builtins:
            from rtcsnap_moderation import builtin

            self.add_plugin(builtin, "builtin", strict=True)

    @classmethod
    def default(cls) -> DetectorRegistry:
        """The shared registry: built-ins plus installed plugins."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    @classmethod
    def reset_default(cls) -> None:
        with cls._default_lock:
            cls._default = None

    # -- loading -----------------------------------------------------------------------------

    def load_entry_points(self, eps: Iterable[EntryPoint] | None = None) -> None:
        """Import and register the ``rtcsnap_moderation`` entry points (or `eps`) now."""
        with self._lock:
            self._pending_entry_points = False
            for ep in entry_points(group=GROUP) if eps is None else eps:
                dist = ep.dist.name if ep.dist is not None else ""
                if self.pm.has_plugin(ep.name):
                    continue
                try:
                    module = ep.load()
                except Exception as exc:
                    self._fail(ep.name, dist, f"import failed: {type(exc).__name__}: {exc}")
                    continue
                self.add_plugin(module, ep.name, dist)

    def _load_pending(self) -> None:
        if self._pending_entry_points:
            self.load_entry_points()

    def add_plugin(self, plugin: object, name: str, distribution: str = "", *, strict: bool = False) -> None:
        """Register a plugin (module or object with the hook) and collect its detectors; a failure
        is recorded and warned about (raised when `strict`), and nothing of the plugin is kept."""
        with self._lock:
            try:
                self.pm.register(plugin, name=name)
            except Exception as exc:
                self._fail(name, distribution, f"registration failed: {exc}", strict=strict)
                return
            # Call only this plugin's implementation, through pluggy (so tracing sees it).
            others = [
                impl.plugin
                for impl in self.pm.hook.rtcsnap_moderation_register_detectors.get_hookimpls()
                if impl.plugin is not plugin
            ]
            call = self.pm.subset_hook_caller("rtcsnap_moderation_register_detectors", remove_plugins=others)
            collected: list[type[Detector]] = []
            try:
                call(register=collected.append)
                checked = [check(cls, name) for cls in collected]
                names = [cls.name for cls in checked]
                dupes = sorted({n for n in names if names.count(n) > 1})
                if dupes:
                    raise DetectorClashError(f"plugin {name!r} registers detector {dupes[0]!r} twice")
                for cls in checked:
                    self._check_clash(cls, name)
            except Exception as exc:
                self.pm.unregister(plugin)
                self._fail(name, distribution, f"{type(exc).__name__}: {exc}", strict=strict)
                return
            for cls in checked:
                self._detectors[cls.name] = DetectorEntry(cls, name)

    def register(self, cls: type[Detector], plugin: str = "<direct>") -> None:
        """Add one detector class without a plugin; a bad class or a clash raises."""
        with self._lock:
            check(cls, plugin)
            self._check_clash(cls, plugin)
            self._detectors[cls.name] = DetectorEntry(cls, plugin)

    def _check_clash(self, cls: type[Detector], plugin: str) -> None:
        other = self._detectors.get(cls.name)
        if other is not None:
            raise DetectorClashError(
                f"detector {cls.name!r} from plugin {plugin!r} has the same name as "
                f"{other.detector.__name__} from plugin {other.plugin!r}"
            )

    def _fail(self, plugin: str, distribution: str, error: str, *, strict: bool = False) -> None:
        err = LoadError(plugin, distribution, error)
        if strict:
            raise DetectorError(f"moderation {err}")
        self._errors.append(err)
        log.warning("moderation %s", err)
        warnings.warn(f"moderation {err}", DetectorLoadWarning, stacklevel=3)

    # -- lookup ------------------------------------------------------------------------------

    @property
    def errors(self) -> list[LoadError]:
        self._load_pending()
        return list(self._errors)

    def names(self) -> list[str]:
        self._load_pending()
        return sorted(self._detectors)

    def entry(self, name: str) -> DetectorEntry:
        self._load_pending()
        entry = self._detectors.get(name)
        if entry is None:
            known = ", ".join(sorted(self._detectors)) or "none"
            raise UnknownDetectorError(f"no detector named {name!r} (registered: {known})")
        return entry

    def get(self, name: str) -> type[Detector]:
        return self.entry(name).detector


__all__ = [
    "GROUP",
    "DetectorClashError",
    "DetectorEntry",
    "DetectorError",
    "DetectorLoadWarning",
    "DetectorRegistry",
    "LoadError",
    "UnknownDetectorError",
    "check",
]
