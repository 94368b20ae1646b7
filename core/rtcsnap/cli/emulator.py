"""`rtcsnap emulator serve`: the local snapshot OpenAPI, for development and demos."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rtcsnap.cli.app import app
from rtcsnap.cli.helptext import examples
from rtcsnap.cli.serving import announcer, endpoint_of, listen
from rtcsnap.emulator.object_keys import DEFAULT_TEMPLATE
from rtcsnap.errors import ConfigurationError

if TYPE_CHECKING:
    from rtcsnap.emulator.callbacks import CallbackSender


@app.group(
    "emulator",
    epilog=examples(
        "RTCSNAP_EMULATOR_KEYS=AK:SK rtcsnap emulator serve --port 8000",
        "rtcsnap emulator storage s3 --bucket snaps",
        "rtcsnap emulator room publish app1 room1 alice",
    ),
)
def emulator_group() -> None:
    """The local emulator of the snapshot OpenAPI."""


def _keys(access_keys: tuple[str, ...], secret_keys: tuple[str, ...]) -> dict[str, str]:
    if len(access_keys) != len(secret_keys):
        raise ConfigurationError("--access-key and --secret-key must come in pairs")
    keys = dict(zip(access_keys, secret_keys, strict=True))
    for pair in filter(None, os.environ.get("RTCSNAP_EMULATOR_KEYS", "").split(",")):
        ak, sep, sk = pair.partition(":")
        if not sep or not ak or not sk:
            raise ConfigurationError("RTCSNAP_EMULATOR_KEYS: expected AK:SK[,AK:SK...]")
        keys[ak.strip()] = sk.strip()
    if not keys and os.environ.get("VOLC_ACCESSKEY") and os.environ.get("VOLC_SECRETKEY"):
        keys[os.environ["VOLC_ACCESSKEY"]] = os.environ["VOLC_SECRETKEY"]
    if not keys:
        raise ConfigurationError(
            "emulator: no key pairs: pass --access-key AK --secret-key SK, or set RTCSNAP_EMULATOR_KEYS=AK:SK"
        )
    return keys


# The kinds of `rtcsnap.testing.storage_servers.KINDS`, spelled out: importing the test kit here
# would cost every CLI start ~1 s (a test checks the two lists agree).
STORAGE_KINDS = ("s3", "tos", "veimagex", "oss", "obs", "cos", "kodo")


@emulator_group.command(
    "serve",
    epilog=examples(
        "rtcsnap emulator serve --access-key AK --secret-key SK",
        "RTCSNAP_EMULATOR_KEYS=AK:SK rtcsnap emulator serve --port 0 --json -q",
        "rtcsnap emulator serve --rooms rooms.toml --storage-endpoint s3=http://127.0.0.1:9000 "
        "--callback-url http://127.0.0.1:8080/ --callback-secret S",
        note="Then: rtcsnap start --endpoint http://127.0.0.1:8000 … (docs/emulator.md).",
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: a free port."
)
@click.option("--access-key", "access_keys", multiple=True, help="Repeatable, paired with --secret-key.")
@click.option(
    "--secret-key", "secret_keys", multiple=True, help="Repeatable; prefer RTCSNAP_EMULATOR_KEYS=AK:SK,..."
)
@click.option(
    "--region", "-r", default="cn-north-1", show_default=True, help="Signing region the gateway expects."
)
@click.option("--legacy-200-errors", is_flag=True, help="Answer 2022-06-01 errors with HTTP 200 + Error.")
@click.option(
    "--rooms", "rooms_file", type=click.Path(dir_okay=False, path_type=Path), help="Rooms TOML file."
)
@click.option(
    "--storage-endpoint",
    "storage_endpoints",
    multiple=True,
    metavar="KIND=URL",
    help=f"Repeatable: write storage KIND ({' '.join(STORAGE_KINDS)}) to a local server.",
)
@click.option(
    "--storage-key",
    "storage_keys",
    multiple=True,
    metavar="KIND=AK:SK",
    help="Repeatable: the key RTC's own authorization stands for (tos, veimagex).",
)
@click.option(
    "--object-key-template",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="Object key of each image; placeholders AppId RoomId TaskId BusinessId UserId StreamType "
    "Index TimeStamp ext.",
)
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("rtcsnap-emulator-backup"),
    show_default=True,
    help="Images whose upload failed for good are kept here (created when first needed).",
)
@click.option("--callback-url", help="POST a signed SnapshotRealTimeData callback per stored image here.")
@click.option("--callback-secret", help="The callback secret (prefer RTCSNAP_CALLBACK_SECRET).")
@click.option(
    "--callback-chaos",
    metavar="SPEC",
    help="e.g. duplicate=0.1,reorder=0.05,delay=0.1,bad_signature=0.05,fail_before_retry=0.1,seed=7",
)
@click.option("--workers", type=click.IntRange(1, 256), default=8, show_default=True, help="Capture threads.")
@click.option("--json", "as_json", is_flag=True, help='One ready line {"endpoint": URL, "pid": N} on stdout.')
@click.option("--quiet", "-q", is_flag=True, help="No access log.")
def serve_cmd(
    host: str,
    port: int,
    access_keys: tuple[str, ...],
    secret_keys: tuple[str, ...],
    region: str,
    legacy_200_errors: bool,
    rooms_file: Path | None,
    storage_endpoints: tuple[str, ...],
    storage_keys: tuple[str, ...],
    object_key_template: str,
    backup_dir: Path,
    callback_url: str | None,
    callback_secret: str | None,
    callback_chaos: str | None,
    workers: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Serve the emulator (OpenAPI, snapshot engine, control API) until Ctrl+C.

    Keys also from RTCSNAP_EMULATOR_KEYS or VOLC_ACCESSKEY/VOLC_SECRETKEY."""
    from rtcsnap.emulator import Emulator, EmulatorConfig, serve
    from rtcsnap.emulator.engine import EngineConfig
    from rtcsnap.emulator.object_keys import KeyTemplate
    from rtcsnap.emulator.rooms import load_rooms
    from rtcsnap.emulator.uploads import StorageRouting, Uploader

    keys = _keys(access_keys, secret_keys)
    rooms = load_rooms(rooms_file) if rooms_file is not None else []
    routing = StorageRouting.parse(storage_endpoints, storage_keys)
    unknown = sorted(set(routing.endpoints) - set(STORAGE_KINDS))
    if unknown:
        raise ConfigurationError(
            f"--storage-endpoint: unknown KIND {unknown[0]!r} (known: {' '.join(STORAGE_KINDS)})"
        )
    engine_config = EngineConfig(KeyTemplate(object_key_template), backup_dir=backup_dir, workers=workers)
    callbacks = _callback_sender(callback_url, callback_secret, callback_chaos)
    sock = listen(host, port)
    emulator = Emulator(
        EmulatorConfig(keys=keys, region=region, legacy_200_errors=legacy_200_errors), rooms=rooms
    )
    emulator.attach_engine(Uploader(routing), callbacks=callbacks, config=engine_config)
    endpoint = endpoint_of(sock, host)
    ready = announcer(
        endpoint,
        lambda: (
            f"rtcsnap emulator on {endpoint} (region {region}; keys: {', '.join(keys)}; "
            f"rooms: {len(rooms)}; callbacks: {callback_url or 'off'})"
        ),
        as_json,
    )

    try:
        serve(emulator, sock=sock, access_log=not quiet, on_ready=ready)
    finally:
        emulator.close()


def _callback_sender(url: str | None, secret: str | None, chaos: str | None) -> CallbackSender | None:
    from rtcsnap.emulator.callbacks import CallbackSender, Chaos

    secret = secret or os.environ.get("RTCSNAP_CALLBACK_SECRET")
    if url is None:
        if chaos:
            raise ConfigurationError("--callback-chaos needs --callback-url")
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"--callback-url {url!r}: expected an http(s):// URL")
    if not secret:
        raise ConfigurationError("--callback-url needs --callback-secret or RTCSNAP_CALLBACK_SECRET")
    try:
        plan = Chaos.parse(chaos) if chaos else None
    except ValueError as exc:
        raise ConfigurationError(f"--callback-chaos: {exc}") from None
    return CallbackSender(url, secret, chaos=plan)


def _key_pair(option: str, value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    ak, sep, sk = value.partition(":")
    if not sep or not ak or not sk:
        raise ConfigurationError(f"{option}: expected AK:SK")
    return ak, sk


@emulator_group.command(
    "storage",
    epilog=examples(
        "rtcsnap emulator storage s3 --bucket snaps",
        "rtcsnap emulator storage tos --bucket snaps --write-only-key WAK:WSK --read-only-key RAK:RSK",
        "rtcsnap emulator storage oss --port 9000 --access-key AK --secret-key SK | jq -r .target",
    ),
)
@click.argument("kind", type=click.Choice(STORAGE_KINDS))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: a free port.")
@click.option(
    "--bucket", "buckets", multiple=True, help="Repeatable; veImageX: service ids. Created at start."
)
@click.option("--access-key", help="The admin key (generated if absent).")
@click.option("--secret-key", help="The admin secret (generated if absent).")
@click.option("--write-only-key", metavar="AK:SK", help="A key that can put but not get, list or delete.")
@click.option("--read-only-key", metavar="AK:SK", help="A key that can get and list but not put or delete.")
def storage_cmd(
    kind: str,
    host: str,
    port: int,
    buckets: tuple[str, ...],
    access_key: str | None,
    secret_key: str | None,
    write_only_key: str | None,
    read_only_key: str | None,
) -> None:
    """Serve a local storage server that checks KIND's real signatures, until SIGINT/SIGTERM.

    Once ready it prints one JSON line on stdout: endpoint, buckets, the admin, write-only and
    read-only keys, and the rtcsnap target URL of the first bucket. It is a test server: the
    line holds its secrets on purpose."""
    import signal
    import threading

    from rtcsnap.testing.storage_servers import open_server

    if (access_key is None) != (secret_key is None):
        raise ConfigurationError("--access-key and --secret-key go together")
    admin = (access_key, secret_key) if access_key and secret_key else None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open_server(
            kind,
            host=host,
            port=port,
            buckets=buckets,
            admin=admin,
            write_only=_key_pair("--write-only-key", write_only_key),
            read_only=_key_pair("--read-only-key", read_only_key),
        ) as running:
            print(json.dumps(running.describe()), flush=True)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
