"""`rtcsnap config check|path`: the config file of named accounts (``--profile``) and storage
targets (``@NAME``) — `rtcsnap.profiles`, docs/profiles.md."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from rtcsnap import profiles
from rtcsnap.cli.app import EXIT_OK, EXIT_USAGE, app, manager
from rtcsnap.cli.helptext import examples
from rtcsnap.errors import ConfigurationError

_WHERE = (
    f"The file: ${profiles.ENV}, else $XDG_CONFIG_HOME/rtcsnap/config.toml, else "
    "~/.config/rtcsnap/config.toml. It holds references to credentials (env var names, "
    "~/.volc/credentials sections), never secrets."
)


@app.group(
    "config",
    epilog=examples(
        "rtcsnap config path", "rtcsnap config check", "rtcsnap config check --json", note=_WHERE
    ),
)
def config_group() -> None:
    """The config file: named OpenAPI accounts (--profile NAME) and storage targets (@NAME)."""


@config_group.command(
    "path", epilog=examples("rtcsnap config path", f"{profiles.ENV}=./rtcsnap.toml rtcsnap config path")
)
def path_cmd() -> None:
    """Print the path of the config file in use (whether or not it exists yet)."""
    print(profiles.config_path())


def _account_summary(acc: Any) -> dict[str, Any]:
    return {
        "endpoint": acc.endpoint,
        "region": acc.region,
        "api_version": acc.api_version,
        "app_id": acc.app_id,
        "credentials": acc.credentials.describe() if acc.credentials is not None else None,
    }


def _target_summary(target: Any) -> dict[str, Any]:
    return {
        "url": target.url,
        "write": target.write.describe() if target.write is not None else None,
        "read": target.read.describe() if target.read is not None else None,
    }


def _shown(value: str | None, chain: str = "default") -> str:
    return value if value is not None else chain


@config_group.command(
    "check",
    epilog=examples(
        "rtcsnap config check",
        f"{profiles.ENV}=./team.toml rtcsnap config check --json",
        note="Exit 0: valid (warnings allowed); 2: an error (or no file). Secrets are never printed.",
    ),
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object: path, ok, accounts, targets and problems (line, field, rule, severity).",
)
def check_cmd(as_json: bool) -> int:
    """Validate the config file: every error as FILE:LINE: field: rule; each account and target
    with OK, or a warning when a referenced env var is unset or a ~/.volc/credentials section is
    missing. Each [plugins.NAME] table is checked by the installed plugins that read it (a warning
    when none does)."""
    report = profiles.check(manager=manager())
    config = report.config
    errors = [p for p in report.problems if p.severity == "error"]
    warnings = [p for p in report.problems if p.severity == "warning"]
    if as_json:
        body = {
            "path": str(report.path),
            "exists": report.exists,
            "ok": report.ok,
            "accounts": {n: _account_summary(a) for n, a in config.accounts.items()} if config else {},
            "targets": {n: _target_summary(t) for n, t in config.targets.items()} if config else {},
            "problems": [p.to_json() for p in report.problems],
        }
        print(json.dumps(body, ensure_ascii=False))
        return EXIT_OK if report.ok else EXIT_USAGE
    if not report.exists:
        raise ConfigurationError(
            f"no config file at {report.path} (set {profiles.ENV} or create it; docs/profiles.md)"
        )
    for problem in errors:
        print(problem, file=sys.stderr)
    for problem in warnings:
        print(f"warning: {problem}", file=sys.stderr)
    if config is None:
        print(f"{report.path}: {len(errors)} error(s)")
        return EXIT_USAGE

    def status(*loc: str) -> str:
        key = ".".join(loc)
        found = [p for p in report.problems if p.field == key or p.field.startswith(key + ".")]
        failed = any(p.severity == "error" for p in found)
        return "error" if failed else f"ok ({len(found)} warning(s))" if found else "ok"

    for name, acc in config.accounts.items():
        s = _account_summary(acc)
        print(
            f"account {name}: {status('accounts', name)} — endpoint {_shown(s['endpoint'], 'cn')}, "
            f"region {_shown(s['region'])}, api_version {_shown(s['api_version'])}, "
            f"app_id {_shown(s['app_id'], '-')}, credentials {_shown(s['credentials'], 'the VOLC chain')}"
        )
    for name, target in config.targets.items():
        s = _target_summary(target)
        print(
            f"target @{name}: {status('targets', name)} — {s['url']}; "
            f"write: {_shown(s['write'], 'provider chain')}; read: {_shown(s['read'], 'provider chain')}"
        )
    for name in config.plugins:
        readers = report.readers.get(name) or []
        by = f"read by {', '.join(readers)}" if readers else "read by no installed plugin"
        print(f"plugin section [plugins.{name}]: {status('plugins', name)} — {by}")
    verdict = "ok" if report.ok else f"{len(errors)} error(s)"
    sections = f"{len(config.plugins)} plugin sections, " if config.plugins else ""
    print(
        f"{report.path}: {verdict} ({len(config.accounts)} accounts, {len(config.targets)} targets, "
        f"{sections}{len(warnings)} warning(s))"
    )
    return EXIT_OK if report.ok else EXIT_USAGE


__all__ = ["check_cmd", "config_group", "path_cmd"]
