"""What the demo does, in the order a user does it, against services on loopback.

verify the storage keys → StartSnapshot (storage verified first) → watch the capture live →
UpdateSnapshot halfway → StopSnapshot → the installed plugins' snapshot hooks finish (moderation
judges every image) → reconcile index and bucket (manifest) → download → contact sheet → report. Every stage checks what it promised (the keys fit, every upload was
indexed, the manifest is complete, every image downloaded and verified) and fails naming itself.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rtcsnap.demo.services import APP_ID, OPENAPI_KEY, ROOM_ID, STREAMS, TASK_ID, DemoServices
from rtcsnap.demo.stages import Stages
from rtcsnap.errors import ConfigurationError

STAGES = (
    "storage",
    "services",
    "verify",
    "start",
    "capture",
    "stop",
    "hooks",
    "manifest",
    "download",
    "contact sheet",
    "report",
)
MARKER = ".rtcsnap-demo"
"""File that marks a folder as the demo's own output, which a later run may replace."""
FIRST_INTERVAL, SECOND_INTERVAL = 2, 1
IMAGE = {"format": 0, "width": 640, "height": 360}
MIN_SECONDS = 4.0
HOOKS_TIMEOUT = 180.0
"""How long the hooks stage waits for the plugins to finish every image (models judging ~100 ms
of CPU per image on a busy 2-core machine: minutes would be a hang, not slowness)."""


@dataclass(frozen=True)
class DemoOptions:
    """`storage`: the local server kind; `seconds`: how long the task captures; `out`: the
    output folder; `keep`: leave it (False: remove it once the demo succeeded)."""

    storage: str = "s3"
    seconds: float = 20.0
    out: Path = Path("rtcsnap-demo")
    keep: bool = True


@dataclass
class DemoResult:
    out: Path
    images: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    sheet: Path | None = None
    report: Path | None = None


def prepare_out(out: Path) -> Path:
    """An empty output folder: `out` created, or a previous demo's output replaced. Refuses a
    non-empty folder that is not the demo's (`ConfigurationError`, exit 2: nothing started)."""
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ConfigurationError(
                f"--out {out}: a non-empty folder the demo did not create; choose another --out or empty it"
            )
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("output of `rtcsnap demo`; a later run replaces this folder\n")
    except OSError as exc:
        raise ConfigurationError(f"--out {out}: cannot write there: {exc.strerror or exc}") from None
    return out


def _capabilities(console: Console, reports: dict[str, Any]) -> None:
    table = Table(title="storage keys, probed one capability at a time", title_justify="left")
    table.add_column("capability")
    for name in reports:
        table.add_column(name)
    first = next(iter(reports.values()))
    for i, probe in enumerate(first.probes):
        cells = []
        for report in reports.values():
            p = report.probes[i]
            cells.append(p.status + (f" ({p.reason.value})" if p.reason else ""))
        table.add_row(probe.capability, *cells)
    console.print(table)


def run_demo(options: DemoOptions, console: Console) -> DemoResult:
    """Run every stage; raises `DemoFailed` naming the stage that failed."""
    if not MIN_SECONDS <= options.seconds <= 600:
        raise ConfigurationError(f"--seconds: must be between {MIN_SECONDS:g} and 600")
    out = prepare_out(options.out)
    stages = Stages(console, STAGES)
    result = DemoResult(out)
    try:
        with contextlib.ExitStack() as stack:
            from rtcsnap.demo.services import demo_services, storage_server

            with stages.run("storage", f"a local {options.storage} server, a write-only and a read-only key"):
                running = stack.enter_context(storage_server(options.storage))
                console.print(f"  {running.kind} at {running.endpoint}, bucket {running.buckets[0]}")
            with stages.run("services", "the emulator and the callback receiver"):
                services = stack.enter_context(demo_services(running, out / "index.db"))
                console.print(f"  emulator {services.emulator_url}   receiver {services.receiver_url}")
                console.print(f"  room {APP_ID}/{ROOM_ID}: alice (camera), bob (camera + screen share)")
            _stages(stages, services, options, result, console)
    except KeyboardInterrupt:
        raise DemoInterrupted(stages.current) from None
    if not options.keep:
        shutil.rmtree(out)
        console.print(f"removed {out} (--clean)")
    return result


class DemoInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM; `stage` is the one running (every service was stopped)."""

    def __init__(self, stage: str | None) -> None:
        super().__init__(stage)
        self.stage = stage


def _stages(
    stages: Stages, svc: DemoServices, options: DemoOptions, result: DemoResult, console: Console
) -> None:
    from rtcsnap.callbacks.manifest import local_path, manifest, record_key, task_records
    from rtcsnap.demo.live import watch
    from rtcsnap.demo.report import path_key, write_report
    from rtcsnap.demo.sheet import Change, Shot, contact_sheet
    from rtcsnap.openapi.client import SnapshotClient
    from rtcsnap.storage import download, verify

    out = result.out
    ids: dict[str, Any] = {"app_id": APP_ID, "room_id": ROOM_ID, "task_id": TASK_ID}
    with stages.run("verify", "each key probed, capability by capability"):
        rtc = verify(svc.rtc_target)
        read = verify(svc.read_target)
        _capabilities(console, {"RTC key (write-only)": rtc, "retrieval key (read-only)": read})
        console.print(f"  fit for RTC: {rtc.fit_for_rtc}   fit for retrieval: {read.fit_for_retrieval}")
        stages.check(rtc.fit_for_rtc, f"the RTC key is unfit: {rtc.reason}")
        stages.check(read.fit_for_retrieval, f"the retrieval key is unfit: {read.reason}")

    client = SnapshotClient(
        OPENAPI_KEY, svc.openapi_secret, endpoint=svc.emulator_url, api_version="2023-11-01", task_log=None
    )
    changes: list[Change] = []
    with client:
        with stages.run("start", "StartSnapshot, storage verified first"):
            started = client.start(
                **ids,
                storage=svc.rtc_target,
                verify_storage=True,
                image_config={**IMAGE, "interval": FIRST_INTERVAL},
            )
            console.print(f"  {started.outcome}, RequestId {started.request_id}, every {FIRST_INTERVAL} s")

        def halfway() -> str:
            updated = client.update(**ids, image_config={"interval": SECOND_INTERVAL})
            changes.append(Change(int(time.time() * 1000), SECOND_INTERVAL))
            return f"  UpdateSnapshot: every {SECOND_INTERVAL} s from now (RequestId {updated.request_id})"

        with stages.run("capture", f"{options.seconds:g} s, interval changed halfway"):
            watch(
                console,
                seconds=options.seconds,
                streams=STREAMS,
                index=svc.receiver.index,
                task_id=TASK_ID,
                status=lambda: _status(svc),
                accepted=lambda: svc.receiver.metrics["accepted"],
                halfway=halfway,
            )
        with stages.run("stop", "StopSnapshot, uploads and callbacks settled"):
            stopped = client.stop(**ids)
            console.print(f"  {stopped.outcome}, RequestId {stopped.request_id}")
            stages.check(svc.engine.settle(timeout=30), "uploads or callbacks still pending after 30 s")
            status = _status(svc) or {}
            stats = svc.sender.stats
            metrics = svc.receiver.metrics
            console.print(
                f"  engine: {status.get('uploaded')} uploaded, {status.get('callbacks')} callbacks sent; "
                f"receiver: {metrics['accepted']} stored, {metrics['bad_signature']} bad signatures"
            )
            stages.check(stats.failed == 0, f"{stats.failed} callbacks were not delivered")
            stages.check(bool(status.get("uploaded")), "the task stored no image")
            stages.check(
                metrics["accepted"] == status.get("callbacks"),
                "the receiver did not store every callback the engine sent",
            )

    with stages.run("hooks", "the installed plugins' snapshot hooks, every image"):
        verdicts = _hooks(stages, svc, console)

    with stages.run("manifest", "index reconciled with the bucket"):
        m = manifest(svc.receiver.index, APP_ID, ROOM_ID, TASK_ID, svc.read_target)
        (out / "manifest.json").write_text(json.dumps(m.to_json(), indent=2, default=str) + "\n")
        result.counts = m.counts
        console.print(f"  {counts_line(m.counts)}  →  {out / 'manifest.json'}")
        stages.check(m.complete and not m.unindexed, f"the manifest is not complete: {m.counts}")
        stages.check(m.counts["present"] == status.get("uploaded"), "the manifest does not hold every upload")

    with stages.run("download", "the task's images, verified"):
        rows = list(task_records(svc.receiver.index, APP_ID, ROOM_ID, TASK_ID))
        paths = {path_key(r): "images/" + local_path(r) for r in rows}
        objects = [(record_key(r), paths[path_key(r)]) for r in rows]
        report = download(svc.read_target, out, objects=objects, concurrency=8)
        console.print(
            f"  downloaded {len(report.downloaded)} ({report.bytes} bytes), "
            f"{len(report.downloaded) - len(report.unverified)} verified by checksum, "
            f"{len(report.unverified)} by size only, failed {len(report.failed)}"
        )
        stages.check(
            report.ok and len(report.downloaded) == len(rows), f"{len(report.failed)} downloads failed"
        )
        result.images = len(rows)

    with stages.run("contact sheet", "one row per stream, in time"):
        flagged = {int(v["snapshot_id"]) for v in verdicts if v["flagged"]}
        shots = [
            Shot(
                str(r["user_id"]),
                int(r["stream_type"]),
                int(r["timestamp_ms"]),
                out / paths[path_key(r)],
                flagged=int(r["id"]) in flagged,
            )
            for r in rows
        ]
        title = f"rtcsnap demo · {APP_ID}/{ROOM_ID}/{TASK_ID} · {options.storage}"
        result.sheet = contact_sheet(
            shots,
            out / "contact-sheet.png",
            title=title,
            interval=FIRST_INTERVAL,
            changes=changes,
            streams=STREAMS,
        )
        console.print(f"  {result.sheet}")

    with stages.run("report", "index.html, every image with its callback"):
        facts = [
            ("task", f"{APP_ID}/{ROOM_ID}/{TASK_ID}"),
            ("storage", svc.read_target.url),
            ("cadence", f"every {FIRST_INTERVAL} s, then every {SECOND_INTERVAL} s"),
            ("callbacks stored", str(svc.receiver.metrics["accepted"])),
        ]
        by_snapshot: dict[int, list[dict[str, Any]]] = {}
        for verdict in verdicts:
            by_snapshot.setdefault(int(verdict["snapshot_id"]), []).append(verdict)
        for source, (judged, hits) in _verdict_counts(verdicts).items():
            facts.append((f"{source}: flagged", f"{hits} of {judged} images"))
        result.report = write_report(
            out / "index.html",
            title=f"rtcsnap demo: {APP_ID}/{ROOM_ID}/{TASK_ID}",
            rows=rows,
            paths=paths,
            facts=facts,
            counts=result.counts,
            sheet="contact-sheet.png",
            verdicts=by_snapshot,
        )
        console.print(f"  {result.report}")


def _hooks(stages: Stages, svc: DemoServices, console: Console) -> list[dict[str, Any]]:
    """Wait for every hook to finish every image, then the verdicts the plugins stored."""
    names = [impl.name for impl in svc.hooks.implementations]
    if not names:
        console.print("  no installed plugin implements rtcsnap_snapshot_received")
        return []
    console.print(f"  hooks of: {', '.join(names)}")
    stages.check(svc.hooks.wait_idle(HOOKS_TIMEOUT), f"the hooks were still busy after {HOOKS_TIMEOUT:g} s")
    metrics = svc.hooks.metrics
    stages.check(metrics["dropped"] == 0, f"{metrics['dropped']} events were left pending (hook queue full)")
    stages.check(
        metrics["failed"] == 0 and metrics["errors"] == 0,
        f"the hooks failed on {metrics['failed']} events (see `rtcsnap snapshots replay-hooks`)",
    )
    verdicts = svc.receiver.index.verdicts()
    for source, (judged, flagged) in _verdict_counts(verdicts).items():
        fired = sorted(
            {rule for v in verdicts if v["source"] == source and v["flagged"] for rule in v["fired"]}
        )
        console.print(
            f"  {source}: {judged} images judged, {flagged} flagged"
            + (f" ({'; '.join(fired)})" if fired else "")
        )
        errors = sum(1 for v in verdicts if v["source"] == source and v["status"] != "ok")
        stages.check(errors == 0, f"{source} could not judge {errors} images")
    console.print(f"  {metrics['done']} events done")
    return verdicts


def _verdict_counts(verdicts: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(images judged, images flagged) by source."""
    counts: dict[str, tuple[int, int]] = {}
    for v in verdicts:
        judged, flagged = counts.get(v["source"], (0, 0))
        counts[v["source"]] = (judged + 1, flagged + bool(v["flagged"]))
    return counts


def counts_line(counts: dict[str, int]) -> str:
    """Manifest counts as a sentence: ``15 indexed, 15 present, 0 missing, …``."""
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


def _status(svc: DemoServices) -> dict[str, Any] | None:
    """The engine's report of the demo task's latest run."""
    runs = [r for r in svc.engine.task_status() if r["task_id"] == TASK_ID]
    return runs[-1] if runs else None


__all__ = ["STAGES", "DemoInterrupted", "DemoOptions", "DemoResult", "counts_line", "prepare_out", "run_demo"]
