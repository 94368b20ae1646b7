"""Storage commands: providers, storage-config, verify, ls, download."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from rtcsnap.cli.app import EXIT_OK, EXIT_REMOTE, app, manager
from rtcsnap.storage import download, iter_objects, resolve, verify
from rtcsnap.storage.transfer import ProgressEvent
from rtcsnap.target import StorageTarget

# Piped output is for scripts: never truncate table cells to 80 columns there.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def credential_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--access-key/--secret-key (or RTCSNAP_ACCESS_KEY/RTCSNAP_SECRET_KEY); else the provider's usual env."""
    fn = click.option(
        "--secret-key",
        envvar="RTCSNAP_SECRET_KEY",
        help="Secret key; prefer the RTCSNAP_SECRET_KEY environment variable.",
    )(fn)
    return click.option(
        "--access-key",
        envvar="RTCSNAP_ACCESS_KEY",
        help="Access key (default: the provider's usual environment, e.g. the AWS chain for s3://).",
    )(fn)


TARGET = click.argument("target", metavar="TARGET")


def _target(url: str, access_key: str | None, secret_key: str | None) -> StorageTarget:
    return StorageTarget.parse(url, access_key=access_key, secret_key=secret_key)


@app.command()
def providers() -> None:
    """List installed storage providers, their StorageConfig Type/Vendor and capabilities."""
    mgr = manager()
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
    out.print(table)
    for error in mgr.errors:
        out.print(f"load error: {error}")


@app.command("storage-config")
@TARGET
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of ******.")
@credential_options
def storage_config(target: str, show_secrets: bool, access_key: str | None, secret_key: str | None) -> None:
    """Print the StartSnapshot StorageConfig JSON for TARGET (secrets masked)."""
    provider, t = resolve(_target(target, access_key, secret_key), manager())
    config = provider.storage_config(t)
    print(json.dumps(config.to_wire(mask_secrets=not show_secrets), indent=2, ensure_ascii=False))


@app.command("verify")
@TARGET
@click.option(
    "--for",
    "use",
    type=click.Choice(["rtc", "read", "all"]),
    default="all",
    show_default=True,
    help="Which use decides the exit code: rtc (write), read (read+list) or all.",
)
@credential_options
def verify_cmd(
    target: str, use: Literal["rtc", "read", "all"], access_key: str | None, secret_key: str | None
) -> int:
    """Probe TARGET's bucket and credentials: one row per capability, with the failure reason."""
    report = verify(_target(target, access_key, secret_key), manager=manager())
    table = Table(box=None, pad_edge=False)
    for col in ("capability", "status", "reason", "detail"):
        table.add_column(col)
    style = {"ok": "green", "failed": "red", "skipped": "yellow", "unsupported": "dim"}
    for p in report.probes:
        table.add_row(
            p.capability, f"[{style[p.status]}]{p.status}[/]", p.reason.value if p.reason else "", p.detail
        )
    out.print(f"{report.provider} {report.target}  (probe object: {report.probe_key})")
    out.print(table)
    out.print(f"fit for RTC (write): {'yes' if report.fit_for_rtc else 'no'}")
    out.print(f"fit for retrieval (read+list): {'yes' if report.fit_for_retrieval else 'no'}")
    if report.reason is not None:
        out.print(f"reason: {report.reason.value} — {report.reason.describe}")
    for note in report.notes:
        out.print(f"note: {note}")
    return EXIT_OK if report.fit_for(use) else EXIT_REMOTE


@app.command("ls")
@TARGET
@click.argument("prefix", default="")
@click.option("--long", "-l", "long", is_flag=True, help="Also print size and last-modified time.")
@click.option("--page-size", type=click.IntRange(1, 1000), default=1000, show_default=True)
@credential_options
def ls(
    target: str, prefix: str, long: bool, page_size: int, access_key: str | None, secret_key: str | None
) -> None:
    """Stream the object keys under TARGET[/PREFIX] as they are listed."""
    write = sys.stdout.write
    for info in iter_objects(
        _target(target, access_key, secret_key), prefix, page_size=page_size, manager=manager()
    ):
        if long:
            when = info.last_modified.isoformat() if info.last_modified else "-"
            write(f"{info.size:>12} {when} {info.key}\n")
        else:
            write(info.key + "\n")


@app.command("download")
@TARGET
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--prefix", default="", help="Only keys under this prefix (relative to the target).")
@click.option("--key", "keys", multiple=True, help="Download exactly this full key (repeatable).")
@click.option("--concurrency", "-j", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@credential_options
def download_cmd(
    target: str,
    dest: Path,
    prefix: str,
    keys: tuple[str, ...],
    concurrency: int,
    quiet: bool,
    access_key: str | None,
    secret_key: str | None,
) -> int:
    """Download objects atomically into DEST; complete files are skipped, so a re-run resumes."""
    t = _target(target, access_key, secret_key)
    show = not quiet and err.is_terminal
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, disable=not show) as bar:
        task = bar.add_task("listing", total=0)
        files = 0

        def on_event(ev: ProgressEvent) -> None:
            nonlocal files
            if ev.kind == "listed":
                bar.update(task, total=(bar.tasks[0].total or 0) + ev.size)
            elif ev.kind in ("bytes", "skipped"):
                bar.advance(task, ev.size)
            if ev.kind in ("done", "skipped", "failed"):
                files += 1
                bar.update(task, description=f"{files} files")

        report = download(
            t,
            dest,
            keys=list(keys) or None,
            prefix=prefix,
            concurrency=concurrency,
            progress=on_event if show else None,
            manager=manager(),
        )
    for f in report.failed:
        err.print(f"failed: {f.key}: {f.reason.value}: {f.message}")
    out.print(
        f"downloaded {len(report.downloaded)}, skipped {len(report.skipped)} (already complete), "
        f"failed {len(report.failed)}; {report.bytes} bytes"
    )
    return EXIT_OK if report.ok else EXIT_REMOTE
