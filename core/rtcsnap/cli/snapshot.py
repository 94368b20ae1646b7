"""OpenAPI commands: start, update, stop, status (GetSnapshotTask).

OpenAPI credentials: the ``--profile`` account's reference, else ``VOLC_ACCESSKEY`` /
``VOLC_SECRETKEY`` (+ ``VOLC_SESSION_TOKEN``) or ``~/.volc/credentials``. An option given on the
command line (or through its environment variable) wins over the profile's value, the profile
over the option's default. Storage credentials for ``--storage``: as for the storage commands
(``@NAME``: its write key, the one RTC is given).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from click.core import ParameterSource

from rtcsnap import profiles
from rtcsnap.cli.app import app, manager
from rtcsnap.cli.helptext import OPENAPI_CREDENTIALS, TargetCommand, examples
from rtcsnap.cli.storage import err, out
from rtcsnap.errors import RtcSnapError, ValidationError
from rtcsnap.models import ApiVersion, StartSnapshotRequest
from rtcsnap.openapi.client import SignedRequest, SnapshotClient
from rtcsnap.storage import resolve
from rtcsnap.target import Credentials

log = logging.getLogger(__name__)

F = Callable[..., Any]


JSON_OPTION = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object on stdout: outcome, app_id, room_id, task_id, request_id, action, version, attempts.",
)


def _outcome_json(outcome: str, fields: dict[str, Any], result: Any, **extra: Any) -> None:
    """The --json schema shared by start, update and stop (docs/json-output.md)."""
    body = {
        "outcome": outcome,
        "app_id": fields["app_id"],
        "room_id": fields["room_id"],
        "task_id": fields["task_id"],
        "business_id": fields.get("business_id"),
        "request_id": result.request_id,
        "action": result.action,
        "version": result.version,
        "attempts": result.attempts,
        **extra,
    }
    print(json.dumps(body, ensure_ascii=False))


def connection_options(fn: F) -> F:
    """--profile/--endpoint/--region/--api-version/--timeout/--dry-run, on every OpenAPI command."""
    opts = [
        click.option(
            "--dry-run",
            is_flag=True,
            help="Print the exact signed HTTP request (secrets masked); send nothing.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 600),
            default=10.0,
            show_default=True,
            help="Seconds per request.",
        ),
        click.option(
            "--api-version",
            type=click.Choice([v.value for v in ApiVersion]),
            default=ApiVersion.V2022_06_01.value,
            show_default=True,
            help="OpenAPI Version of the call (default: the profile's, else 2022-06-01).",
        ),
        click.option(
            "--region",
            "-r",
            default=None,
            help="Signing region (default: the profile's with its endpoint, else the endpoint's; "
            "cn-north-1 for URLs).",
        ),
        click.option(
            "--endpoint",
            envvar="RTCSNAP_ENDPOINT",
            default="cn",
            show_default=True,
            help="cn | overseas | byteplus | any URL (e.g. the emulator's http://127.0.0.1:PORT); "
            "env RTCSNAP_ENDPOINT (default: the profile's, else cn).",
        ),
        click.option(
            "--profile",
            envvar=profiles.PROFILE_ENV,
            metavar="NAME",
            default=None,
            help="An [accounts.NAME] of the config file: endpoint, region, api_version, app_id and "
            f"credentials (env {profiles.PROFILE_ENV}; rtcsnap config path).",
        ),
    ]
    for opt in opts:
        fn = opt(fn)
    return fn


APP_ID = click.option(
    "--app-id",
    envvar="RTCSNAP_APP_ID",
    default=None,
    help="The RTC AppId (env RTCSNAP_APP_ID, else the profile's app_id); required.",
)


def task_options(fn: F) -> F:
    opts = [
        click.option(
            "--task-id", required=True, help="The snapshot task's TaskId (yours to choose at start)."
        ),
        click.option("--room-id", required=True, help="The RTC RoomId."),
        click.option("--business-id", default=None, help="The BusinessId, if the app uses one."),
        APP_ID,
    ]
    for opt in opts:
        fn = opt(fn)
    return fn


@dataclass(frozen=True)
class Connection:
    """Where and as whom an OpenAPI command calls: its options merged with its --profile."""

    endpoint: str
    region: str | None
    api_version: str
    app_id: str
    credentials: Credentials | None

    def client(self, timeout: float) -> SnapshotClient:
        creds = self.credentials
        if creds is None:
            return SnapshotClient(
                endpoint=self.endpoint, region=self.region, api_version=self.api_version, timeout=timeout
            )
        token = creds.session_token.get_secret_value() if creds.session_token is not None else None
        return SnapshotClient(
            creds.access_key,
            creds.secret_key.get_secret_value(),
            token,
            endpoint=self.endpoint,
            region=self.region,
            api_version=self.api_version,
            timeout=timeout,
        )


def connection(
    profile: str | None, endpoint: str, region: str | None, api_version: str, app_id: str | None
) -> Connection:
    """The options of this command merged with the --profile account: an option given on the
    command line or through its environment variable wins; the profile's region goes with its
    endpoint (an --endpoint naming another drops it)."""
    creds = None
    if profile:
        ctx = click.get_current_context()

        def given(name: str) -> bool:
            return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)

        acc = profiles.account(profile)
        creds = acc.credentials
        own_endpoint = not given("endpoint") or acc.endpoint in (None, endpoint)
        if not given("endpoint") and acc.endpoint is not None:
            endpoint = acc.endpoint
        if region is None and own_endpoint:
            region = acc.region
        if not given("api_version") and acc.api_version is not None:
            api_version = acc.api_version
        app_id = app_id or acc.app_id
    if not app_id:
        where = " or the profile's app_id" if profile else " or --profile NAME with an app_id"
        raise click.UsageError(f"Missing option '--app-id' (or RTCSNAP_APP_ID{where}).")
    return Connection(endpoint, region, api_version, app_id, creds)


def iso_ms(ms: int | None) -> str:
    """Epoch milliseconds as an ISO 8601 UTC time with milliseconds (``-`` for none); --json keeps
    the raw numbers."""
    if not ms:
        return "-"
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def _dry(req: SignedRequest, as_json: bool) -> None:
    """--dry-run: the signed request, as text or (--json) as `SignedRequest.to_json`'s object."""
    print(json.dumps(req.to_json(), ensure_ascii=False) if as_json else req.describe())


def _warn_prefix(prefix: str) -> None:
    """One line on stderr: a prefix in --storage does not reach RTC (StorageConfig has no such field)."""
    print(
        f"warning: prefix {prefix!r} is not sent: StorageConfig has no prefix field, so RTC writes under "
        "its own key layout at the bucket root (the prefix still scopes ls/download)",
        file=sys.stderr,
    )


@app.command(
    "start",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap start --app-id A --room-id R --task-id T --storage 's3://snaps/rtc?region=us-east-1'",
        "rtcsnap start --profile prod --room-id R --task-id T --storage @evidence --verify-storage",
        "rtcsnap start --profile prod --room-id R --task-id T --storage @evidence --stream alice "
        "--stream bob:screen --interval 5 --format png",
        "rtcsnap start --endpoint http://127.0.0.1:8000 --app-id A --room-id R --task-id T --storage @evidence --dry-run",
        note=OPENAPI_CREDENTIALS,
    ),
)
@task_options
@click.option(
    "--stream",
    "streams",
    multiple=True,
    metavar="USER_ID[:STREAM_TYPE]",
    help="Repeatable; STREAM_TYPE 0|main (default) or 1|screen; none = all streams.",
)
@click.option("--max-idle-time", type=int, default=None, help="Seconds (default 180).")
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["jpeg", "png"]),
    default=None,
    help="Image format (default jpeg).",
)
@click.option("--width", type=int, default=None, help="Image width in pixels (default: the stream's).")
@click.option("--height", type=int, default=None, help="Image height in pixels (default: the stream's).")
@click.option("--interval", type=int, default=None, help="Seconds between snapshots (1-600, default 2).")
@click.option(
    "--storage",
    "storage",
    required=True,
    metavar="TARGET",
    help="Storage URL or @NAME (its write key); its provider builds StorageConfig.",
)
@click.option("--verify-storage", is_flag=True, help="Probe that the storage key can write before sending.")
@click.option(
    "--storage-access-key",
    envvar="RTCSNAP_ACCESS_KEY",
    help="Key RTC writes with (env RTCSNAP_ACCESS_KEY; default: @NAME's write key, else the provider's env).",
)
@click.option(
    "--storage-secret-key",
    envvar="RTCSNAP_SECRET_KEY",
    help="Its secret; prefer the RTCSNAP_SECRET_KEY variable.",
)
@JSON_OPTION
@connection_options
def start_cmd(
    app_id: str | None,
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
    profile: str | None,
) -> None:
    """StartSnapshot: screenshot streams of a room every --interval seconds into --storage.

    The target itself goes to the client (`storage=`), so --verify-storage probes exactly it,
    endpoint and options included, not a target rebuilt from the StorageConfig.
    """
    from rtcsnap.cli.storage import _target

    conn = connection(profile, endpoint, region, api_version, app_id)
    app_id = conn.app_id
    target = _target(storage, "write", storage_access_key, storage_secret_key)
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
        api_version=ApiVersion(conn.api_version), storage_config=provider.storage_config(resolved), **fields
    )
    if resolved.prefix:
        _warn_prefix(resolved.prefix)
    with conn.client(timeout) as client:
        if dry_run:
            return _dry(client.prepare("StartSnapshot", request), as_json)
        result = client.start(storage=resolved, verify_storage=verify_storage, **fields)
        differs = _running_differs(client, request) if result.outcome == "already_started" else []
    if as_json:
        _outcome_json(result.outcome, fields, result, differences=differs)
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


@app.command(
    "update",
    epilog=examples(
        "rtcsnap update --app-id A --room-id R --task-id T --interval 10",
        "rtcsnap update --profile prod --room-id R --task-id T --interval 10 --json",
        note=OPENAPI_CREDENTIALS,
    ),
)
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
    app_id: str | None,
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
    profile: str | None,
) -> None:
    """UpdateSnapshot: change the interval of a running task."""
    conn = connection(profile, endpoint, region, api_version, app_id)
    app_id = conn.app_id
    fields = {**_ids(app_id, business_id, room_id, task_id), "image_config": {"interval": interval}}
    with conn.client(timeout) as client:
        if dry_run:
            return _dry(client.prepare("UpdateSnapshot", **fields), as_json)
        result = client.update(**fields)
    if as_json:
        return _outcome_json("updated", fields, result, interval=interval)
    out.print(f"updated: {app_id}/{room_id}/{task_id} interval={interval}s RequestId={result.request_id}")


@app.command(
    "stop",
    epilog=examples(
        "rtcsnap stop --app-id A --room-id R --task-id T",
        "rtcsnap stop --profile prod --room-id R --task-id T --json",
        note=OPENAPI_CREDENTIALS,
    ),
)
@task_options
@JSON_OPTION
@connection_options
def stop_cmd(
    app_id: str | None,
    business_id: str | None,
    room_id: str,
    task_id: str,
    as_json: bool,
    endpoint: str,
    region: str | None,
    api_version: str,
    timeout: float,
    dry_run: bool,
    profile: str | None,
) -> None:
    """StopSnapshot: end a running task (stopped, or already_stopped)."""
    conn = connection(profile, endpoint, region, api_version, app_id)
    app_id = conn.app_id
    fields = _ids(app_id, business_id, room_id, task_id)
    with conn.client(timeout) as client:
        if dry_run:
            return _dry(client.prepare("StopSnapshot", **fields), as_json)
        result = client.stop(**fields)
    if as_json:
        return _outcome_json(result.outcome, fields, result)
    out.print(f"{result.outcome}: {app_id}/{room_id}/{task_id} RequestId={result.request_id}")


@app.command(
    "status",
    epilog=examples(
        "rtcsnap status --app-id A --room-id R --task-id T",
        "rtcsnap status --profile prod --room-id R --task-id T --json | jq .Status",
        "RTCSNAP_PROFILE=prod rtcsnap status --room-id R --task-id T --api-version 2023-11-01",
        note=OPENAPI_CREDENTIALS,
    ),
)
@APP_ID
@click.option("--room-id", required=True, help="The RTC RoomId.")
@click.option("--task-id", required=True, help="The TaskId; for console auto-snapshot tasks: the UserId.")
@click.option("--json", "as_json", is_flag=True, help="Print the task as wire JSON (secrets masked).")
@connection_options
def status_cmd(
    app_id: str | None,
    room_id: str,
    task_id: str,
    as_json: bool,
    endpoint: str,
    region: str | None,
    api_version: str,
    timeout: float,
    dry_run: bool,
    profile: str | None,
) -> None:
    """GetSnapshotTask: status, stop reason and the effective configuration (secrets masked)."""
    conn = connection(profile, endpoint, region, api_version, app_id)
    app_id = conn.app_id
    fields: dict[str, Any] = {"app_id": app_id, "room_id": room_id, "task_id": task_id}
    with conn.client(timeout) as client:
        if dry_run:
            return _dry(client.prepare("GetSnapshotTask", **fields), as_json)
        result = client.get_task(**fields)
    task = result.task
    if task is None:
        if as_json:
            print("null")  # the document is the task; there is none
            return
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
