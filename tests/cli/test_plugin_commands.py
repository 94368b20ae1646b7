"""CLI commands from plugins (`rtcsnap_register_commands`), installed as real distributions with an
entry point and run as a user runs `rtcsnap`: the command works and shows in ``--help``; a core
command imports no plugin for it, and ``rtcsnap NAME`` imports the plugin named NAME only; a
raising hook or a clash with a core command costs a warning, never the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import FakeDist, run_cli

HELLO = """
import os
from pathlib import Path

import click
from rtcsnap.hookspecs import hookimpl

Path(os.environ["PLUGIN_MARKERS"], "hello").touch()  # proof of import, for the test


@hookimpl
def rtcsnap_register_commands(cli):
    @cli.command()
    @click.option("--name", default="world")
    def hello(name):
        \"\"\"Greet someone (a plugin's command).\"\"\"
        click.echo(f"hello {name}")
"""

QUIET = """
import os
from pathlib import Path

from rtcsnap.hookspecs import hookimpl

Path(os.environ["PLUGIN_MARKERS"], "quiet").touch()


@hookimpl
def rtcsnap_register_commands(cli):
    pass
"""

BROKEN = """
import click
from rtcsnap.hookspecs import hookimpl


@hookimpl
def rtcsnap_register_commands(cli):
    @cli.command("half-done")
    def half_done():
        \"\"\"Added before the hook raised: taken back.\"\"\"

    raise RuntimeError("no licence for this command")
"""

SQUATTER = """
import click
from rtcsnap.hookspecs import hookimpl


@hookimpl
def rtcsnap_register_commands(cli):
    @cli.command("ls")
    def ls():
        \"\"\"Not the real ls.\"\"\"
        click.echo("squatted")
"""


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    path = tmp_path / "markers"
    path.mkdir()
    return path


def env_for(site: Path, markers: Path) -> dict[str, str]:
    """The fake plugins only: whatever else this environment installed adds no command or warning."""
    return {
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PLUGIN_MARKERS": str(markers),
        "RTCSNAP_LOAD_PLUGINS": "hello,quiet,broken,squatter",
    }


def imported(markers: Path) -> set[str]:
    return {p.name for p in markers.iterdir()}


def test_a_plugin_command_runs_and_is_listed(fake_dist: FakeDist, markers: Path) -> None:
    site = fake_dist("rtcsnap-hello", "rtcsnap_hello_cmd", HELLO, ep_name="hello")
    env = env_for(site, markers)
    r = run_cli("hello", "--name", "plugin author", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "hello plugin author\n", "")
    r = run_cli("--help", env=env)
    assert r.returncode == 0, r.stderr
    assert any(line.split()[:2] == ["hello", "Greet"] for line in r.stdout.splitlines()), r.stdout
    assert "ls" in r.stdout and "snapshots" in r.stdout  # core's commands are all still there


def test_core_commands_import_no_plugin_and_a_named_one_only_its_own(
    fake_dist: FakeDist, markers: Path
) -> None:
    fake_dist("rtcsnap-quiet", "rtcsnap_quiet_cmd", QUIET, ep_name="quiet")
    site = fake_dist("rtcsnap-hello", "rtcsnap_hello_cmd", HELLO, ep_name="hello")
    env = env_for(site, markers)
    assert run_cli("config", "path", env=env).returncode == 0
    assert imported(markers) == set()  # a core command: no plugin was imported for commands
    assert run_cli("hello", env=env).stdout == "hello world\n"
    assert imported(markers) == {"hello"}  # found by its entry-point name: the other stayed unloaded
    r = run_cli("no-such-command", env=env)
    assert r.returncode == 2 and "No such command 'no-such-command'" in r.stderr
    assert imported(markers) == {"hello", "quiet"}  # a miss asks every plugin


def test_a_broken_or_clashing_plugin_costs_a_warning_not_the_cli(fake_dist: FakeDist, markers: Path) -> None:
    fake_dist("rtcsnap-broken-cmd", "rtcsnap_broken_cmd", BROKEN, ep_name="broken")
    fake_dist("rtcsnap-squatter", "rtcsnap_squatter_cmd", SQUATTER, ep_name="squatter")
    site = fake_dist("rtcsnap-hello", "rtcsnap_hello_cmd", HELLO, ep_name="hello")
    env = env_for(site, markers)
    r = run_cli("--help", env=env)
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, r.stderr
    assert any(
        "'broken'" in w and "rtcsnap_register_commands failed: RuntimeError: no licence" in w
        for w in warnings
    )
    assert any("'squatter'" in w and "command 'ls' already exists" in w for w in warnings)
    assert "Traceback" not in r.stderr
    assert "hello" in r.stdout and "half-done" not in r.stdout  # the broken hook's command taken back
    ls = run_cli("ls", "--help", env=env)
    assert ls.returncode == 0 and "TARGET" in ls.stdout and "Not the real ls" not in ls.stdout
    strict = run_cli("--help", env={**env, "RTCSNAP_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    assert strict.stderr.startswith("error: plugin '") and strict.stderr.count("\n") == 1, strict.stderr


def test_importing_the_click_tree_shows_core_commands_only() -> None:
    """mkdocs-click and the tests read `rtcsnap.cli.commands.app` without `main`: no plugin asked."""
    import click
    from rtcsnap.cli.commands import app

    ctx = click.Context(app)
    assert app.get_command(ctx, "hello") is None
    assert "ls" in app.list_commands(ctx)
