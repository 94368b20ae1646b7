"""Commands from plugins (`rtcsnap_register_commands(cli)`), loaded only when the CLI needs one.

Why lazily: a plugin's hook can only run once its module is imported, and importing every plugin
imports every storage SDK (~0.1 s and ~12 MiB each, the reason `ProviderManager` loads by name). So
the root group asks plugins for commands only when click looks up a name core does not have —
first the plugin whose entry point has that name (a plugin names its command after its entry
point, as a provider names its entry point after its scheme), then every plugin — or when it lists
every command (``rtcsnap --help``, shell completion). ``rtcsnap ls …`` and every other core command
never import a plugin for this. Each plugin's hook runs once, on its own: one that raises (or
replaces an existing command) costs a warning through the manager's load-error reporting, and
whatever it had added is taken back, so the CLI always starts.

`rtcsnap.cli.app.main` turns this on (`PluginCommandGroup.load_plugin_commands`); importing the
click tree (the docs' mkdocs-click page, tests) shows core's commands only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rtcsnap.providers.manager import ProviderManager

HOOK = "rtcsnap_register_commands"


class PluginCommandGroup(click.Group):
    """The root group: core's commands, plus those the installed plugins add, asked for on demand."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._manager: Callable[[], ProviderManager] | None = None
        self._asked: set[str] = set()  # plugins whose hook has run
        self._asked_all = False

    def load_plugin_commands(self, manager: Callable[[], ProviderManager]) -> None:
        """From now on, look up commands core lacks among the plugins of `manager()` (called on
        first need, so nothing is loaded until then)."""
        self._manager = manager

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or self._manager is None:
            return found
        self._ask(cmd_name)  # the plugin of that entry-point name first: one import
        found = super().get_command(ctx, cmd_name)
        if found is None:
            self._ask(None)
            found = super().get_command(ctx, cmd_name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        if self._manager is not None:
            self._ask(None)
        return super().list_commands(ctx)

    def _ask(self, name: str | None) -> None:
        """Run `rtcsnap_register_commands` of every plugin not asked yet, after loading the deferred
        entry point `name` (every one when None)."""
        if self._asked_all or self._manager is None:
            return
        manager = self._manager()
        caller = getattr(manager.plugin_manager(name).hook, HOOK, None)
        self._asked_all = name is None
        for impl in [] if caller is None else caller.get_hookimpls():
            if impl.plugin_name in self._asked or impl.wrapper or impl.hookwrapper:
                continue
            self._asked.add(impl.plugin_name)
            before = dict(self.commands)
            try:
                kwargs = {"cli": self}
                impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                self._restore(before)
                manager.plugin_failed(impl.plugin_name, f"{HOOK} failed: {type(exc).__name__}: {exc}")
                continue
            for cmd_name, command in before.items():
                if self.commands.get(cmd_name) is not command:
                    self.commands[cmd_name] = command
                    manager.plugin_failed(
                        impl.plugin_name,
                        f"{HOOK}: command {cmd_name!r} already exists; the plugin's is ignored",
                    )

    def _restore(self, commands: dict[str, click.Command]) -> None:
        self.commands.clear()
        self.commands.update(commands)


__all__ = ["HOOK", "PluginCommandGroup"]
