"""Issue §2: every command's `--help` has examples, documents every option, uses one short flag per
meaning, and — where it takes a TARGET — lists each installed provider's URL form, as the provider
declares it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import click
import pytest
import rtcsnap.cli
from rtcsnap.cli.app import app
from rtcsnap.providers.manager import ProviderManager

from tests.conftest import run_cli

SHORT_FLAGS = {"-q": "--quiet", "-j": "--concurrency", "-r": "--region", "-l": "--long", "-h": "--help"}
"""Short flags with one meaning across the CLI, and always there with their long option."""


def _commands() -> Iterator[tuple[str, click.Command, click.Context]]:
    for module in pkgutil.iter_modules(rtcsnap.cli.__path__):
        importlib.import_module(f"rtcsnap.cli.{module.name}")  # as app.main does: registers commands

    def walk(cmd: click.Command, ctx: click.Context) -> Iterator[tuple[str, click.Command, click.Context]]:
        yield ctx.command_path, cmd, ctx
        if isinstance(cmd, click.Group):
            for name, sub in sorted(cmd.commands.items()):
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))

    yield from walk(app, click.Context(app, info_name="rtcsnap"))


COMMANDS = list(_commands())


def _ids() -> list[str]:
    return [path for path, _, _ in COMMANDS]


@pytest.mark.parametrize(("path", "cmd", "ctx"), COMMANDS, ids=_ids())
def test_every_command_has_examples(path: str, cmd: click.Command, ctx: click.Context) -> None:
    text = cmd.get_help(ctx)
    assert "Examples:" in text, f"{path}: no Examples block"
    after = text.split("Examples:", 1)[1].splitlines()[1:]
    example = [line.strip() for line in after if line.strip()][:1]
    assert example and re.match(r"^([A-Z_]+=\S* )*(eval \"\$\()?rtcsnap ", example[0]), f"{path}: {example}"


@pytest.mark.parametrize(("path", "cmd", "ctx"), COMMANDS, ids=_ids())
def test_every_option_is_documented(path: str, cmd: click.Command, ctx: click.Context) -> None:
    for param in cmd.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"{path} {param.opts[0]}: no help"


def test_short_flags_mean_one_thing_everywhere() -> None:
    meanings: dict[str, set[str]] = {}
    for _, cmd, _ in COMMANDS:
        for param in cmd.params:
            if not isinstance(param, click.Option):
                continue
            longs = [o for o in param.opts if o.startswith("--")]
            for short in (o for o in param.opts if not o.startswith("--")):
                meanings.setdefault(short, set()).update(longs)
            for short, long in SHORT_FLAGS.items():
                if long in longs:
                    assert short in param.opts, f"{cmd.name} {long}: without {short}"
    clashes = {short: longs for short, longs in meanings.items() if len(longs) > 1}
    assert clashes == {}
    for short, long in SHORT_FLAGS.items():
        assert meanings.get(short, {long}) == {long}


def _takes_target(cmd: click.Command) -> bool:
    return any(p.metavar == "TARGET" for p in cmd.params)


def test_target_help_lists_every_installed_provider(isolated_manager: None) -> None:
    providers = [e.provider for e in ProviderManager.default().entries()]
    assert {p.scheme for p in providers} >= {"s3", "tos", "veimagex", "oss", "obs", "cos", "kodo"}
    taking = [(path, cmd, ctx) for path, cmd, ctx in COMMANDS if _takes_target(cmd)]
    assert {path for path, _, _ in taking} >= {
        "rtcsnap ls",
        "rtcsnap download",
        "rtcsnap verify",
        "rtcsnap storage-config",
        "rtcsnap start",
        "rtcsnap snapshots manifest",
        "rtcsnap snapshots download",
    }
    for path, cmd, ctx in taking:
        text = cmd.get_help(ctx)
        for provider in providers:
            assert provider.help_target() in text, f"{path}: no {provider.scheme}:// form"
            assert f"credentials: {provider.help_credentials().split()[0]}" in text, path
        assert "@NAME" in text


def test_a_third_party_provider_shows_up_in_target_help(fake_dist, isolated_manager, monkeypatch) -> None:
    """The TARGET help comes from what a provider declares, not from a table in core."""
    site = fake_dist(
        "rtcsnap-minio",
        "rtcsnap_minio_help",
        """
        from rtcsnap.hookspecs import hookimpl
        from rtcsnap.providers.contract import Provider

        class MinioProvider(Provider):
            name = "minio"
            scheme = "minio"
            storage_type = 2
            vendor = 0
            credential_env = ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")

            def storage_config(self, target): raise NotImplementedError
            def open(self, target): raise NotImplementedError

        @hookimpl
        def rtcsnap_register_providers(register):
            register(MinioProvider)
        """,
        ep_name="minio",
    )
    monkeypatch.syspath_prepend(str(site))
    cmd, ctx = next((c, x) for p, c, x in COMMANDS if p == "rtcsnap ls")
    text = cmd.get_help(ctx)
    assert "minio://BUCKET[/PREFIX]?region=REGION[&endpoint=URL]" in text
    assert "credentials: MINIO_ROOT_USER/MINIO_ROOT_PASSWORD" in text


def test_ls_help_as_a_user_sees_it() -> None:
    r = run_cli("ls", "--help")
    assert r.returncode == 0, r.stderr
    assert "Examples:" in r.stdout and "s3://BUCKET[/PREFIX]?region=us-east-1" in r.stdout
    assert "TENCENTCLOUD_SECRET_ID" in r.stdout and "VOLC_ACCOUNT_ID" in r.stdout
