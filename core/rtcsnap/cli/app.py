"""Root click group, global options and the one place errors become exit codes.

Exit codes: 0 ok; 1 remote failure (storage / OpenAPI answered with an error, or verify found the
key unfit); 2 usage or validation error (nothing was sent). One line on stderr, no traceback
unless ``--debug``.
"""

from __future__ import annotations

import sys

import click

from rtcsnap import logs, secrets
from rtcsnap.cli.plugin_commands import PluginCommandGroup
from rtcsnap.errors import ConfigurationError, PluginError, RtcSnapError, ValidationError
from rtcsnap.providers.manager import ProviderManager

EXIT_OK, EXIT_REMOTE, EXIT_USAGE = 0, 1, 2


def manager() -> ProviderManager:
    """The shared provider manager; plugin load problems become one-line warnings on stderr, when
    they happen (plugins load lazily, on the first lookup that needs them)."""
    mgr = ProviderManager.default()
    mgr.report_errors(lambda err: print(f"warning: {err}", file=sys.stderr))
    return mgr


@click.group(
    cls=PluginCommandGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="\b\nExamples:\n"
    "  rtcsnap providers\n"
    "  rtcsnap verify 's3://snaps/rtc?region=us-east-1'\n"
    "  rtcsnap start --profile prod --room-id R --task-id T --storage @evidence\n"
    "  rtcsnap ls @evidence -l\n"
    "  rtcsnap config check\n"
    "\n"
    "Each command's --help lists its examples; TARGET commands also each installed provider's URL "
    "form and credential sources. Profiles and @NAME targets: rtcsnap config --help, docs/profiles.md.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and rtcsnap's debug log.")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="-v: INFO logs of every library; -vv: DEBUG, SDKs included (secrets are always masked).",
)
@click.option(
    "--log-level",
    type=click.Choice(logs.LOG_LEVELS),
    default=None,
    help="Log level of every library, SDKs included (wins over -v; secrets are always masked).",
)
@click.version_option(package_name="rtcsnap", prog_name="rtcsnap")
def app(debug: bool, verbose: int, log_level: str | None) -> None:
    """Volcengine RTC cloud snapshots: storage providers, verification, listing and downloads."""
    logs.configure_cli(verbose, debug, log_level)


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, ValidationError | ConfigurationError | PluginError | click.UsageError):
        return EXIT_USAGE
    return EXIT_REMOTE


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, click.UsageError):
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        return f"usage error: {where}{' '.join(exc.format_message().split())}"
    text = secrets.redact(" ".join(str(exc).split())) or type(exc).__name__
    kind = "validation error" if isinstance(exc, ValidationError) else "error"
    return f"{kind}: {text}"


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the CLI and exits with its code."""
    from rtcsnap.cli import commands  # noqa: F401  (attaches every subcommand to `app`)

    app.load_plugin_commands(manager)  # then plugins' (`rtcsnap_register_commands`), when needed
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        rv = app.main(args=args, standalone_mode=False, prog_name="rtcsnap")
        code = rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # `rtcsnap`, `rtcsnap emulator`: asked for help
        print(exc.ctx.get_help() if exc.ctx is not None else app.get_help(click.Context(app)))
        code = EXIT_OK
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        code = 130
    except (click.ClickException, RtcSnapError) as exc:
        if debug:
            raise
        print(_one_line(exc), file=sys.stderr)
        code = _exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {secrets.redact(' '.join(str(exc).split()))} "
            "(rerun with --debug)",
            file=sys.stderr,
        )
        code = EXIT_REMOTE
    sys.exit(code)
