"""Load provider plugins from the ``rtcsnap`` entry-point group, one distribution at a time.

A broken plugin costs a warning, not the CLI (simonw/llm#1280): each entry point is imported
and each plugin's hook called on its own, its failure recorded as a `LoadError`.
Environment:
* ``RTCSNAP_STRICT_PLUGINS=1`` — a load error raises instead of warning;
* ``RTCSNAP_LOAD_PLUGINS=a,b`` — allow-list of entry-point or distribution names ("" = none);
* ``RTCSNAP_DISABLE_PLUGINS=a,b`` — block-list.

The shared manager (`ProviderManager.default()`) loads lazily, by name: a lookup by scheme or
provider name first imports only the entry point of that name (each plugin names its entry point
after its scheme, as ``s3 = "rtcsnap_s3"`` does), and everything else only on a miss or when the
whole set is asked for (`entries`, `errors`, `for_storage`). Importing every plugin means importing
every SDK — ~0.1 s and ~12 MiB that a one-target CLI run or a listing should not pay (issue 7's
benchmark). A plugin claiming a scheme under another entry-point name is still found (on the
miss); a clash between two plugins shows once the set is loaded whole.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from rtcsnap import hookspecs, logs
from rtcsnap.errors import PluginError, ProviderClashError, UnknownProviderError
from rtcsnap.providers.contract import Capabilities, Provider

log = logging.getLogger(__name__)

GROUP = "rtcsnap"
_VALID_TYPES = {0, 2, 3}


class PluginLoadWarning(UserWarning):
    """A plugin was skipped because it failed to import or register."""


@dataclass(frozen=True)
class LoadError:
    plugin: str
    distribution: str
    error: str

    def __str__(self) -> str:
        dist = f" ({self.distribution})" if self.distribution and self.distribution != self.plugin else ""
        return f"plugin {self.plugin!r}{dist}: {self.error}"


@dataclass(frozen=True)
class ProviderEntry:
    provider: type[Provider]
    plugin: str
    distribution: str
    version: str


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


def _dist_name(ep: EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else ""


def _dist_version(ep: EntryPoint) -> str:
    return ep.dist.version if ep.dist is not None else "unknown"


class ProviderManager:
    """pluggy host for providers; `ProviderManager.default()` is the lazily loaded shared one."""

    _default: ProviderManager | None = None
    _default_lock = threading.Lock()

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._errors: list[LoadError] = []
        self._providers: dict[str, ProviderEntry] = {}
        self._instances: dict[str, Provider] = {}
        self._pending: list[EntryPoint] = []  # entry points found but not loaded yet (lazy mode)
        self._lock = threading.RLock()
        self._report: Callable[[LoadError], None] | None = None

    def report_errors(self, report: Callable[[LoadError], None]) -> None:
        """Hand every load error, past and future, to `report` instead of `warnings.warn` (the CLI
        prints one line each). Needed because loading is lazy: an error can surface on any lookup."""
        with self._lock:
            self._report = report
            for err in self._errors:
                report(err)

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def default(cls) -> ProviderManager:
        with cls._default_lock:
            if cls._default is None:
                mgr = cls()
                mgr.defer_entry_points()
                cls._default = mgr
            return cls._default

    @classmethod
    def reset_default(cls) -> None:
        """Forget the shared manager (tests, or after installing a plugin in-process)."""
        with cls._default_lock:
            cls._default = None

    def load_entry_points(self, eps: Iterable[EntryPoint] | None = None) -> None:
        """Import and register every (allowed) entry point now."""
        with self._lock:
            for ep in self._allowed(entry_points(group=GROUP) if eps is None else eps):
                self._load(ep)

    def defer_entry_points(self, eps: Iterable[EntryPoint] | None = None) -> None:
        """Note the (allowed) entry points, to be imported by the first lookup that needs them."""
        with self._lock:
            self._pending.extend(self._allowed(entry_points(group=GROUP) if eps is None else eps))

    @staticmethod
    def _allowed(eps: Iterable[EntryPoint]) -> list[EntryPoint]:
        allow = _env_list("RTCSNAP_LOAD_PLUGINS")
        block = _env_list("RTCSNAP_DISABLE_PLUGINS") or set()
        kept = []
        for ep in eps:
            names = {ep.name, _dist_name(ep)} - {""}
            if allow is not None and not names & allow:
                continue
            if names & block:
                continue
            kept.append(ep)
        return kept

    def _load_pending(self, name: str | None = None) -> None:
        """Load the deferred entry points named `name` (all of them when None)."""
        with self._lock:
            now = [ep for ep in self._pending if name is None or ep.name == name]
            if not now:
                return
            self._pending = [ep for ep in self._pending if ep not in now]
            for ep in now:
                self._load(ep)

    def _load(self, ep: EntryPoint) -> None:
        if self.pm.has_plugin(ep.name):
            return
        try:
            module = ep.load()
        except Exception as exc:
            self._fail(ep.name, _dist_name(ep), f"import failed: {type(exc).__name__}: {exc}")
            return
        self.add_plugin(module, ep.name, _dist_name(ep), _dist_version(ep))

    def add_plugin(
        self,
        plugin: ModuleType | object,
        name: str,
        distribution: str = "",
        version: str = "unknown",
    ) -> None:
        """Register one plugin object/module and collect its providers; failures are recorded."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._fail(name, distribution, f"registration failed: {exc}")
            return
        # Through pluggy's hook caller (not the impl's function), so wrappers and `pm.trace` see
        # the call; the other plugins' plain impls are left out, so what `register` collects is
        # this plugin's.
        others = [
            impl.plugin
            for impl in self.pm.hook.rtcsnap_register_providers.get_hookimpls()
            if impl.plugin is not plugin and not (impl.wrapper or impl.hookwrapper)
        ]
        call = self.pm.subset_hook_caller("rtcsnap_register_providers", remove_plugins=others)
        collected: list[type[Provider]] = []
        try:
            call(register=collected.append)
            for cls in collected:
                self._check(cls, name)
            for cls in collected:
                self._add(ProviderEntry(cls, name, distribution, version))
        except Exception as exc:
            self.pm.unregister(plugin)
            self._fail(
                name,
                distribution,
                f"rtcsnap_register_providers failed: {type(exc).__name__}: {exc}",
            )

    def register_provider(self, cls: type[Provider], plugin: str = "<direct>") -> None:
        """Add a provider class without a plugin (tests, embedding); clashes raise."""
        self._check(cls, plugin)
        self._add(ProviderEntry(cls, plugin, "", cls.version()))

    def _fail(self, plugin: str, distribution: str, error: str) -> None:
        err = LoadError(plugin, distribution, error)
        if os.environ.get("RTCSNAP_STRICT_PLUGINS", "") not in ("", "0"):
            raise PluginError(str(err))
        self._errors.append(err)
        log.warning("%s", err)
        if self._report is not None:
            self._report(err)
        else:
            warnings.warn(str(err), PluginLoadWarning, stacklevel=3)

    # -- validation ------------------------------------------------------------------------

    def _check(self, cls: Any, plugin: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise PluginError(f"plugin {plugin!r} registered {cls!r}, which is not a Provider subclass")
        for attr in ("name", "scheme", "storage_type"):
            if not hasattr(cls, attr):
                raise PluginError(
                    f"provider {cls.__name__} from plugin {plugin!r} lacks class attribute {attr!r}"
                )
        if cls.storage_type not in _VALID_TYPES:
            raise PluginError(
                f"provider {cls.name!r}: storage_type must be 0, 2 or 3 for snapshots (got {cls.storage_type})"
            )
        if cls.storage_type == 2 and cls.vendor is None:
            raise PluginError(f"provider {cls.name!r}: storage_type 2 needs a vendor (0-4)")
        if not isinstance(cls.capabilities, Capabilities):
            raise PluginError(f"provider {cls.name!r}: capabilities must be a Capabilities instance")
        for other in self._providers.values():
            o = other.provider
            clash = (
                "name"
                if o.name == cls.name
                else "URL scheme"
                if o.scheme == cls.scheme
                else "(Type, Vendor)"
                if (o.storage_type, o.vendor) == (cls.storage_type, cls.vendor)
                else None
            )
            if clash:
                raise ProviderClashError(
                    f"provider {cls.name!r} from plugin {plugin!r} claims the same {clash} as "
                    f"provider {o.name!r} from plugin {other.plugin!r}"
                )

    def _add(self, entry: ProviderEntry) -> None:
        logs.protect(entry.provider.sdk_loggers)  # its SDK's debug log is redacted from now on
        self._providers[entry.provider.name] = entry

    # -- lookup ----------------------------------------------------------------------------

    @property
    def errors(self) -> list[LoadError]:
        """Every plugin that failed to load (so every deferred one is loaded first)."""
        self._load_pending()
        return self._errors

    def plugin_manager(self, name: str | None = None) -> pluggy.PluginManager:
        """The pluggy manager with every (allowed) plugin loaded, for hooks other than providers'
        (`rtcsnap_snapshot_received`: `rtcsnap.callbacks.hooks.HookRunner` calls its implementations).
        With `name`, only the deferred entry point of that name is loaded now (the CLI looking for
        a plugin's command, which a plugin names after its entry point): the rest stay deferred."""
        self._load_pending(name)
        return self.pm

    def plugin_failed(self, plugin: str, error: str) -> None:
        """Record that an installed plugin failed at something other than loading (a raising
        command hook): one warning, like a load error (`RTCSNAP_STRICT_PLUGINS=1`: `PluginError`)."""
        self._fail(plugin, "", error)

    def entries(self) -> list[ProviderEntry]:
        self._load_pending()
        return sorted(self._providers.values(), key=lambda e: e.provider.name)

    def get(self, name: str) -> Provider:
        entry = self._providers.get(name)
        if entry is None:
            self._load_pending(name)
            entry = self._providers.get(name)
        if entry is None:
            self._load_pending()
            entry = self._providers.get(name)
        if entry is None:
            raise UnknownProviderError(f"no provider named {name!r}; installed: {self._names()}")
        return self._instance(entry)

    def for_scheme(self, scheme: str) -> Provider:
        for step in ("loaded", "named", "all"):
            if step != "loaded":
                self._load_pending(scheme if step == "named" else None)
            for entry in list(self._providers.values()):
                if entry.provider.scheme == scheme:
                    return self._instance(entry)
        raise UnknownProviderError(f"no provider for {scheme}:// URLs; installed: {self._names()}")

    def for_storage(self, storage_type: int, vendor: int | None) -> Provider:
        self._load_pending()
        for entry in self._providers.values():
            p = entry.provider
            if p.storage_type == storage_type and (storage_type != 2 or p.vendor == vendor):
                return self._instance(entry)
        raise UnknownProviderError(
            f"no provider for StorageConfig Type={storage_type}"
            + (f" Vendor={vendor}" if storage_type == 2 else "")
            + f"; installed: {self._names()}"
        )

    def _instance(self, entry: ProviderEntry) -> Provider:
        name = entry.provider.name
        with self._lock:
            if name not in self._instances:
                self._instances[name] = entry.provider()
            return self._instances[name]

    def _names(self) -> str:
        self._load_pending()
        return ", ".join(f"{e.provider.name} ({e.provider.scheme}://)" for e in self.entries()) or "none"


__all__ = [
    "GROUP",
    "LoadError",
    "PluginLoadWarning",
    "ProviderEntry",
    "ProviderManager",
]
