"""OpenAPI commands: start, update, stop, status (GetSnapshotTask).

OpenAPI credentials: ``VOLC_ACCESSKEY`` / ``VOLC_SECRETKEY`` (+ ``VOLC_SESSION_TOKEN``) or
``~/.volc/credentials``. Storage credentials for ``--storage``: as for the storage commands.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import click

from rtcsnap.cli.app import app, manager
from rtcsnap.cli.storage import err, out
from rtcsnap.errors import RtcSnapError, ValidationError
from rtcsnap.models import ApiVersion, StartSnapshotRequest
from rtcsnap.openapi.client import SignedRequest, SnapshotClient
from rtcsnap.storage import resolve

log = logging.getLogger(__name__)

F = Callable[..., Any]


JSON_OPTION = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object on stdout: outcome, app_id, room_id, task_id, request_id, action, version, attempts.",
)


def _outcome_json(outcome: str, app_id: str, room_id: str, task_id: str, result: Any, **extra: Any) -> None:
    """The --json schema shared by start, update and stop (documented in the README)."""
    body = {
        "outcome": outcome,
        "app_id": app_id,
        "room_id": room_id,
        "task_id": task_id,
        "request_id": result.request_id,
        "action": result.action,
        "version": result.version,
        "attempts": result.attempts,
        **extra,
    }
    print(json.dumps(body, ensure_ascii=False))


def connection_options(fn: F) -> F:
    """--endpoint/--region/--api-version/--timeout/--dry-run, on every OpenAPI command."""
    opts = [
        click.option(
            "--dry-run",
            is_flag=True,
            help="Print the exact signed HTTP request (secrets masked); send nothing.",
        ),
        click.option(
            "--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True, help="Seconds."
        ),
        click.option(
            "--api-version",
            type=click.Choice([v.value for v in ApiVersion]),
            default=ApiVersion.V2022_06_01.value,
            show_default=True,
        ),
        click.option(
            "--region", default=None, help="Signing region (default: the endpoint's; cn-north-1 for URLs)."
        ),
        click.option(
            "--endpoint",
            envvar="RTCSNAP_ENDPOINT",
            default="cn",
            show_default=True,
            help="cn | overseas | byteplus | any URL (e.g. the emulator's http://127.0.0.1:PORT).",
        ),
    ]
    for opt in opts:
        fn = opt(fn)
    return fn


def task_options(fn: F) -> F:
    opts = [
        click.option("--task-id", required=True),
        click.option("--room-id", required=True),
        click.option("--business-id", default=None),
        click.option("--app-id", required=True, envvar="RTCSNAP_APP_ID"),
    ]
    for opt in opts:
        fn = opt(fn)
    return fn


def iso_ms(ms: int | None) -> str:
    """Epoch milliseconds as an ISO 8601 UTC time with milliseconds (``-`` for none); --json keeps
    the raw numbers."""
    if not ms:
        return "-"
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _client(endpoint: str, region: str | None, api_version: str, timeout: float) -> SnapshotClient:
    return SnapshotClient(endpoint=endpoint, region=region, api_version=api_version, timeout=timeout)


def _ids(app_id: str, business_id: str | None, room_id: str, task_id: str) -> dict[str, Any]:
    ids: dict[str, Any] = {"app_id": app_id, "room_id": room_id, "task_id": task_id}
    if business_id is not None:
        ids["business_id"] = business_id
    return ids


def _streams(values: tuple[str, ...]) -> list[dict[str, Any]]:
    streams = []
    for i, v in enumerate(values):
        user, sep, kind = v.rpartition(":") if ":" in v else (v, "", "")
        if sep and kind not in ("0", "1", "main", "screen"):
            raise ValidationError(f"expected USER_ID[:0|1|main|screen] (got {v!r})", path=f"--stream[{i}]")
        stream: dict[str, Any] = {"user_id": user if sep else v}
        if sep:
            stream["stream_type"] = 1 if kind in ("1", "screen") else 0
        streams.append(stream)
    return streams


def _dry(req: SignedRequest) -> None:
    print(req.describe())


def _warn_prefix(prefix: str) -> None:
    """One line on stderr: a prefix in --storage does not reach RTC (StorageConfig has no such field)."""
    print(
        f"warning: prefix {prefix!r} is not sent: StorageConfig has no prefix field, so RTC writes under "
        "its own key layout at the bucket root (the prefix still scopes ls/download)",
        file=sys.stderr,
    )


@app.command("start")
@task_options
@click.option(
    "--stream",
    "streams",
    multiple=True,
    metavar="USER_ID[:STREAM_TYPE]",
    help="Repeatable; none = all streams.",
)
@click.option("--max-idle-time", type=int, default=None, help="Seconds (default 180).")
@click.option("--format", "image_format", type=click.Choice(["jpeg", "png"]), default=None)
@click.option("--width", type=int, default=None)
@click.option("--height", type=int, default=None)
@click.option("--interval", type=int, default=None, help="Seconds between snapshots (1-600, default 2).")
@click.option(
    "--storage",
    "storage",
    required=True,
    metavar="TARGET",
    help="Storage URL; its provider builds StorageConfig.",
)
@click.option("--verify-storage", is_flag=True, help="Probe that the storage key can write before sending.")
@click.option(
    "--storage-access-key", envvar="RTCSNAP_ACCESS_KEY", help="Key RTC writes with (default: provider's env)."
)
@click.option(
    "--storage-secret-key", envvar="RTCSNAP_SECRET_KEY", help="Prefer the RTCSNAP_SECRET_KEY variable."
)
@JSON_OPTION
@connection_options
def start_cmd(
    app_id: str,
    business_id: str | None,
    room_id: str,
    task_id: str,
    streams: tuple[str, ...],
    max_idle_time: int | None,
    image_format: str | None,
    width: int | None,
    height: int | None,
    interval: int | None,
    storage: str,
    verify_storage: bool,
    storage_access_key: str | None,
    storage_secret_key: str | None,
    as_json: bool,
    endpoint: str,
    region: str | None,
    api_version: str,
    timeout: float,
    dry_run: bool,
) -> None:
    """StartSnapshot: screenshot streams of a room every --interval seconds into --storage.

    The target itself goes to the client (`storage=`), so --verify-storage probes exactly it,
    endpoint and options included, not a target rebuilt from the StorageConfig.
    """
    from rtcsnap.cli.storage import _target

    target = _target(storage, storage_access_key, storage_secret_key)
    provider, resolved = resolve(target, manager())
    image = {
        k: v
        for k, v in (("format", image_format), ("width", width), ("height", height), ("interval", interval))
        if v is not None
    }
    fields: dict[str, Any] = _ids(app_id, business_id, room_id, task_id)
    if streams:
        fields["target_streams"] = _streams(streams)
    if max_idle_time is not None:
        fields["max_idle_time"] = max_idle_time
    if image:
        fields["image_config"] = image
    # validated here, before anything is sent or printed: a usage error stays one line on stderr
    request = StartSnapshotRequest(
        api_version=ApiVersion(api_version), storage_config=provider.storage_config(resolved), **fields
    )
    if resolved.prefix:
        _warn_prefix(resolved.prefix)
    with _client(endpoint, region, api_version, timeout) as client:
        if dry_run:
            return _dry(client.prepare("StartSnapshot", request))
        result = client.start(storage=resolved, verify_storage=verify_storage, **fields)
        differs = _running_differs(client, request) if result.outcome == "already_started" else []
    if as_json:
        _outcome_json(result.outcome, app_id, room_id, task_id, result, differences=differs)
        return
    note = " (the task was already running; nothing changed)" if result.outcome == "already_started" else ""
    out.print(f"{result.outcome}: {app_id}/{room_id}/{task_id}{note} RequestId={result.request_id}")
    if differs:
        err.print(
            "warning: the running task differs from this start in "
            + "; ".join(differs)
            + " — StartSnapshot leaves a running task as it is (update changes the interval; "
            "otherwise stop and start)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


_IDENTITY = ("AppId", "BusinessId", "RoomId", "TaskId")


def differences(asked: Any, running: Any, where: str = "") -> list[str]:
    """Where `running` (GetSnapshotTask's effective config) disagrees with what `asked` set; keys
    the answer does not carry are not differences (it may omit defaults)."""
    if isinstance(asked, dict) and isinstance(running, dict):
        found: list[str] = []
        for key, value in asked.items():
            if key in running and not (not where and key in _IDENTITY):
                found += differences(value, running[key], f"{where}.{key}" if where else key)
        return found
    if isinstance(asked, list) and isinstance(running, list) and len(asked) == len(running):
        return [
            d
            for n, (a, r) in enumerate(zip(asked, running, strict=True))
            for d in differences(a, r, f"{where}[{n}]")
        ]
    if asked != running:
        return [
            f"{where}: running {json.dumps(running, ensure_ascii=False)}, asked {json.dumps(asked, ensure_ascii=False)}"
        ]
    return []


def _running_differs(client: SnapshotClient, request: StartSnapshotRequest) -> list[str]:
    """The differences of the already running task (secrets masked on both sides); nothing when
    its config cannot be read — the start itself succeeded."""
    try:
        task = client.get_task(app_id=request.app_id, room_id=request.room_id, task_id=request.task_id).task
    except RtcSnapError as exc:
        log.debug("could not compare with the running task: %s", exc)
        return []
    if task is None:
        return []
    return differences(request.to_wire(mask_secrets=True), task.to_wire(mask_secrets=True))


@app.command("update")
@task_options
@click.option(
    "--interval",
    type=int,
    required=True,
    help="New interval in seconds (the only field UpdateSnapshot changes).",
)
@JSON_OPTION
@connection_options
def update_cmd(
    app_id: str,
    business_id: str | None,
    room_id: str,
    task_id: str,
    interval: int,
    as_json: bool,
    endpoint: str,
    region: str | None,
    api_version: str,
    timeout: float,
    dry_run: bool,
) -> None:
    """UpdateSnapshot: change the interval of a running task."""
    fields = {**_ids(app_id, business_id, room_id, task_id), "image_config": {"interval": interval}}
    with _client(endpoint, region, api_version, timeout) as client:
        if dry_run:
            return _dry(client.prepare("UpdateSnapshot", **fields))
        result = client.update(**fields)
    if as_json:
        return _outcome_json("updated", app_id, room_id, task_id, result, interval=interval)
    out.print(f"updated: {app_id}/{room_id}/{task_id} interval={interval}s RequestId={result.request_id}")


@app.command("stop")
@task_options
@JSON_OPTION
@connection_options
def stop_cmd(
    app_id: str,
    business_id: str | None,
    room_id: str,
    task_id: str,
    as_json: bool,
    endpoint: str,
    region: str | None,
    api_version: str,
    timeout: float,
    dry_run: bool,
) -> None:
    """StopSnapshot."""
    fields = _ids(app_id, business_id, room_id, task_id)
    with _client(endpoint, region, api_version, timeout) as client:
        if dry_run:
            return _dry(client.prepare("StopSnapshot", **fields))
        result = client.stop(**fields)
    if as_json:
        return _outcome_json(result.outcome, app_id, room_id, task_id, result)
    out.print(f"{result.outcome}: {app_id}/{room_id}/{task_id} RequestId={result.request_id}")


@app.command("status")
@click.option("--app-id", required=True, envvar="RTCSNAP_APP_ID")
@click.option("--room-id", required=True)
@click.option("--task-id", required=True, help="For console auto-snapshot tasks: the UserId.")
@click.option("--json", "as_json", is_flag=True, help="Print the task as wire JSON.")
@connection_options
def status_cmd(
    app_id: str,
    room_id: str,
    task_id: str,
    as_json: bool,
    endpoint: str,
    region: str | None,
    api_version: str,
    timeout: float,
    dry_run: bool,
) -> None:
    """GetSnapshotTask: status, stop reason and the effective configuration (secrets masked)."""
    fields: dict[str, Any] = {"app_id": app_id, "room_id": room_id, "task_id": task_id}
    with _client(endpoint, region, api_version, timeout) as client:
        if dry_run:
            return _dry(client.prepare("GetSnapshotTask", **fields))
        result = client.get_task(**fields)
    task = result.task
    if task is None:
        out.print(f"no task in the answer RequestId={result.request_id}")
        return
    wire = task.to_wire(mask_secrets=True)
    if as_json:
        print(json.dumps(wire, indent=2, ensure_ascii=False))
        return
    status = getattr(task.status, "name", str(task.status)).lower()
    out.print(
        f"{app_id}/{room_id}/{task_id}: {status}" + (f" ({task.stop_reason})" if task.stop_reason else "")
    )
    out.print(
        f"  started {iso_ms(task.start_time)}, ended {iso_ms(task.end_time)}, RequestId={result.request_id}"
    )
    for key in ("ImageConfig", "MaxIdleTime", "TargetStreams", "StorageConfig"):
        if key in wire:
            out.print(f"  {key}: {json.dumps(wire[key], ensure_ascii=False)}")
