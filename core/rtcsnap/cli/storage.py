"""Storage commands: providers, storage-config, verify, ls, download."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from rtcsnap import profiles
from rtcsnap.cli.app import EXIT_OK, EXIT_REMOTE, app, manager
from rtcsnap.cli.helptext import TargetCommand, examples
from rtcsnap.storage import download, iter_objects, resolve, verify
from rtcsnap.storage.transfer import FOLDER_MARKER, ProgressEvent
from rtcsnap.storage.verify import probe_key_for
from rtcsnap.target import StorageTarget

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_PIPE_WIDTH = 100_000  # piped: one row per line, however long (no wrapping, no padding)


def print_table(table: Table, console: Console | None = None) -> None:
    """A table as a user reads it: on a terminal, at the terminal's width with long cells folded
    onto more lines (never cut: request ids and keys must stay copyable); piped, one row per line
    at its natural width without trailing padding, so scripts and `grep` see whole rows."""
    console = console or out
    for column in table.columns:
        column.overflow = "fold"
    if console.is_terminal:
        console.print(table)
        return
    wide = Console(width=_PIPE_WIDTH, highlight=False, no_color=True, force_terminal=False)
    with wide.capture() as captured:
        wide.print(table)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    console.file.write("".join(line + "\n" for line in lines))
    console.file.flush()


def credential_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--access-key/--secret-key (or RTCSNAP_ACCESS_KEY/RTCSNAP_SECRET_KEY); else @NAME's
    reference; else the provider's usual env."""
    fn = click.option(
        "--secret-key",
        envvar="RTCSNAP_SECRET_KEY",
        help="Secret key; prefer the RTCSNAP_SECRET_KEY environment variable.",
    )(fn)
    return click.option(
        "--access-key",
        envvar="RTCSNAP_ACCESS_KEY",
        help="Access key (env RTCSNAP_ACCESS_KEY; default: @NAME's key, else the provider's own sources below).",
    )(fn)


TARGET = click.argument("target", metavar="TARGET")


def _target(spec: str, use: profiles.Use, access_key: str | None, secret_key: str | None) -> StorageTarget:
    """TARGET (a URL or @NAME) for `use`: ``write`` where RTC is given the key, ``read`` where
    rtcsnap lists and downloads with it (`rtcsnap.profiles.resolve_target`)."""
    return profiles.resolve_target(spec, use, access_key=access_key, secret_key=secret_key)


def concurrency_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-j/--concurrency`` as every download command spells it (1–256, default 8)."""
    return click.option(
        "--concurrency", "-j", type=click.IntRange(1, 256), default=8, show_default=True, help=help
    )


def prefix_not_sent(target: StorageTarget) -> str | None:
    """StorageConfig has no prefix field: RTC writes under its own key layout at the bucket root."""
    if not target.prefix:
        return None
    return (
        f"the target prefix {target.prefix!r} is not sent: StorageConfig has no prefix "
        "field and RTC writes under its own key layout at the bucket root (the prefix still "
        "scopes ls and download)"
    )


def warn_prefix_not_sent(target: StorageTarget) -> None:
    warning = prefix_not_sent(target)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def printable(key: str) -> str:
    """A key safe for a terminal: every non-printable character (an ESC sequence would recolour
    it, a newline forge a line) written as ``\\xNN``/``\\uNNNN``; printable keys are unchanged."""
    if key.isprintable():
        return key
    return "".join(
        ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
        for ch in key
    )


def human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@app.command(
    epilog=examples(
        "rtcsnap providers",
        "rtcsnap providers --json | jq -r '.providers[] | .scheme + \": \" + .target'",
        "RTCSNAP_DISABLE_PLUGINS=kodo rtcsnap providers",
    )
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object: providers (with their TARGET form and credential sources) and load errors.",
)
def providers(as_json: bool) -> None:
    """List installed storage providers, their StorageConfig Type/Vendor and capabilities."""
    mgr = manager()
    if as_json:
        listed = [
            {
                "name": e.provider.name,
                "scheme": e.provider.scheme,
                "storage_type": int(e.provider.storage_type),
                "vendor": None if e.provider.vendor is None else int(e.provider.vendor),
                "version": e.version,
                "plugin": e.distribution or e.plugin,
                "capabilities": list(e.provider.capabilities.names()),
                "region_table": e.provider.region_table,
                "target": e.provider.help_target(),
                "credentials": e.provider.help_credentials(),
            }
            for e in mgr.entries()
        ]
        print(json.dumps({"providers": listed, "errors": [str(x) for x in mgr.errors]}, ensure_ascii=False))
        return
    table = Table(box=None, pad_edge=False)
    for col in ("name", "scheme", "Type", "Vendor", "version", "plugin", "capabilities", "regions"):
        table.add_column(col)
    for e in mgr.entries():
        p = e.provider
        table.add_row(
            p.name,
            f"{p.scheme}://",
            str(p.storage_type),
            "-" if p.vendor is None else str(p.vendor),
            e.version,
            e.distribution or e.plugin,
            ",".join(p.capabilities.names()),
            p.region_table or "-",
        )
    print_table(table)
    for error in mgr.errors:
        out.print(f"load error: {error}")


@app.command(
    "storage-config",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap storage-config 's3://snaps/rtc?region=us-east-1'",
        "rtcsnap storage-config @evidence          # the write key: the one RTC is given",
        "rtcsnap storage-config 'tos://snaps?region=cn-beijing&account_id=2100000000'",
        "RTCSNAP_SECRET_KEY=… rtcsnap storage-config 'oss://snaps?region=oss-cn-hangzhou' --access-key AK --show-secrets",
    ),
)
@TARGET
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ******.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='One JSON object: {"provider", "type", "storage_config", "warnings"} (warnings not on stderr).',
)
@credential_options
def storage_config(
    target: str, show_secrets: bool, as_json: bool, access_key: str | None, secret_key: str | None
) -> None:
    """Print the StartSnapshot StorageConfig JSON for TARGET (secrets masked).

    Without --json: the StorageConfig itself, as StartSnapshot's body carries it, and warnings on
    stderr. With --json: that StorageConfig under "storage_config", with the provider's name,
    its StorageConfig Type and the warnings as a list, for scripts."""
    provider, t = resolve(_target(target, "write", access_key, secret_key), manager())
    wire = provider.storage_config(t).to_wire(mask_secrets=not show_secrets)
    if as_json:
        warning = prefix_not_sent(t)
        document = {
            "provider": provider.name,
            "type": wire.get("Type"),
            "storage_config": wire,
            "warnings": [warning] if warning else [],
        }
        print(json.dumps(document, ensure_ascii=False))
        return
    warn_prefix_not_sent(t)
    print(json.dumps(wire, indent=2, ensure_ascii=False))


@app.command(
    "verify",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap verify 's3://snaps/rtc?region=us-east-1'",
        "rtcsnap verify @evidence --for rtc        # the write key",
        "rtcsnap verify @evidence --for read       # the read key",
        "rtcsnap verify 'tos://snaps?region=cn-beijing&account_id=2100000000' --no-write-probe --json",
        note="--for rtc checks @NAME's write key, --for read its read key; --for all needs one key for "
        "both (explicit keys, or a target whose write and read are the same).",
    ),
)
@TARGET
@click.option(
    "--for",
    "use",
    type=click.Choice(["rtc", "read", "all"]),
    default="all",
    show_default=True,
    help="Which use decides the exit code: rtc (write), read (read+list) or all.",
)
@click.option(
    "--no-write-probe",
    is_flag=True,
    help="Write nothing (a key that cannot delete leaves its probe object behind); RTC fitness is then unknown.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: every probe, fitness, reason, notes.")
@credential_options
def verify_cmd(
    target: str,
    use: Literal["rtc", "read", "all"],
    no_write_probe: bool,
    as_json: bool,
    access_key: str | None,
    secret_key: str | None,
) -> int:
    """Probe TARGET's bucket and credentials: one row per capability, with the failure reason."""
    if use == "all" and not (access_key or secret_key) and not profiles.same_keys(target):
        raise click.UsageError(
            f"{target} has separate write and read keys: verify each, with --for rtc and --for read"
        )
    t = _target(target, "read" if use == "read" else "write", access_key, secret_key)
    mgr = manager()
    if not no_write_probe:
        err.print(
            f"verify writes a probe object under {probe_key_for(t, mgr)} and deletes it; a key without "
            "delete permission (e.g. a write-only RTC key) leaves it behind (--no-write-probe: write nothing)"
        )
    report = verify(t, manager=mgr, write_probe=not no_write_probe)
    if as_json:
        print(json.dumps(report.to_json(use), ensure_ascii=False))
        return EXIT_OK if report.fit_for(use) else EXIT_REMOTE
    table = Table(box=None, pad_edge=False)
    for col in ("capability", "status", "reason", "detail"):
        table.add_column(col)
    style = {"ok": "green", "failed": "red", "skipped": "yellow", "unsupported": "dim"}
    for p in report.probes:
        if report.expected_denial(p):
            status, detail = "[cyan]denied[/]", f"expected for a write-only key — {p.detail}"
        else:
            status, detail = f"[{style[p.status]}]{p.status}[/]", p.detail
        table.add_row(p.capability, status, p.reason.value if p.reason else "", escape(detail))
    out.print(escape(f"{report.provider} {report.target}  (probe object: {report.probe_key})"))
    print_table(table)
    if not report.write_probed:
        rtc = "not checked (--no-write-probe)"
    elif report.rtc_config_error is not None:
        rtc = f"no — {report.rtc_config_error}"
    else:
        rtc = "yes" if report.fit_for_rtc else "no"
    out.print(escape(f"fit for RTC (write): {rtc}"))
    out.print(f"fit for retrieval (read+list): {'yes' if report.fit_for_retrieval else 'no'}")
    reason = report.reason_for(use)
    if reason is not None:
        out.print(f"reason: {reason.value} — {reason.describe}")
    for note in report.notes:
        out.print(escape(f"note: {note}"))
    return EXIT_OK if report.fit_for(use) else EXIT_REMOTE


@app.command(
    "ls",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap ls 's3://snaps/rtc?region=us-east-1'",
        "rtcsnap ls @evidence app1/room1/ -l      # the read key",
        "rtcsnap ls @evidence --json | jq -r .key",
    ),
)
@TARGET
@click.argument("prefix", default="")
@click.option("--long", "-l", "long", is_flag=True, help="Also print size and last-modified time.")
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Keys asked for per listing request.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="JSON lines: key (exact, unescaped), size, last_modified (ISO or null), etag, checksums, uri.",
)
@credential_options
def ls(
    target: str,
    prefix: str,
    long: bool,
    page_size: int,
    as_json: bool,
    access_key: str | None,
    secret_key: str | None,
) -> None:
    """Stream the object keys under TARGET[/PREFIX] as they are listed (control characters
    escaped); a summary line goes to stderr."""
    write = sys.stdout.write
    count = total = 0
    for info in iter_objects(
        _target(target, "read", access_key, secret_key), prefix, page_size=page_size, manager=manager()
    ):
        count += 1
        total += info.size
        if as_json:
            record = {
                "key": info.key,
                "size": info.size,
                "last_modified": info.last_modified.isoformat() if info.last_modified else None,
                "etag": info.etag,
                "checksums": dict(info.checksums),
                "uri": info.uri,
            }
            write(json.dumps(record, ensure_ascii=False) + "\n")
        elif long:
            when = info.last_modified.isoformat() if info.last_modified else "-"
            write(f"{info.size:>12} {when} {printable(info.key)}\n")
        else:
            write(printable(info.key) + "\n")
    sys.stdout.flush()
    print(f"{count} objects, {total} bytes ({human(total)})", file=sys.stderr)


def json_printer() -> Callable[[ProgressEvent], None]:
    """``--json`` for downloads: one line per object once its fate is known (downloaded,
    skipped or failed), written whole under a lock (events come from worker threads)."""
    lock = threading.Lock()

    def json_line(ev: ProgressEvent) -> None:
        if ev.kind not in ("done", "skipped", "failed"):
            return
        status = {"done": "downloaded", "skipped": "skipped", "failed": "failed"}[ev.kind]
        record: dict[str, Any] = {"key": ev.key, "status": status, "path": ev.path, "size": ev.size}
        if ev.kind == "failed":
            record.update(reason=ev.reason.value if ev.reason else None, message=ev.detail)
        else:
            record.update(
                verified=ev.checksum is not None or ev.detail == FOLDER_MARKER,
                checksum=ev.checksum,
                **({"reason": ev.detail} if ev.kind == "skipped" else {}),
            )
        with lock:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")

    return json_line


def pace(size: int, seconds: float) -> str:
    """``in 2.5 s, 4.1 MiB/s`` for a download summary."""
    per_second = size / seconds if seconds > 0 else 0.0
    return f"in {seconds:.1f} s, {human(int(per_second))}/s"


def download_columns() -> tuple[ProgressColumn, ...]:
    """The progress bar of every download command."""
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )


@app.command(
    "download",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap download @evidence ./snaps --prefix app1/room1/ -j 16",
        "rtcsnap download 's3://snaps/rtc?region=us-east-1' ./snaps --key rtc/app1/room1/a.jpg",
        "rtcsnap download @evidence ./snaps -q --json > report.jsonl",
    ),
)
@TARGET
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prefix", default="", help="Only keys under this prefix (relative to the target).")
@click.option("--key", "keys", multiple=True, help="Download exactly this full key (repeatable).")
@concurrency_option("Objects downloaded at once.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON line per object on stdout, then a summary line."
)
@credential_options
def download_cmd(
    target: str,
    dest: Path,
    prefix: str,
    keys: tuple[str, ...],
    concurrency: int,
    quiet: bool,
    as_json: bool,
    access_key: str | None,
    secret_key: str | None,
) -> int:
    """Download objects atomically into DEST; each file is verified before it takes its name, and
    a re-run skips what an earlier run verified (journal in DEST/.rtcsnap)."""
    t = _target(target, "read", access_key, secret_key)
    show = not quiet and not as_json and err.is_terminal
    json_line = json_printer()
    columns = download_columns()
    with Progress(*columns, console=err, disable=not show) as bar:
        task = bar.add_task("listing", total=0)
        files = listed = 0

        def on_event(ev: ProgressEvent) -> None:
            nonlocal files, listed
            if as_json:
                json_line(ev)
            if not show:
                return
            if ev.kind == "listed":  # the total grows as the listing streams in: say so
                listed += 1
                bar.update(task, total=(bar.tasks[0].total or 0) + ev.size)
            elif ev.kind in ("bytes", "skipped"):
                bar.advance(task, ev.size)
            if ev.kind in ("done", "skipped", "failed"):
                files += 1
            if ev.kind in ("listed", "done", "skipped", "failed"):
                bar.update(task, description=f"{files} done of {listed} listed so far")

        started = time.monotonic()
        report = download(
            t,
            dest,
            keys=list(keys) or None,
            prefix=prefix,
            concurrency=concurrency,
            progress=on_event if (show or as_json) else None,
            manager=manager(),
        )
    seconds = time.monotonic() - started
    complete = len(report.skipped) - len(report.folder_markers)
    summary = {
        "listed": report.listed,
        "downloaded": len(report.downloaded),
        "skipped": len(report.skipped),
        "skipped_complete": complete,
        "skipped_folder_markers": len(report.folder_markers),
        "failed": len(report.failed),
        "unverified": len(report.unverified),
        "bytes": report.bytes,
        "seconds": round(seconds, 3),
    }
    if as_json:
        print(json.dumps({"summary": summary}))
        return EXIT_OK if report.ok else EXIT_REMOTE
    for f in report.failed:
        print(f"failed: {printable(f.key)}: {f.reason.value}: {printable(f.message)}", file=sys.stderr)
    unverified = f" ({len(report.unverified)} unverified: no checksum)" if report.unverified else ""
    print(
        f"listed {report.listed}: downloaded {len(report.downloaded)}, skipped {len(report.skipped)} "
        f"({complete} complete, {len(report.folder_markers)} folder markers), "
        f"failed {len(report.failed)}{unverified}; {report.bytes} bytes ({human(report.bytes)}) "
        f"{pace(report.bytes, seconds)}"
    )
    return EXIT_OK if report.ok else EXIT_REMOTE
